# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Filters of the pod_network role: the CNI chart's values from the role's variables and the role's input
checks (the supported CNIs, the pod CIDR against the node count, the service CIDR and the hosts'
addresses, the API endpoint, unknown value keys of the pinned chart). Pure functions."""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.aiplatform.cluster.plugins.module_utils.chart_values import merge, unknown_value_keys
from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import Problems, as_bool, as_float, as_int

# The CNIs the role installs, each with the kube_addons_versions entry of its chart: the one list.
CNIS = {"cilium": "cilium_chart"}
IDENTITY_MODES = ("crd", "kvstore")
ROUTING_MODES = ("tunnel", "native")
TUNNEL_PROTOCOLS = ("vxlan", "geneve")
# The per-node block: /16 (65534 pods) at most, /28 (14 pods) at least.
MASK_MIN = 16
MASK_MAX = 28
# bpf.* values the role sets, by variable; 0 leaves the map to bpf.mapDynamicSizeRatio.
BPF_MAPS = {
    "pod_network_bpf_ct_tcp_max": "ctTcpMax",
    "pod_network_bpf_ct_any_max": "ctAnyMax",
    "pod_network_bpf_nat_max": "natMax",
    "pod_network_bpf_policy_map_max": "policyMapMax",
    "pod_network_bpf_lb_map_max": "lbMapMax",
}
_HOST = re.compile(
    r"^(\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?))(:(?P<port>\d{1,5}))?$"
)


def api_endpoint(endpoint, default_port):
    """(host, port) of ``host[:port]`` (an IPv6 literal in brackets), or None when it is not one."""
    match = _HOST.match(str(endpoint or "").strip())
    if not match:
        return None
    host = match["v6"] or match["name"]
    try:
        if match["v6"]:
            ipaddress.IPv6Address(host)
        elif re.fullmatch(r"[0-9.]+", host):  # all digits: an IPv4 address, not a name
            ipaddress.IPv4Address(host)
    except ValueError:
        return None
    port = int(match["port"]) if match["port"] else as_int(default_port)
    if port is None or not 1 <= port <= 65535:
        return None
    return host, port


def pod_network_values(settings):
    """The Cilium chart values: the role's variables, then pod_network_values_extra merged over them."""
    routing = settings["pod_network_routing_mode"]
    values = {
        "ipam": {
            "mode": "cluster-pool",
            "operator": {
                "clusterPoolIPv4PodCIDRList": [str(settings["pod_network_pod_cidr"])],
                "clusterPoolIPv4MaskSize": as_int(settings["pod_network_node_mask_size"]),
            },
        },
        "kubeProxyReplacement": as_bool(settings["pod_network_kube_proxy_replacement"]),
        "operator": {"replicas": as_int(settings["pod_network_operator_replicas"])},
        "identityAllocationMode": settings["pod_network_identity_allocation_mode"],
        "ciliumEndpointSlice": {"enabled": as_bool(settings["pod_network_endpoint_slices"])},
        "bpf": {"mapDynamicSizeRatio": as_float(settings["pod_network_bpf_map_dynamic_size_ratio"])},
        "hubble": {"enabled": as_bool(settings["pod_network_hubble_enabled"])},
        "MTU": as_int(settings["pod_network_mtu"]),
        "routingMode": routing,
    }
    for variable, key in BPF_MAPS.items():
        size = as_int(settings[variable])
        if size:
            values["bpf"][key] = size
    if routing == "native":
        values["ipv4NativeRoutingCIDR"] = str(settings["pod_network_pod_cidr"])
        values["autoDirectNodeRoutes"] = as_bool(settings["pod_network_auto_direct_node_routes"])
    else:
        values["tunnelProtocol"] = settings["pod_network_tunnel_protocol"]
    endpoint = str(settings.get("pod_network_api_endpoint") or "")
    if endpoint:
        host, port = api_endpoint(endpoint, settings["pod_network_api_port"])
        values["k8sServiceHost"] = host
        values["k8sServicePort"] = port
    else:
        # kubeadm's cluster-info ConfigMap (kube-public) names the API server the agents reach.
        values["k8sServiceHost"] = "auto"
    if settings["pod_network_identity_allocation_mode"] == "kvstore":
        values["etcd"] = {"enabled": True, "ssl": True, "endpoints": list(settings["pod_network_kvstore_endpoints"])}
    return merge(values, settings.get("pod_network_values_extra") or {})


def _network(variable, value, problems):
    try:
        return ipaddress.ip_network(str(value), strict=True)
    except ValueError:
        problems.add(variable, "must be a network such as 10.128.0.0/10 (the address part without host bits)", value)
        return None


def _cidr_problems(settings, node_count, host_addresses, problems):
    pod = _network("pod_network_pod_cidr", settings.get("pod_network_pod_cidr"), problems)
    service = _network("pod_network_service_cidr", settings.get("pod_network_service_cidr"), problems)
    mask = problems.integer(
        "pod_network_node_mask_size", settings.get("pod_network_node_mask_size"), MASK_MIN, MASK_MAX
    )
    if pod is None:
        return
    if pod.version != 4:
        problems.add("pod_network_pod_cidr", "must be an IPv4 network (cluster-pool IPv4)", str(pod))
        return
    if service is not None and pod.overlaps(service):
        problems.add("pod_network_pod_cidr", f"must not overlap the service CIDR {service}", str(pod))
    addresses = [_address(a) for a in host_addresses]
    inside = sorted({str(a) for a in addresses if a is not None and a.version == pod.version and a in pod})
    if inside:
        problems.add(
            "pod_network_pod_cidr", f"must not contain the hosts' addresses ({', '.join(inside[:5])})", str(pod)
        )
    if mask is None:
        return
    if pod.prefixlen >= mask:
        problems.add(
            "pod_network_node_mask_size",
            f"must be longer than the pod CIDR's prefix /{pod.prefixlen} (each node gets one /{mask} of it)",
            mask,
        )
        return
    blocks = 2 ** (mask - pod.prefixlen)
    if blocks < node_count:
        problems.add(
            "pod_network_node_mask_size",
            f"leaves {blocks} node blocks of /{mask} in {pod} for {node_count} nodes: shorten the mask or widen "
            "pod_network_pod_cidr",
            mask,
        )


def _address(value):
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        return None


def _setting_problems(settings, problems):
    for name in (
        "pod_network_kube_proxy_replacement",
        "pod_network_endpoint_slices",
        "pod_network_hubble_enabled",
        "pod_network_auto_direct_node_routes",
    ):
        problems.boolean(name, settings.get(name))
    problems.integer("pod_network_operator_replicas", settings.get("pod_network_operator_replicas"), 1, 10)
    mtu = as_int(settings.get("pod_network_mtu"))
    if mtu is None or not (mtu == 0 or 1280 <= mtu <= 9216):
        problems.add(
            "pod_network_mtu", "must be 0 (detect) or a whole number from 1280 to 9216", settings.get("pod_network_mtu")
        )
    ratio = as_float(settings.get("pod_network_bpf_map_dynamic_size_ratio"))
    if ratio is None or not 0 < ratio <= 1:
        problems.add(
            "pod_network_bpf_map_dynamic_size_ratio",
            "must be a fraction of the node's memory above 0 and at most 1 (Cilium's default 0.0025)",
            settings.get("pod_network_bpf_map_dynamic_size_ratio"),
        )
    for variable in BPF_MAPS:
        problems.integer(variable, settings.get(variable), 0, 16777216)
    for name, choices in (
        ("pod_network_identity_allocation_mode", IDENTITY_MODES),
        ("pod_network_routing_mode", ROUTING_MODES),
        ("pod_network_tunnel_protocol", TUNNEL_PROTOCOLS),
    ):
        if settings.get(name) not in choices:
            problems.add(name, f"must be one of {', '.join(choices)}", settings.get(name))
    endpoints = settings.get("pod_network_kvstore_endpoints")
    if settings.get("pod_network_identity_allocation_mode") == "kvstore" and (
        not isinstance(endpoints, list) or not endpoints or not all(str(e).startswith("https://") for e in endpoints)
    ):
        problems.add(
            "pod_network_kvstore_endpoints",
            "must list the https:// client URLs of Cilium's etcd when pod_network_identity_allocation_mode is kvstore",
            endpoints,
        )
    endpoint = settings.get("pod_network_api_endpoint")
    if endpoint and api_endpoint(endpoint, settings.get("pod_network_api_port")) is None:
        problems.add(
            "pod_network_api_endpoint",
            "must be host or host:port (a name, an IPv4 address or [IPv6]; no scheme, a port from 1 to 65535)",
            endpoint,
        )
    if not isinstance(settings.get("pod_network_values_extra"), dict):
        problems.add("pod_network_values_extra", "must be a dict", settings.get("pod_network_values_extra"))


def pod_network_cni_problems(cni):
    """The problem with pod_network_cni (not one of the supported CNIs), as a list."""
    problems = Problems()
    if cni not in CNIS:
        problems.add("pod_network_cni", f"must be one of {', '.join(CNIS)}", cni)
    return problems.messages


def pod_network_problems(settings, known_keys, node_count=0, host_addresses=()):
    """One message per problem in the pod_network role's input, each naming its variable.

    ``known_keys``: the pinned chart's value keys; ``node_count``: the hosts that get a pod CIDR block
    (control planes and nodes); ``host_addresses``: the hosts' addresses, none of which may be a pod's."""
    cni = pod_network_cni_problems(settings.get("pod_network_cni"))
    if cni:
        return cni
    problems = Problems()
    _setting_problems(settings, problems)
    _cidr_problems(settings, node_count, host_addresses, problems)
    if problems:
        return problems.messages
    for path in unknown_value_keys(pod_network_values(settings), known_keys):
        problems.add(
            "pod_network_values_extra",
            f"'{path}' is not a value of the pinned chart (see roles/pod_network/files/chart-keys-*.yml)",
        )
    return problems.messages


def pod_network_chart(cni):
    """The kube_addons_versions entry that pins the chart of ``cni``."""
    return CNIS[cni]


class FilterModule:
    def filters(self):
        return {
            "pod_network_values": pod_network_values,
            "pod_network_problems": pod_network_problems,
            "pod_network_chart": pod_network_chart,
            "pod_network_cni_problems": pod_network_cni_problems,
        }
