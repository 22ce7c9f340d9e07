# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""The topology contract: which inventory group plays which part (pure functions, docs/architecture.md).

The parts are the keys of ``topology_groups`` (control_plane, nodes, gpu, monitoring) and one part per
entry of ``topology_etcd_clusters``. playbooks/topology.yml makes every inventory group a child of a
collection-owned group ``aiplatform_<part>`` (``aiplatform_etcd`` and ``aiplatform_etcd_<name>`` for
the etcd clusters), which the playbooks target.
"""

from __future__ import annotations

import re

from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import Problems

PREFIX = "aiplatform_"
_GROUP = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CLUSTER = re.compile(r"^[a-z][a-z0-9_]*$")
# topology_cluster_name names a folder under the state directory.
_CLUSTER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
# group/resource of --etcd-servers-overrides (the core API group is empty: /events).
_RESOURCE = re.compile(r"^[a-z0-9.-]*/[a-z0-9]+$")
_PORTS = ("client_port", "peer_port", "metrics_port")


def topology_parts(topology_groups, etcd_clusters):
    """Every part: ``{part, group, parents}`` (+ ``cluster`` for an etcd cluster), in contract order."""
    parts = [
        {"part": part, "group": group, "parents": [PREFIX + part]}
        for part, group in (topology_groups or {}).items()
        if group
    ]
    for cluster in etcd_clusters or []:
        parts.append(
            {
                "part": "etcd",
                "cluster": cluster["name"],
                "group": cluster["group"],
                "parents": [PREFIX + "etcd", f"{PREFIX}etcd_{cluster['name']}"],
            }
        )
    return parts


def topology_seed_links(parts, groups, host):
    """The links ``{group, parents}`` that ``host`` makes: those of the groups whose first host it is."""
    links = {}
    for part in parts:
        members = (groups or {}).get(part["group"]) or []
        if members and members[0] == host:
            parents = links.setdefault(part["group"], [])
            parents.extend(p for p in part["parents"] if p not in parents)
    return [{"group": group, "parents": parents} for group, parents in links.items()]


def topology_seeds(parts, groups):
    """One host per group of the contract (its first), each once: the hosts that build the links."""
    seeds = []
    for part in parts:
        members = (groups or {}).get(part["group"]) or []
        if members and members[0] not in seeds:
            seeds.append(members[0])
    return seeds


def topology_host_parts(group_names, topology_groups, etcd_clusters):
    """The parts a host with these ``group_names`` plays, sorted (``etcd`` once for any cluster)."""
    names = set(group_names or [])
    return sorted({p["part"] for p in topology_parts(topology_groups, etcd_clusters) if p["group"] in names})


def topology_host_etcd_clusters(group_names, etcd_clusters):
    """The entries of ``topology_etcd_clusters`` a host with these ``group_names`` is a member of."""
    names = set(group_names or [])
    return [cluster for cluster in etcd_clusters or [] if cluster.get("group") in names]


def topology_problems(topology_groups, etcd_clusters, cluster_name=None):
    """One message per broken rule of the contract, naming the variable (empty when it holds);
    ``cluster_name`` (topology_cluster_name) is checked when given."""
    problems = Problems()
    if cluster_name is not None and (not isinstance(cluster_name, str) or not _CLUSTER_NAME.match(cluster_name)):
        problems.add("topology_cluster_name", "must start with a-z or 0-9 and hold only a-z, 0-9, '.', '_' and '-' "
                     "(it names the cluster's folder under topology_state_dir)", cluster_name)  # fmt: skip
    for part, group in (topology_groups or {}).items():
        if not isinstance(group, str) or not _GROUP.match(group):
            problems.add(f"topology_groups.{part}", "must be an inventory group name (letters, digits, _)", group)
    if not isinstance(etcd_clusters, list) or not etcd_clusters:
        problems.add("topology_etcd_clusters", "must list at least one cluster", etcd_clusters)
        return problems.messages
    seen = {"names": [], "ports": {}, "resources": {}, "mains": []}
    for index, cluster in enumerate(etcd_clusters):
        if isinstance(cluster, dict):
            _cluster_problems(problems, f"topology_etcd_clusters[{index}]", cluster, seen)
        else:
            problems.add(f"topology_etcd_clusters[{index}]", "must be a dict with name, group and ports", cluster)
    if len(seen["mains"]) != 1:
        problems.add(
            "topology_etcd_clusters",
            "exactly one cluster must have no apiserver_resources (the main store of kube-apiserver)",
            seen["mains"],
        )
    return problems.messages


def _cluster_problems(problems, where, cluster, seen):
    name = cluster.get("name")
    if not isinstance(name, str) or not _CLUSTER.match(name):
        problems.add(f"{where}.name", "must start with a-z and hold only a-z, 0-9 and _", name)
    elif name in seen["names"]:
        problems.add(f"{where}.name", "must be unique among the clusters", name)
    seen["names"].append(name)
    group = cluster.get("group")
    if not isinstance(group, str) or not _GROUP.match(group):
        problems.add(f"{where}.group", "must be an inventory group name (letters, digits, _)", group)
    for key in _PORTS:
        port = problems.integer(f"{where}.{key}", cluster.get(key), minimum=1, maximum=65535)
        if port is not None and port in seen["ports"]:
            # Members of two clusters may share a host: every port of every cluster must differ.
            problems.add(f"{where}.{key}", f"must differ from {seen['ports'][port]}", port)
        elif port is not None:
            seen["ports"][port] = f"{where}.{key}"
    wanted = cluster.get("apiserver_resources") or []
    if not isinstance(wanted, list):
        problems.add(f"{where}.apiserver_resources", "must be a list of group/resource", wanted)
        return
    if not wanted:
        seen["mains"].append(name)
    for resource in wanted:
        if not isinstance(resource, str) or not _RESOURCE.match(resource):
            problems.add(f"{where}.apiserver_resources", "entries must be group/resource (core: /events)", resource)
        elif resource in seen["resources"]:
            problems.add(f"{where}.apiserver_resources", f"{resource} is already kept by {seen['resources'][resource]}")
        else:
            seen["resources"][resource] = name


class FilterModule:
    """The topology contract's filters."""

    def filters(self):
        return {
            "topology_parts": topology_parts,
            "topology_seed_links": topology_seed_links,
            "topology_seeds": topology_seeds,
            "topology_host_parts": topology_host_parts,
            "topology_host_etcd_clusters": topology_host_etcd_clusters,
            "topology_problems": topology_problems,
        }
