"""The topology contract's filters: parts, seeds and links, a host's parts, and the contract's rules."""

from ansible_collections.aiplatform.cluster.plugins.filter.topology import (
    topology_host_etcd_clusters,
    topology_host_parts,
    topology_parts,
    topology_problems,
    topology_seed_links,
    topology_seeds,
)

GROUPS = {"control_plane": "masters", "nodes": "workers", "gpu": "gpu_a100", "monitoring": "prom"}
CLUSTERS = [
    {"name": "main", "group": "etcd_a", "client_port": 2379, "peer_port": 2380, "metrics_port": 2381},
    {
        "name": "events",
        "group": "etcd_b",
        "client_port": 2382,
        "peer_port": 2383,
        "metrics_port": 2384,
        "apiserver_resources": ["/events"],
    },
    {
        "name": "leases",
        "group": "etcd_c",
        "client_port": 2385,
        "peer_port": 2386,
        "metrics_port": 2387,
        "apiserver_resources": ["coordination.k8s.io/leases"],
    },
]
INVENTORY = {
    "masters": ["m1", "m2", "m3"],
    "workers": ["w1", "g1"],
    "gpu_a100": ["g1"],
    "prom": [],
    "etcd_a": ["m1", "m2", "m3"],
    "etcd_b": ["e1", "e2", "e3"],
    "etcd_c": ["m1", "e1", "w1"],
}


def test_parts_name_the_collection_groups():
    assert topology_parts(GROUPS, CLUSTERS) == [
        {"part": "control_plane", "group": "masters", "parents": ["aiplatform_control_plane"]},
        {"part": "nodes", "group": "workers", "parents": ["aiplatform_nodes"]},
        {"part": "gpu", "group": "gpu_a100", "parents": ["aiplatform_gpu"]},
        {"part": "monitoring", "group": "prom", "parents": ["aiplatform_monitoring"]},
        {"part": "etcd", "cluster": "main", "group": "etcd_a", "parents": ["aiplatform_etcd", "aiplatform_etcd_main"]},
        {
            "part": "etcd",
            "cluster": "events",
            "group": "etcd_b",
            "parents": ["aiplatform_etcd", "aiplatform_etcd_events"],
        },
        {
            "part": "etcd",
            "cluster": "leases",
            "group": "etcd_c",
            "parents": ["aiplatform_etcd", "aiplatform_etcd_leases"],
        },
    ]


def test_seeds_are_first_hosts_once_and_skip_empty_groups():
    parts = topology_parts(GROUPS, CLUSTERS)
    assert topology_seeds(parts, INVENTORY) == ["m1", "w1", "g1", "e1"]


def test_seed_links_merge_parents_of_a_group_in_two_parts():
    groups = {"control_plane": "cp", "nodes": "workers", "gpu": "gpu", "monitoring": "cp"}
    parts = topology_parts(groups, [dict(CLUSTERS[0], group="cp")])
    assert topology_seed_links(parts, {"cp": ["a", "b"], "workers": ["w"]}, "a") == [
        {
            "group": "cp",
            "parents": ["aiplatform_control_plane", "aiplatform_monitoring", "aiplatform_etcd", "aiplatform_etcd_main"],
        }
    ]
    assert topology_seed_links(parts, {"cp": ["a", "b"], "workers": ["w"]}, "b") == []


def test_host_parts_and_clusters():
    assert topology_host_parts(["masters", "etcd_a", "etcd_c"], GROUPS, CLUSTERS) == ["control_plane", "etcd"]
    assert topology_host_parts(["workers", "gpu_a100"], GROUPS, CLUSTERS) == ["gpu", "nodes"]
    assert [c["name"] for c in topology_host_etcd_clusters(["etcd_b", "etcd_c"], CLUSTERS)] == ["events", "leases"]
    assert topology_host_etcd_clusters(["workers"], CLUSTERS) == []


def test_good_contract_and_string_ports_from_extra_vars():
    assert topology_problems(GROUPS, CLUSTERS) == []
    assert topology_problems(GROUPS, [dict(CLUSTERS[0], client_port="2379")]) == []


def test_each_broken_rule_is_its_own_message():
    clusters = [
        {"name": "main", "group": "etcd-a", "client_port": 2379, "peer_port": 2379, "metrics_port": 70000},
        {
            "name": "main",
            "group": "etcd_b",
            "client_port": 2382,
            "peer_port": 2383,
            "metrics_port": 2384,
            "apiserver_resources": ["events"],
        },
        {
            "name": "Bad",
            "group": "etcd_c",
            "client_port": 2385,
            "peer_port": 2386,
            "metrics_port": 2387,
            "apiserver_resources": ["/events", "/events"],
        },
    ]
    assert topology_problems({"control_plane": "", "nodes": "workers"}, clusters) == [
        "topology_groups.control_plane: must be an inventory group name (letters, digits, _) (got '')",
        "topology_etcd_clusters[0].group: must be an inventory group name (letters, digits, _) (got 'etcd-a')",
        "topology_etcd_clusters[0].peer_port: must differ from topology_etcd_clusters[0].client_port (got 2379)",
        "topology_etcd_clusters[0].metrics_port: must be a whole number of 1 or more and 65535 or less (got 70000)",
        "topology_etcd_clusters[1].name: must be unique among the clusters (got 'main')",
        "topology_etcd_clusters[1].apiserver_resources: entries must be group/resource (core: /events) (got 'events')",
        "topology_etcd_clusters[2].name: must start with a-z and hold only a-z, 0-9 and _ (got 'Bad')",
        "topology_etcd_clusters[2].apiserver_resources: /events is already kept by Bad",
    ]


def test_exactly_one_main_cluster():
    both_main = [CLUSTERS[0], dict(CLUSTERS[1], apiserver_resources=[])]
    assert topology_problems(GROUPS, both_main) == [
        "topology_etcd_clusters: exactly one cluster must have no apiserver_resources "
        "(the main store of kube-apiserver) (got ['main', 'events'])"
    ]
    assert topology_problems(GROUPS, []) == ["topology_etcd_clusters: must list at least one cluster (got [])"]
