# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Filters of the coredns role: the cluster-proportional-autoscaler's replica formulas, its ConfigMap
parameters, the NodeLocal DNSCache wiring, CoreDNS sizing and the role's input checks (pure functions).

The formulas follow kubernetes-sigs/cluster-proportional-autoscaler (pkg/autoscaler/controller,
linearcontroller/linear_controller.go and laddercontroller/ladder_controller.go) step by step:

- linear: per resource ``ceil(resources / perReplica)`` (1 when perReplica is 0), clamped to ``max``
  when ``max`` is set, then raised to ``min`` (``min`` 0 counts as 1); the single-point-of-failure
  rule raises the node-based count to 2 when there are 2 nodes or more (after ``max``); the larger of
  the core-based and the node-based count wins.
- ladder: per resource the replicas of the last step whose threshold is at most the resources (the
  first step when below every threshold; 0 without steps); the larger of the two wins.

Both count schedulable nodes and cores unless ``includeUnschedulableNodes`` is true.
"""

from __future__ import annotations

import ipaddress
import math

from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import Problems, as_bool, as_int

LINK_LOCAL = ipaddress.ip_network("169.254.0.0/16")
MODES = ("linear", "ladder")
PROXY_MODES = ("iptables", "ipvs", "nftables")


def _per_resource_linear(resources, per_replica, minimum, maximum):
    if per_replica == 0:
        return 1
    replicas = math.ceil(resources / per_replica)
    if maximum != 0:
        replicas = min(maximum, replicas)
    return max(minimum, replicas)


def cpa_linear_replicas(params, schedulable_nodes, schedulable_cores, total_nodes=None, total_cores=None):
    """The replicas the autoscaler's linear controller asks for (``params`` as in its ConfigMap)."""
    nodes, cores = schedulable_nodes, schedulable_cores
    if params.get("includeUnschedulableNodes"):
        nodes = schedulable_nodes if total_nodes is None else total_nodes
        cores = schedulable_cores if total_cores is None else total_cores
    minimum = params.get("min", 0) or 1
    maximum = params.get("max", 0)
    from_cores = _per_resource_linear(cores, params.get("coresPerReplica", 0), minimum, maximum)
    from_nodes = _per_resource_linear(nodes, params.get("nodesPerReplica", 0), minimum, maximum)
    if params.get("preventSinglePointFailure") and nodes > 1 and from_nodes < 2:
        from_nodes = 2
    return max(from_cores, from_nodes)


def _per_resource_ladder(resources, steps):
    if not steps:
        return 0
    ordered = sorted(steps, key=lambda step: step[0])
    position = next((i for i, step in enumerate(ordered) if resources < step[0]), len(ordered))
    return ordered[max(position - 1, 0)][1]


def cpa_ladder_replicas(params, schedulable_nodes, schedulable_cores, total_nodes=None, total_cores=None):
    """The replicas the autoscaler's ladder controller asks for (``params`` as in its ConfigMap)."""
    nodes, cores = schedulable_nodes, schedulable_cores
    if params.get("includeUnschedulableNodes"):
        nodes = schedulable_nodes if total_nodes is None else total_nodes
        cores = schedulable_cores if total_cores is None else total_cores
    from_cores = _per_resource_ladder(cores, params.get("coresToReplicas") or [])
    from_nodes = _per_resource_ladder(nodes, params.get("nodesToReplicas") or [])
    return max(from_cores, from_nodes)


def _number(value):
    """A non-negative int or float from a number or a numeric string (an -e value); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value if value >= 0 else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        if number < 0 or math.isnan(number) or math.isinf(number):
            return None
        return int(number) if number.is_integer() else number
    return None


def _ladder(problems, variable, steps):
    """A list of [threshold, replicas] pairs of whole numbers, or None (with a problem)."""
    if not isinstance(steps, list):
        problems.add(variable, "must be a list of [threshold, replicas] pairs", steps)
        return None
    pairs = []
    for step in steps:
        pair = [as_int(part) for part in step] if isinstance(step, list) and len(step) == 2 else None
        if pair is None or None in pair or min(pair) < 0:
            problems.add(
                variable, "every step must be a [threshold, replicas] pair of whole numbers of 0 or more", step
            )
            return None
        pairs.append(pair)
    return pairs


def _typed(settings, problems):
    """The role's inputs as typed values (strings from -e accepted), with a problem per bad value."""
    typed = {}
    typed["eligible"] = problems.integer("coredns_eligible_nodes", settings.get("coredns_eligible_nodes"), minimum=1)
    mode = settings.get("coredns_autoscaler_mode")
    if mode not in MODES:
        problems.add("coredns_autoscaler_mode", f"must be one of {', '.join(MODES)}", mode)
    typed["mode"] = mode
    for name in ("coredns_autoscaler_cores_per_replica", "coredns_autoscaler_nodes_per_replica"):
        number = _number(settings.get(name))
        if number is None:
            problems.add(name, "must be a number of 0 or more", settings.get(name))
        typed[name] = number
    typed["min"] = problems.integer("coredns_autoscaler_min", settings.get("coredns_autoscaler_min"), minimum=1)
    raw_max = settings.get("coredns_autoscaler_max")
    if raw_max in (None, ""):
        typed["max"] = typed["eligible"]
    else:
        typed["max"] = problems.integer("coredns_autoscaler_max", raw_max, minimum=1)
    for name in (
        "coredns_autoscaler_prevent_single_point_failure",
        "coredns_autoscaler_include_unschedulable_nodes",
        "coredns_nodelocaldns_enabled",
    ):
        typed[name] = problems.boolean(name, settings.get(name))
    typed["cores_ladder"] = _ladder(
        problems,
        "coredns_autoscaler_ladder_cores_to_replicas",
        settings.get("coredns_autoscaler_ladder_cores_to_replicas"),
    )
    typed["nodes_ladder"] = _ladder(
        problems,
        "coredns_autoscaler_ladder_nodes_to_replicas",
        settings.get("coredns_autoscaler_ladder_nodes_to_replicas"),
    )
    return typed


def _address(problems, variable, value):
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        problems.add(variable, "must be an IP address", value)
        return None


def _min_max_problems(settings, typed, problems):
    eligible, minimum, maximum = typed["eligible"], typed["min"], typed["max"]
    if eligible is not None and minimum is not None and minimum > eligible:
        problems.add(
            "coredns_autoscaler_min",
            f"must be at most the {eligible} nodes CoreDNS may run on (coredns_eligible_nodes): "
            "one replica per node under the required anti-affinity",
            minimum,
        )
    if settings.get("coredns_autoscaler_max") in (None, "") or maximum is None:
        return
    if minimum is not None and minimum > maximum:
        problems.add("coredns_autoscaler_min", f"must be at most coredns_autoscaler_max ({maximum})", minimum)
    if eligible is not None and maximum > eligible:
        problems.add(
            "coredns_autoscaler_max",
            f"must be at most the {eligible} nodes CoreDNS may run on (coredns_eligible_nodes): "
            "more replicas stay Pending under the required anti-affinity",
            maximum,
        )


def _mode_problems(typed, problems):
    eligible = typed["eligible"]
    if typed["mode"] == "linear":
        cores, nodes = typed["coredns_autoscaler_cores_per_replica"], typed["coredns_autoscaler_nodes_per_replica"]
        if cores == 0 and nodes == 0:
            problems.add(
                "coredns_autoscaler_nodes_per_replica",
                "coredns_autoscaler_cores_per_replica or coredns_autoscaler_nodes_per_replica must be above 0",
                nodes,
            )
    if typed["mode"] != "ladder" or eligible is None:
        return
    for variable, steps in (
        ("coredns_autoscaler_ladder_cores_to_replicas", typed["cores_ladder"]),
        ("coredns_autoscaler_ladder_nodes_to_replicas", typed["nodes_ladder"]),
    ):
        too_many = [step for step in steps or [] if step[1] > eligible]
        if too_many:
            problems.add(
                variable,
                f"no step may ask for more replicas than the {eligible} nodes CoreDNS may run on "
                "(coredns_eligible_nodes)",
                too_many,
            )
    if not (typed["cores_ladder"] or typed["nodes_ladder"]) and typed["cores_ladder"] is not None:
        problems.add("coredns_autoscaler_ladder_nodes_to_replicas", "the ladder mode needs at least one step", [])


def _nodelocal_problems(settings, typed, problems):
    service_ip = _address(problems, "coredns_service_ip", settings.get("coredns_service_ip"))
    if not typed["coredns_nodelocaldns_enabled"]:
        return
    local = _address(problems, "coredns_nodelocaldns_ip", settings.get("coredns_nodelocaldns_ip"))
    if local is not None and (local.version != 4 or local not in LINK_LOCAL):
        problems.add("coredns_nodelocaldns_ip", "must be a link-local address (169.254.0.0/16)", str(local))
    if local is not None and service_ip is not None and local == service_ip:
        problems.add("coredns_nodelocaldns_ip", "must differ from coredns_service_ip", str(local))
    proxy = settings.get("coredns_kube_proxy_mode")
    if proxy not in PROXY_MODES:
        problems.add("coredns_kube_proxy_mode", f"must be one of {', '.join(PROXY_MODES)}", proxy)


def coredns_problems(settings):
    """One message per problem in the coredns role's input, each naming its variable."""
    problems = Problems()
    typed = _typed(settings, problems)
    _min_max_problems(settings, typed, problems)
    _mode_problems(typed, problems)
    _nodelocal_problems(settings, typed, problems)
    kubelet_dns = settings.get("kubelet_cluster_dns")
    if kubelet_dns is not None and not problems.messages:
        wanted = coredns_kubelet_cluster_dns(settings)
        if list(kubelet_dns) != wanted:
            problems.add(
                "kubelet_cluster_dns",
                f"must be {wanted} for this CoreDNS setup (coredns_service_ip, NodeLocal DNSCache and kube-proxy mode)",
                list(kubelet_dns),
            )
    return problems.messages


def coredns_kubelet_cluster_dns(settings):
    """The kubelet's clusterDNS for this setup.

    NodeLocal DNSCache in iptables (or nftables) mode also binds the kube-dns service address on every
    node, so the kubelet keeps the service address; in IPVS mode the service address is taken by the IPVS
    dummy interface, so the kubelet must point pods at the link-local address.
    """
    if as_bool(settings.get("coredns_nodelocaldns_enabled")) and settings.get("coredns_kube_proxy_mode") == "ipvs":
        return [str(settings["coredns_nodelocaldns_ip"])]
    return [str(settings["coredns_service_ip"])]


def coredns_nodelocaldns_bind(settings):
    """The addresses node-local-dns listens on (its -localip and the Corefile's bind)."""
    local = str(settings["coredns_nodelocaldns_ip"])
    if settings.get("coredns_kube_proxy_mode") == "ipvs":
        return [local]
    return [local, str(settings["coredns_service_ip"])]


def coredns_autoscaler_params(settings):
    """The autoscaler's ConfigMap data: ``{mode: json-ready params}``; max defaults to the eligible nodes."""
    problems = Problems()
    typed = _typed(settings, problems)
    if problems:
        raise ValueError("; ".join(problems.messages))
    include = typed["coredns_autoscaler_include_unschedulable_nodes"]
    if typed["mode"] == "ladder":
        return {
            "ladder": {
                "coresToReplicas": typed["cores_ladder"],
                "nodesToReplicas": typed["nodes_ladder"],
                "includeUnschedulableNodes": include,
            }
        }
    return {
        "linear": {
            "coresPerReplica": typed["coredns_autoscaler_cores_per_replica"],
            "nodesPerReplica": typed["coredns_autoscaler_nodes_per_replica"],
            "min": typed["min"],
            "max": typed["max"],
            "preventSinglePointFailure": typed["coredns_autoscaler_prevent_single_point_failure"],
            "includeUnschedulableNodes": include,
        }
    }


def coredns_expected_replicas(params, nodes, cores):
    """The replicas the autoscaler picks for ``params`` (the ConfigMap data) on ``nodes`` nodes and ``cores`` cores."""
    if "ladder" in params:
        return cpa_ladder_replicas(params["ladder"], nodes, cores)
    return cpa_linear_replicas(params["linear"], nodes, cores)


def coredns_memory_mib(nodes, pods_per_node, services):
    """CoreDNS memory in MiB from the cluster's size: CoreDNS's own guidance for the kubernetes plugin,
    ``(pods + services) / 1000 + 54`` MB (cache and buffers included), rounded up, at least 70."""
    objects = int(nodes) * int(pods_per_node) + int(services)
    return max(70, math.ceil(objects / 1000 + 54))


class FilterModule:
    def filters(self):
        return {
            "cpa_linear_replicas": cpa_linear_replicas,
            "cpa_ladder_replicas": cpa_ladder_replicas,
            "coredns_problems": coredns_problems,
            "coredns_kubelet_cluster_dns": coredns_kubelet_cluster_dns,
            "coredns_nodelocaldns_bind": coredns_nodelocaldns_bind,
            "coredns_autoscaler_params": coredns_autoscaler_params,
            "coredns_expected_replicas": coredns_expected_replicas,
            "coredns_memory_mib": coredns_memory_mib,
        }
