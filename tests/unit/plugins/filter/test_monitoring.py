"""Unit tests for the monitoring filters: jobs and targets from the topology contract, shard placement,
problems."""

import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.cluster.plugins.filter.monitoring import (
    FilterModule,
    duration_ms,
    monitoring_address,
    monitoring_problems,
    monitoring_scrape_jobs,
    monitoring_shard_hosts,
    monitoring_targets,
)

PARTS = ["control_plane", "nodes", "gpu", "monitoring"]
GOOD = {
    "monitoring_scrape_interval": "30s",
    "monitoring_scrape_timeout": "10s",
    "monitoring_evaluation_interval": "30s",
    "monitoring_collector_shards": 2,
    "monitoring_jobs": [
        {
            "name": "node",
            "part": "all",
            "port": 9100,
            "tls": "monitoring",
            "metric_relabel_configs": [{"source_labels": ["__name__"], "regex": "go_.*", "action": "drop"}],
        },
        {"name": "etcd", "part": "etcd", "tls": "etcd", "scrape_interval": "15s"},
        {"name": "custom", "group": "storage_nodes", "port": 9101},
    ],
    "monitoring_alertmanager_receivers": [{"name": "oncall", "type": "webhook", "url": "http://x/alerts"}],
    "monitoring_alertmanager_default_receiver": "oncall",
    "monitoring_alertmanager_routes": [{"matchers": ['severity="critical"'], "receiver": "oncall"}],
}


def with_changes(**changes):
    settings = copy.deepcopy(GOOD)
    settings.update(changes)
    return settings


def test_good_settings_have_no_problem():
    assert monitoring_problems(GOOD, PARTS) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [("30s", 30000), ("1m30s", 90000), ("2h", 7200000), ("500ms", 500), ("1d", 86400000), ("", None), ("5x", None)],
)
def test_duration_ms(value, expected):
    assert duration_ms(value) == expected


def test_scrape_interval_above_evaluation_interval_is_refused():
    problems = monitoring_problems(with_changes(monitoring_scrape_interval="1m"), PARTS)
    assert problems == [
        "monitoring_scrape_interval: is above monitoring_evaluation_interval 30s: "
        "rules would see gaps between samples (got '1m')"
    ]


def test_a_job_scrape_interval_above_evaluation_interval_is_refused():
    settings = with_changes()
    settings["monitoring_jobs"][1]["scrape_interval"] = "2m"
    assert monitoring_problems(settings, PARTS) == [
        "monitoring_jobs[1] (etcd).scrape_interval: is above monitoring_evaluation_interval: rules would see gaps "
        "(got '2m')"
    ]


def test_timeout_above_interval_and_bad_durations_are_refused():
    settings = with_changes(monitoring_scrape_timeout="45s", monitoring_evaluation_interval="soon")
    assert monitoring_problems(settings, PARTS) == [
        "monitoring_evaluation_interval: is not a positive Prometheus duration (got 'soon')",
        "monitoring_scrape_timeout: is above monitoring_scrape_interval 30s (got '45s')",
    ]


def test_receivers_need_their_address_and_routes_a_known_receiver():
    receivers = [{"name": "oncall", "type": "webhook"}, {"name": "pd", "type": "pagerduty"}]
    routes = [{"receiver": "nobody"}]
    settings = with_changes(monitoring_alertmanager_receivers=receivers, monitoring_alertmanager_routes=routes)
    assert monitoring_problems(settings, PARTS) == [
        "monitoring_alertmanager_receivers[0] (oncall): of type webhook needs url (got ['name', 'type'])",
        "monitoring_alertmanager_receivers[1] (pd): of type pagerduty needs routing_key (got ['name', 'type'])",
        "monitoring_alertmanager_routes[0].receiver: names a receiver monitoring_alertmanager_receivers lacks "
        "(got 'nobody')",
    ]


def test_duplicate_job_and_receiver_names_are_refused_the_same_way():
    settings = with_changes()
    settings["monitoring_jobs"].append({"name": "node", "part": "gpu", "port": 9400})
    settings["monitoring_alertmanager_receivers"].append({"name": "oncall", "type": "webhook", "url": "http://y"})
    assert monitoring_problems(settings, PARTS) == [
        "monitoring_jobs: repeats the job name (got 'node')",
        "monitoring_alertmanager_receivers: repeats the receiver name (got 'oncall')",
    ]


def test_unnamed_entries_are_refused():
    settings = with_changes(monitoring_jobs=[{"part": "all", "port": 1}], monitoring_alertmanager_receivers=[{}])
    assert monitoring_problems(settings, PARTS) == [
        "monitoring_jobs[0]: needs a name (job) (got {'part': 'all', 'port': 1})",
        "monitoring_alertmanager_receivers[0]: needs a name (receiver) (got {})",
        "monitoring_alertmanager_default_receiver: names a receiver monitoring_alertmanager_receivers lacks "
        "(got 'oncall')",
        "monitoring_alertmanager_routes[0].receiver: names a receiver monitoring_alertmanager_receivers lacks "
        "(got 'oncall')",
    ]


@pytest.mark.parametrize(
    ("regex", "why"),
    [
        ("(go_.*", "does not compile"),
        ("(?!go_).*", "RE2 does not support"),
        ("(a)\\1", "RE2 does not support"),
        ("a++", "RE2 does not support"),
    ],
)
def test_invalid_relabel_regex_is_refused(regex, why):
    settings = with_changes()
    settings["monitoring_jobs"][0]["metric_relabel_configs"][0]["regex"] = regex
    problems = monitoring_problems(settings, PARTS)
    assert len(problems) == 1
    assert problems[0].startswith("monitoring_jobs[0] (node).metric_relabel_configs[0].regex: ")
    assert why in problems[0]
    assert problems[0].endswith(f"(got {regex!r})")


def test_bad_jobs_and_shards_are_named():
    jobs = [
        {"name": "bad-name", "port": 0},
        {"name": "both", "part": "nodes", "group": "x", "port": 1},
        {"name": "unknown", "part": "storage", "port": 1},
        {"name": "etcd", "part": "etcd", "port": 2379},
    ]
    problems = monitoring_problems(with_changes(monitoring_jobs=jobs, monitoring_collector_shards=0), PARTS)
    assert problems == [
        "monitoring_collector_shards: must be an integer of 1 or more (got 0)",
        "monitoring_jobs[0] (bad-name).name: must match ^[a-zA-Z_][a-zA-Z0-9_]*$ (got 'bad-name')",
        "monitoring_jobs[0] (bad-name): needs exactly one of part (a part of the topology contract) and group "
        "(got ['name', 'port'])",
        "monitoring_jobs[0] (bad-name).port: must be a port number (got 0)",
        "monitoring_jobs[1] (both): needs exactly one of part (a part of the topology contract) and group "
        "(got ['group', 'name', 'part', 'port'])",
        "monitoring_jobs[2] (unknown).part: is not one of all, etcd, control_plane, nodes, gpu, monitoring "
        "(got 'storage')",
        "monitoring_jobs[3] (etcd).port: is each etcd cluster's client_port (topology_etcd_clusters): remove it "
        "(got 2379)",
    ]


def test_problems_refuse_a_non_mapping():
    with pytest.raises(AnsibleFilterError):
        monitoring_problems(["x"])


# A topology with other group names than the defaults and a third etcd cluster: nothing in the role
# may assume the default names.
TOPOLOGY = {"control_plane": "masters", "nodes": "workers", "gpu": "accelerated", "monitoring": "observers"}
CLUSTERS = [
    {"name": "main", "group": "kv_main", "client_port": 2379},
    {"name": "events", "group": "kv_events", "client_port": 2382},
    {"name": "leases", "group": "kv_leases", "client_port": 2385},
]


def test_jobs_read_their_hosts_through_the_topology_contract():
    jobs = [
        {"name": "node", "part": "all", "port": 9100},
        {"name": "etcd", "part": "etcd", "tls": "etcd"},
        {"name": "kubelet", "part": "nodes", "port": 10250},
        {"name": "custom", "group": "storage_nodes", "port": 9101},
    ]
    assert monitoring_scrape_jobs(jobs, TOPOLOGY, CLUSTERS) == [
        {"name": "node", "group": "all", "port": 9100},
        {"name": "etcd_main", "group": "kv_main", "port": 2379, "tls": "etcd"},
        {"name": "etcd_events", "group": "kv_events", "port": 2382, "tls": "etcd"},
        {"name": "etcd_leases", "group": "kv_leases", "port": 2385, "tls": "etcd"},
        {"name": "kubelet", "group": "workers", "port": 10250},
        {"name": "custom", "group": "storage_nodes", "port": 9101},
    ]


GROUPS = {
    "all": ["cp1", "gpu1", "mon1", "v6"],
    "accelerated": ["gpu1"],
    "workers": ["gpu1"],
    "masters": ["cp1"],
    "kv_main": ["cp1"],
    "observers": ["mon1"],
    "empty": [],
}
HOSTVARS = {
    "cp1": {"ansible_facts": {"default_ipv4": {"address": "10.0.0.1"}}},
    "gpu1": {"ansible_facts": {"default_ipv4": {"address": "10.0.0.2"}}},
    "mon1": {"monitoring_address": "10.0.0.9", "monitoring_pool": "observability"},
    "v6": {"monitoring_address": "fd00::6"},
}


def test_targets_per_job_with_instance_cluster_and_pool_labels():
    jobs = [
        {"name": "node", "group": "all", "port": 9100},
        {"name": "dcgm", "group": "accelerated", "port": 9400},
        {"name": "none", "group": "empty", "port": 1},
    ]
    assert monitoring_targets(jobs, GROUPS, HOSTVARS, "prod", TOPOLOGY) == {
        "node": [
            {"targets": ["10.0.0.1:9100"], "labels": {"instance": "cp1", "cluster": "prod", "pool": "control_plane"}},
            {"targets": ["10.0.0.2:9100"], "labels": {"instance": "gpu1", "cluster": "prod", "pool": "gpu"}},
            {"targets": ["10.0.0.9:9100"], "labels": {"instance": "mon1", "cluster": "prod", "pool": "observability"}},
            {"targets": ["[fd00::6]:9100"], "labels": {"instance": "v6", "cluster": "prod", "pool": "infra"}},
        ],
        "dcgm": [{"targets": ["10.0.0.2:9400"], "labels": {"instance": "gpu1", "cluster": "prod", "pool": "gpu"}}],
        "none": [],
    }


def test_targets_need_an_address():
    with pytest.raises(AnsibleFilterError, match="no address for cp1"):
        monitoring_targets([{"name": "n", "group": "kv_main", "port": 1}], GROUPS, {"cp1": {}}, "prod", TOPOLOGY)


def test_address_is_monitoring_address_else_the_default_ipv4():
    assert monitoring_address("mon1", HOSTVARS["mon1"]) == "10.0.0.9"
    assert monitoring_address("cp1", HOSTVARS["cp1"]) == "10.0.0.1"


def test_shards_go_round_robin_over_the_hosts():
    assert monitoring_shard_hosts(5, ["a", "b"]) == {"a": [0, 2, 4], "b": [1, 3]}
    assert monitoring_shard_hosts(1, ["a", "b", "c"]) == {"a": [0], "b": [], "c": []}
    assert monitoring_shard_hosts(3, []) == {}


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {
        "monitoring_problems",
        "monitoring_scrape_jobs",
        "monitoring_targets",
        "monitoring_shard_hosts",
        "monitoring_address",
    }
