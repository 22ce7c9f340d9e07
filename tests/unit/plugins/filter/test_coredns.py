"""The coredns role's filters: the autoscaler's formulas (tables from the autoscaler's own tests,
kubernetes-sigs/cluster-proportional-autoscaler linear_controller_test.go and
ladder_controller_test.go, written out here), its ConfigMap parameters, min/max rules and the
NodeLocal DNSCache wiring."""

import pytest

from ansible_collections.aiplatform.cluster.plugins.filter.coredns import (
    coredns_autoscaler_params,
    coredns_expected_replicas,
    coredns_kubelet_cluster_dns,
    coredns_memory_mib,
    coredns_nodelocaldns_bind,
    coredns_problems,
    cpa_ladder_replicas,
    cpa_linear_replicas,
)

# TestScaleFromSingleParam: coresPerReplica 2, min 2, max 100 (nodesPerReplica unset: 1 replica).
SINGLE = {"coresPerReplica": 2, "min": 2, "max": 100}
SINGLE_CASES = [
    (0, 2),
    (1, 2),
    (2, 2),
    (3, 2),
    (4, 2),
    (6, 3),
    (10, 5),
    (11, 6),
    (19, 10),
    (20, 10),
    (21, 11),
    (30, 15),
    (40, 20),
]


@pytest.mark.parametrize(("cores", "expected"), SINGLE_CASES)
def test_linear_single_param(cores, expected):
    assert cpa_linear_replicas(SINGLE, 0, cores) == expected


# TestScaleFromMultipleParams: cores 2, nodes 2.5, min 1, max 100, single point of failure prevented.
MULTIPLE = {"coresPerReplica": 2, "nodesPerReplica": 2.5, "min": 1, "max": 100, "preventSinglePointFailure": True}
MULTIPLE_CASES = [
    (0, 0, 1),
    (1, 2, 2),
    (2, 3, 2),
    (3, 4, 2),
    (4, 4, 2),
    (6, 4, 3),
    (6, 5, 3),
    (8, 5, 4),
    (8, 15, 6),
    (8, 16, 7),
    (19, 21, 10),
    (23, 20, 12),
    (26, 38, 16),
    (30, 49, 20),
    (40, 20, 20),
]


@pytest.mark.parametrize(("cores", "nodes", "expected"), MULTIPLE_CASES)
def test_linear_multiple_params(cores, nodes, expected):
    assert cpa_linear_replicas(MULTIPLE, nodes, cores) == expected


# TestScaleFromUnschedulableNodes (linear): cores 2, nodes 2, min 1, max 100, unschedulable counted.
UNSCHEDULABLE = {
    "coresPerReplica": 2,
    "nodesPerReplica": 2,
    "min": 1,
    "max": 100,
    "preventSinglePointFailure": True,
    "includeUnschedulableNodes": True,
}
UNSCHEDULABLE_CASES = [
    (0, 0, 0, 0, 1),
    (1, 1, 1, 1, 1),
    (2, 2, 2, 2, 2),
    (4, 4, 4, 4, 2),
    (2, 2, 4, 4, 2),
    (8, 8, 8, 8, 4),
    (6, 6, 8, 8, 4),
    (21, 21, 210, 210, 100),
]


@pytest.mark.parametrize(("s_cores", "s_nodes", "cores", "nodes", "expected"), UNSCHEDULABLE_CASES)
def test_linear_unschedulable_nodes(s_cores, s_nodes, cores, nodes, expected):
    # The upstream test passes the node count as the total cores too: kept as written there.
    assert cpa_linear_replicas(UNSCHEDULABLE, s_nodes, s_cores, nodes, nodes) == expected


def test_linear_max_comes_before_the_single_point_of_failure_rule():
    params = {"nodesPerReplica": 16, "min": 1, "max": 1, "preventSinglePointFailure": True}
    assert cpa_linear_replicas(params, 3, 0) == 2
    assert cpa_linear_replicas(params, 1, 0) == 1


def test_linear_kubespray_issue_4274_capped_by_max():
    # 8 nodes, kubespray's 23 replicas came from coresPerReplica on big nodes: max caps it at the nodes.
    params = {"coresPerReplica": 16, "nodesPerReplica": 1, "min": 2, "max": 8, "preventSinglePointFailure": True}
    assert cpa_linear_replicas(params, 8, 368) == 8
    assert cpa_linear_replicas({**params, "max": 0}, 8, 368) == 23


def test_linear_cordoned_nodes_left_out_by_default():
    params = {"nodesPerReplica": 1, "min": 1, "max": 0}
    assert cpa_linear_replicas(params, 5, 0, 9, 0) == 5
    assert cpa_linear_replicas({**params, "includeUnschedulableNodes": True}, 5, 0, 9, 0) == 9


# TestControllerScaler and TestControllerScalerFromZero (ladder).
LADDER = [[1, 1], [2, 2], [3, 3], [4, 4], [10, 10], [20, 20]]
LADDER_CASES = [
    (0, 1),
    (1, 1),
    (2, 2),
    (3, 3),
    (4, 4),
    (6, 4),
    (10, 10),
    (11, 10),
    (19, 10),
    (20, 20),
    (21, 20),
    (40, 20),
]


@pytest.mark.parametrize(("cores", "expected"), LADDER_CASES)
def test_ladder_steps(cores, expected):
    assert cpa_ladder_replicas({"coresToReplicas": LADDER}, 0, cores) == expected


@pytest.mark.parametrize(("resources", "expected"), [(0, 0), (1, 0), (2, 0), (3, 3), (4, 3)])
@pytest.mark.parametrize("steps", [[[0, 0], [3, 3]], [[1, 0], [3, 3]], [[3, 3], [0, 0]]])
def test_ladder_from_zero_and_unsorted(steps, resources, expected):
    assert cpa_ladder_replicas({"coresToReplicas": steps}, 0, resources) == expected


def test_ladder_unschedulable_nodes():
    params = {"nodesToReplicas": [[0, 0], [1, 1], [2, 2], [3, 3]], "coresToReplicas": [[0, 0], [4, 1], [8, 2], [12, 3]]}
    assert cpa_ladder_replicas({**params, "includeUnschedulableNodes": True}, 2, 8, 3, 12) == 3
    assert cpa_ladder_replicas(params, 1, 4, 3, 12) == 1
    assert cpa_ladder_replicas({}, 5, 50) == 0


SETTINGS = {
    "coredns_eligible_nodes": 6,
    "coredns_service_ip": "10.96.0.10",
    "coredns_autoscaler_mode": "linear",
    "coredns_autoscaler_cores_per_replica": 256,
    "coredns_autoscaler_nodes_per_replica": 16,
    "coredns_autoscaler_min": 2,
    "coredns_autoscaler_max": "",
    "coredns_autoscaler_prevent_single_point_failure": True,
    "coredns_autoscaler_include_unschedulable_nodes": False,
    "coredns_autoscaler_ladder_cores_to_replicas": [],
    "coredns_autoscaler_ladder_nodes_to_replicas": [],
    "coredns_nodelocaldns_enabled": False,
    "coredns_nodelocaldns_ip": "169.254.25.10",
    "coredns_kube_proxy_mode": "iptables",
    "kubelet_cluster_dns": None,
}


def settings(**changes):
    return {**SETTINGS, **changes}


def test_defaults_are_fine_and_max_defaults_to_the_eligible_nodes():
    assert coredns_problems(SETTINGS) == []
    assert coredns_autoscaler_params(SETTINGS) == {
        "linear": {
            "coresPerReplica": 256,
            "nodesPerReplica": 16,
            "min": 2,
            "max": 6,
            "preventSinglePointFailure": True,
            "includeUnschedulableNodes": False,
        }
    }


def test_string_forms_from_extra_vars():
    strings = settings(
        coredns_eligible_nodes="6",
        coredns_autoscaler_min="3",
        coredns_autoscaler_max="5",
        coredns_autoscaler_cores_per_replica="128",
        coredns_autoscaler_nodes_per_replica="0.5",
        coredns_autoscaler_prevent_single_point_failure="false",
        coredns_nodelocaldns_enabled="true",
    )
    assert coredns_problems(strings) == []
    linear = coredns_autoscaler_params(strings)["linear"]
    assert linear == {
        "coresPerReplica": 128,
        "nodesPerReplica": 0.5,
        "min": 3,
        "max": 5,
        "preventSinglePointFailure": False,
        "includeUnschedulableNodes": False,
    }


def test_min_above_max_and_max_above_eligible_are_refused():
    assert coredns_problems(settings(coredns_autoscaler_min=4, coredns_autoscaler_max=3)) == [
        "coredns_autoscaler_min: must be at most coredns_autoscaler_max (3) (got 4)"
    ]
    assert coredns_problems(settings(coredns_autoscaler_max=7)) == [
        "coredns_autoscaler_max: must be at most the 6 nodes CoreDNS may run on (coredns_eligible_nodes): "
        "more replicas stay Pending under the required anti-affinity (got 7)"
    ]
    assert coredns_problems(settings(coredns_autoscaler_min=7)) == [
        "coredns_autoscaler_min: must be at most the 6 nodes CoreDNS may run on (coredns_eligible_nodes): "
        "one replica per node under the required anti-affinity (got 7)"
    ]


def test_bad_numbers_and_modes():
    problems = coredns_problems(
        settings(
            coredns_eligible_nodes=0,
            coredns_autoscaler_mode="hpa",
            coredns_autoscaler_min="two",
            coredns_autoscaler_cores_per_replica=-1,
            coredns_autoscaler_prevent_single_point_failure="maybe",
        )
    )
    assert problems == [
        "coredns_eligible_nodes: must be a whole number of 1 or more (got 0)",
        "coredns_autoscaler_mode: must be one of linear, ladder (got 'hpa')",
        "coredns_autoscaler_cores_per_replica: must be a number of 0 or more (got -1)",
        "coredns_autoscaler_min: must be a whole number of 1 or more (got 'two')",
        "coredns_autoscaler_prevent_single_point_failure: must be a boolean (true or false) (got 'maybe')",
    ]
    assert coredns_problems(
        settings(coredns_autoscaler_cores_per_replica=0, coredns_autoscaler_nodes_per_replica=0)
    ) == [
        "coredns_autoscaler_nodes_per_replica: coredns_autoscaler_cores_per_replica or "
        "coredns_autoscaler_nodes_per_replica must be above 0 (got 0)"
    ]


def test_ladder_steps_above_the_eligible_nodes_are_refused():
    ladder = settings(coredns_autoscaler_mode="ladder", coredns_autoscaler_ladder_nodes_to_replicas=[[1, 2], [20, 8]])
    assert coredns_problems(ladder) == [
        "coredns_autoscaler_ladder_nodes_to_replicas: no step may ask for more replicas than the 6 nodes CoreDNS "
        "may run on (coredns_eligible_nodes) (got [[20, 8]])"
    ]
    fine = settings(coredns_autoscaler_mode="ladder", coredns_autoscaler_ladder_nodes_to_replicas=[[1, 2], ["20", "6"]])
    assert coredns_problems(fine) == []
    params = coredns_autoscaler_params(fine)
    assert params == {
        "ladder": {"coresToReplicas": [], "nodesToReplicas": [[1, 2], [20, 6]], "includeUnschedulableNodes": False}
    }
    assert coredns_expected_replicas(params, 25, 0) == 6
    assert coredns_problems(settings(coredns_autoscaler_mode="ladder")) == [
        "coredns_autoscaler_ladder_nodes_to_replicas: the ladder mode needs at least one step (got [])"
    ]
    assert coredns_problems(settings(coredns_autoscaler_ladder_cores_to_replicas=[[1]])) == [
        "coredns_autoscaler_ladder_cores_to_replicas: every step must be a [threshold, replicas] pair of whole "
        "numbers of 0 or more (got [1])"
    ]


def test_expected_replicas_at_the_inventory_size():
    params = coredns_autoscaler_params(settings(coredns_eligible_nodes=100))
    assert coredns_expected_replicas(params, 100, 0) == 7
    assert coredns_expected_replicas(params, 100, 100 * 96) == 38


@pytest.mark.parametrize(
    ("changes", "dns", "bind"),
    [
        ({}, ["10.96.0.10"], ["169.254.25.10", "10.96.0.10"]),
        ({"coredns_nodelocaldns_enabled": True}, ["10.96.0.10"], ["169.254.25.10", "10.96.0.10"]),
        (
            {"coredns_nodelocaldns_enabled": True, "coredns_kube_proxy_mode": "nftables"},
            ["10.96.0.10"],
            ["169.254.25.10", "10.96.0.10"],
        ),
        (
            {"coredns_nodelocaldns_enabled": True, "coredns_kube_proxy_mode": "ipvs"},
            ["169.254.25.10"],
            ["169.254.25.10"],
        ),
        ({"coredns_kube_proxy_mode": "ipvs"}, ["10.96.0.10"], ["169.254.25.10"]),
    ],
)
def test_nodelocaldns_wiring(changes, dns, bind):
    assert coredns_kubelet_cluster_dns(settings(**changes)) == dns
    assert coredns_nodelocaldns_bind(settings(**changes)) == bind


def test_nodelocaldns_address_and_kubelet_cluster_dns_are_checked():
    on = {"coredns_nodelocaldns_enabled": True}
    assert coredns_problems(settings(**on, coredns_nodelocaldns_ip="10.0.0.10")) == [
        "coredns_nodelocaldns_ip: must be a link-local address (169.254.0.0/16) (got '10.0.0.10')"
    ]
    assert coredns_problems(settings(**on, coredns_nodelocaldns_ip="fe80::10")) == [
        "coredns_nodelocaldns_ip: must be a link-local address (169.254.0.0/16) (got 'fe80::10')"
    ]
    assert coredns_problems(settings(**on, coredns_nodelocaldns_ip="not-an-ip")) == [
        "coredns_nodelocaldns_ip: must be an IP address (got 'not-an-ip')"
    ]
    # Off: the address is not used, so not checked.
    assert coredns_problems(settings(coredns_nodelocaldns_ip="10.0.0.10")) == []
    ipvs = settings(**on, coredns_kube_proxy_mode="ipvs", kubelet_cluster_dns=["10.96.0.10"])
    assert coredns_problems(ipvs) == [
        "kubelet_cluster_dns: must be ['169.254.25.10'] for this CoreDNS setup (coredns_service_ip, NodeLocal "
        "DNSCache and kube-proxy mode) (got ['10.96.0.10'])"
    ]
    assert coredns_problems({**ipvs, "kubelet_cluster_dns": ["169.254.25.10"]}) == []
    assert coredns_problems(settings(**on, kubelet_cluster_dns=["10.96.0.10"])) == []


@pytest.mark.parametrize(("nodes", "expected"), [(1, 70), (100, 70), (1000, 169), (7500, 884)])
def test_memory_from_the_cluster_size(nodes, expected):
    # (nodes x 110 pods + 5000 services) / 1000 + 54 MB, rounded up, at least 70.
    assert coredns_memory_mib(nodes, 110, 5000) == expected
