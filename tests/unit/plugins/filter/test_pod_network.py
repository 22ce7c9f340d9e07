"""pod_network filters: the Cilium chart values from the role's variables, and the role's input checks (the
supported CNIs, the pod CIDR against the inventory and the service CIDR, the API endpoint, the pinned chart's
value keys)."""

from __future__ import annotations

from pathlib import Path

import chart_keys
import pytest
import yaml

from ansible_collections.aiplatform.cluster.plugins.filter.pod_network import (
    pod_network_cni_problems,
    pod_network_problems,
    pod_network_values,
)

ROOT = Path(__file__).resolve().parents[4]
DEFAULTS = yaml.safe_load((ROOT / "roles/pod_network/defaults/main.yml").read_text())
VERSION = yaml.safe_load((ROOT / "roles/kube_addons/defaults/main.yml").read_text())["kube_addons_versions"][
    "cilium_chart"
]["version"]
KEYS = yaml.safe_load((ROOT / f"roles/pod_network/files/chart-keys-{VERSION}.yml").read_text())
# What the templated defaults give without the kube_apiserver role in the play.
TEMPLATED = {
    "pod_network_pod_cidr": "10.128.0.0/11",
    "pod_network_service_cidr": "10.96.0.0/12",
    "pod_network_api_endpoint": "",
    "pod_network_api_port": 6443,
}
SETTINGS = {
    key: TEMPLATED.get(key, value)
    for key, value in DEFAULTS.items()
    if key not in ("pod_network_enabled", "pod_network_namespace", "pod_network_release", "pod_network_wait_timeout_s")
}


ENDPOINT = "must be host or host:port (a name, an IPv4 address or [IPv6]; no scheme, a port from 1 to 65535)"
RANGE = "must be a whole number of {} or more and {} or less (got {!r})"
BLOCKS = "leaves {} node blocks of /24 in {} for {} nodes: shorten the mask or widen pod_network_pod_cidr (got 24)"
NETWORK = "must be a network such as 10.128.0.0/10 (the address part without host bits)"


def settings(**changes):
    return {**SETTINGS, **changes}


def test_key_list_is_the_packaged_charts():
    # The committed list equals what the tool reads from the packaged chart (tests/fixtures/charts).
    files = chart_keys.chart_files(ROOT / f"tests/fixtures/charts/cilium-{VERSION}.tgz")
    assert chart_keys.chart_version(files) == VERSION
    assert chart_keys.chart_keys(files) == KEYS


def test_the_cidr_and_port_defaults_are_kube_apiservers():
    apiserver = yaml.safe_load((ROOT / "roles/kube_apiserver/defaults/main.yml").read_text())
    assert DEFAULTS["pod_network_pod_cidr"] == (
        "{{ kube_apiserver_pod_cidr | default('" + apiserver["kube_apiserver_pod_cidr"] + "') }}"
    )
    assert DEFAULTS["pod_network_service_cidr"] == (
        "{{ kube_apiserver_service_cidr | default('" + apiserver["kube_apiserver_service_cidr"] + "') }}"
    )
    assert DEFAULTS["pod_network_api_port"] == (
        "{{ kube_apiserver_secure_port | default(" + str(apiserver["kube_apiserver_secure_port"]) + ") }}"
    )


def test_defaults_give_the_large_cluster_values():
    assert pod_network_problems(SETTINGS, KEYS, 4000, ["192.168.10.5"]) == []
    assert pod_network_values(SETTINGS) == {
        "ipam": {
            "mode": "cluster-pool",
            "operator": {"clusterPoolIPv4PodCIDRList": ["10.128.0.0/11"], "clusterPoolIPv4MaskSize": 24},
        },
        "kubeProxyReplacement": True,
        "k8sServiceHost": "auto",
        "operator": {"replicas": 2},
        "identityAllocationMode": "crd",
        "ciliumEndpointSlice": {"enabled": True},
        "bpf": {"mapDynamicSizeRatio": 0.0025, "policyMapMax": 16384, "lbMapMax": 65536},
        "hubble": {"enabled": False},
        "MTU": 0,
        "routingMode": "tunnel",
        "tunnelProtocol": "vxlan",
    }


def test_string_forms_endpoint_native_routing_kvstore_and_extra():
    values = pod_network_values(
        settings(
            pod_network_api_endpoint="api.cluster.example:8443",
            pod_network_node_mask_size="25",
            pod_network_kube_proxy_replacement="false",
            pod_network_operator_replicas="3",
            pod_network_routing_mode="native",
            pod_network_auto_direct_node_routes="yes",
            pod_network_mtu="9000",
            pod_network_bpf_ct_tcp_max="1048576",
            pod_network_bpf_map_dynamic_size_ratio="0.005",
            pod_network_identity_allocation_mode="kvstore",
            pod_network_kvstore_endpoints=["https://10.0.0.1:2379"],
            pod_network_values_extra={"hubble": {"relay": {"enabled": True}}, "operator": {"nodeSelector": {"a": "b"}}},
        )
    )
    assert (values["k8sServiceHost"], values["k8sServicePort"]) == ("api.cluster.example", 8443)
    assert values["ipam"]["operator"]["clusterPoolIPv4MaskSize"] == 25
    assert values["kubeProxyReplacement"] is False
    assert values["operator"] == {"replicas": 3, "nodeSelector": {"a": "b"}}
    assert (values["routingMode"], values["ipv4NativeRoutingCIDR"], values["autoDirectNodeRoutes"]) == (
        "native",
        "10.128.0.0/11",
        True,
    )
    assert "tunnelProtocol" not in values
    assert values["MTU"] == 9000
    assert values["bpf"] == {
        "mapDynamicSizeRatio": 0.005,
        "ctTcpMax": 1048576,
        "policyMapMax": 16384,
        "lbMapMax": 65536,
    }
    assert values["etcd"] == {"enabled": True, "ssl": True, "endpoints": ["https://10.0.0.1:2379"]}
    assert values["hubble"] == {"enabled": False, "relay": {"enabled": True}}
    # An endpoint without a port takes pod_network_api_port; an IPv6 literal loses its brackets.
    values = pod_network_values(settings(pod_network_api_endpoint="[fd00::10]", pod_network_api_port="6443"))
    assert (values["k8sServiceHost"], values["k8sServicePort"]) == ("fd00::10", 6443)


def test_a_cni_not_in_the_list_is_refused_first():
    assert pod_network_cni_problems("cilium") == []
    assert pod_network_cni_problems("calico") == ["pod_network_cni: must be one of cilium (got 'calico')"]
    # Nothing else is checked for a CNI the role does not know.
    assert pod_network_problems(settings(pod_network_cni="flannel", pod_network_mtu="x"), KEYS) == [
        "pod_network_cni: must be one of cilium (got 'flannel')"
    ]


@pytest.mark.parametrize(
    ("changes", "nodes", "messages"),
    [
        (
            {"pod_network_pod_cidr": "10.96.0.0/16"},
            10,
            ["pod_network_pod_cidr: must not overlap the service CIDR 10.96.0.0/12 (got '10.96.0.0/16')"],
        ),
        (
            {"pod_network_pod_cidr": "10.0.0.0/8"},
            10,
            ["pod_network_pod_cidr: must not overlap the service CIDR 10.96.0.0/12 (got '10.0.0.0/8')"],
        ),
        ({"pod_network_pod_cidr": "10.128.0.1/10"}, 10, [f"pod_network_pod_cidr: {NETWORK} (got '10.128.0.1/10')"]),
        (
            {"pod_network_pod_cidr": "fd00::/48"},
            10,
            ["pod_network_pod_cidr: must be an IPv4 network (cluster-pool IPv4) (got 'fd00::/48')"],
        ),
        ({"pod_network_node_mask_size": 29}, 10, ["pod_network_node_mask_size: " + RANGE.format(16, 28, 29)]),
        ({"pod_network_node_mask_size": "15"}, 10, ["pod_network_node_mask_size: " + RANGE.format(16, 28, "15")]),
        (
            {"pod_network_pod_cidr": "172.16.0.0/16", "pod_network_node_mask_size": 16},
            10,
            [
                "pod_network_node_mask_size: must be longer than the pod CIDR's prefix /16 (each node gets one /16 "
                "of it) (got 16)"
            ],
        ),
        # /20 with /24 blocks: 16 nodes at most.
        (
            {"pod_network_pod_cidr": "172.16.0.0/20"},
            17,
            ["pod_network_node_mask_size: " + BLOCKS.format(16, "172.16.0.0/20", 17)],
        ),
        ({"pod_network_pod_cidr": "172.16.0.0/20"}, 16, []),
        # The default /11 with /24 blocks holds 8192 nodes, not 8193.
        ({}, 8193, ["pod_network_node_mask_size: " + BLOCKS.format(8192, "10.128.0.0/11", 8193)]),
        (
            {"pod_network_api_endpoint": "https://api.example:6443"},
            1,
            [f"pod_network_api_endpoint: {ENDPOINT} (got 'https://api.example:6443')"],
        ),
        (
            {"pod_network_api_endpoint": "api.example:70000"},
            1,
            [f"pod_network_api_endpoint: {ENDPOINT} (got 'api.example:70000')"],
        ),
        ({"pod_network_api_endpoint": "10.0.0.300"}, 1, [f"pod_network_api_endpoint: {ENDPOINT} (got '10.0.0.300')"]),
        (
            {"pod_network_api_endpoint": "[fd00::zz]:6443"},
            1,
            [f"pod_network_api_endpoint: {ENDPOINT} (got '[fd00::zz]:6443')"],
        ),
        (
            {"pod_network_identity_allocation_mode": "kvstore"},
            1,
            [
                "pod_network_kvstore_endpoints: must list the https:// client URLs of Cilium's etcd when "
                "pod_network_identity_allocation_mode is kvstore (got [])"
            ],
        ),
        (
            {"pod_network_identity_allocation_mode": "etcd", "pod_network_routing_mode": "bgp"},
            1,
            [
                "pod_network_identity_allocation_mode: must be one of crd, kvstore (got 'etcd')",
                "pod_network_routing_mode: must be one of tunnel, native (got 'bgp')",
            ],
        ),
        (
            {"pod_network_mtu": 1000, "pod_network_bpf_map_dynamic_size_ratio": 0, "pod_network_operator_replicas": 0},
            1,
            [
                "pod_network_operator_replicas: " + RANGE.format(1, 10, 0),
                "pod_network_mtu: must be 0 (detect) or a whole number from 1280 to 9216 (got 1000)",
                "pod_network_bpf_map_dynamic_size_ratio: must be a fraction of the node's memory above 0 and at most "
                "1 (Cilium's default 0.0025) (got 0)",
            ],
        ),
        (
            {"pod_network_hubble_enabled": "maybe", "pod_network_bpf_nat_max": -1},
            1,
            [
                "pod_network_hubble_enabled: must be a boolean (true or false) (got 'maybe')",
                "pod_network_bpf_nat_max: " + RANGE.format(0, 16777216, -1),
            ],
        ),
    ],
)
def test_bad_input_is_refused_naming_the_variable(changes, nodes, messages):
    assert pod_network_problems(settings(**changes), KEYS, nodes, []) == messages


def test_a_pod_cidr_holding_a_hosts_address_is_refused():
    assert pod_network_problems(settings(), KEYS, 3, ["10.130.1.7", "192.168.0.4", "node3.example", "fd00::1"]) == [
        "pod_network_pod_cidr: must not contain the hosts' addresses (10.130.1.7) (got '10.128.0.0/11')"
    ]


def test_unknown_chart_keys_are_refused():
    extra = {
        "hubble": {"relay": {"enabled": True}},
        "ipam": {"operator": {"clusterPoolIPv4MaskSizee": 24}},
        "nosuch": 1,
    }
    assert pod_network_problems(settings(pod_network_values_extra=extra), KEYS) == [
        "pod_network_values_extra: 'ipam.operator.clusterPoolIPv4MaskSizee' is not a value of the pinned chart (see "
        "roles/pod_network/files/chart-keys-*.yml)",
        "pod_network_values_extra: 'nosuch' is not a value of the pinned chart (see "
        "roles/pod_network/files/chart-keys-*.yml)",
    ]


def test_every_key_the_role_sets_is_one_of_the_pinned_charts():
    # Every branch the role's variables can produce: native routing, kvstore, an endpoint, explicit map sizes.
    every = settings(
        pod_network_routing_mode="native",
        pod_network_identity_allocation_mode="kvstore",
        pod_network_kvstore_endpoints=["https://10.0.0.1:2379"],
        pod_network_api_endpoint="10.0.0.10:6443",
        pod_network_bpf_ct_tcp_max=1,
        pod_network_bpf_ct_any_max=1,
        pod_network_bpf_nat_max=1,
    )
    assert pod_network_problems(every, KEYS, 1, []) == []
    assert pod_network_problems(settings(), KEYS, 1, []) == []
    # The check can fail: without the chart's key list every key is unknown.
    assert len(pod_network_problems(every, ["hubble"], 1, [])) > 5
