# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Filters for the monitoring role: scrape jobs and targets from the topology contract and the inventory,
and the cross-field checks of its variables (pure functions). Types and choices (TLS kinds, receiver
types, relabel actions) are the argument spec's."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.cluster.plugins.module_utils.addresses import host_address
from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import Problems
from ansible_collections.aiplatform.cluster.plugins.module_utils.state_store import stores_problems
from ansible_collections.aiplatform.cluster.plugins.module_utils.urls import host_port

_DURATION = re.compile(r"^((\d+)y)?((\d+)w)?((\d+)d)?((\d+)h)?((\d+)m)?((\d+)s)?((\d+)ms)?$")
_UNITS_MS = (365 * 86400000, 7 * 86400000, 86400000, 3600000, 60000, 1000, 1)
_JOB_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# RE2 (Prometheus) has none of these Python-only constructs: lookarounds, backreferences, possessive
# and atomic groups, conditionals.
_NOT_RE2 = re.compile(r"\(\?[=!]|\(\?<[=!]|\\[1-9]|\(\?>|\(\?\(|\(\?P=|(?<!\\)[*+?}]\+")
# A job's part besides those of topology_groups: every host, and every member of every etcd cluster.
ALL = "all"
ETCD = "etcd"
# The parts (topology_groups keys) that give a host its pool when monitoring_pool is not set, in order.
POOL_PARTS = (("gpu", "gpu"), ("nodes", "worker"), ("control_plane", "control_plane"))
# What each receiver type needs besides its name.
RECEIVER_NEEDS = {"webhook": "url", "slack": "url", "pagerduty": "routing_key", "email": "to"}


def duration_ms(value):
    """Milliseconds of a Prometheus duration (``30s``, ``1m30s``, ``2h``); None when it is not one."""
    if not isinstance(value, str) or not value:
        return None
    match = _DURATION.match(value)
    if not match:
        return None
    numbers = match.groups()[1::2]
    return sum(int(n) * unit for n, unit in zip(numbers, _UNITS_MS, strict=True) if n)


def relabel_regex_problem(regex):
    """Why ``regex`` is not a valid Prometheus (RE2) relabel regex, or None."""
    if not isinstance(regex, str):
        return "is not a string"
    if _NOT_RE2.search(regex):
        return "uses a construct RE2 does not support (lookaround, backreference, atomic or possessive)"
    try:
        re.compile(regex)
    except re.error as exc:
        return f"does not compile ({exc})"
    return None


def _named(found, variable, entries, what):
    """The ``(where, entry)`` of each entry of a list of named mappings; a missing or repeated name is a problem."""
    seen = set()
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        where = f"{variable}[{index}]"
        if not isinstance(entry, dict) or not entry.get("name"):
            found.add(where, f"needs a name ({what})", entry)
            continue
        if entry["name"] in seen:
            found.add(variable, f"repeats the {what} name", entry["name"])
        seen.add(entry["name"])
        yield f"{where} ({entry['name']})", entry


def _interval_problems(settings, found):
    names = ("monitoring_scrape_interval", "monitoring_scrape_timeout", "monitoring_evaluation_interval")
    scrape, timeout, evaluation = (duration_ms(settings.get(name)) for name in names)
    for name, value in zip(names, (scrape, timeout, evaluation), strict=True):
        if not value:
            found.add(name, "is not a positive Prometheus duration", settings.get(name))
    if scrape and evaluation and scrape > evaluation:
        found.add(
            "monitoring_scrape_interval",
            f"is above monitoring_evaluation_interval {settings['monitoring_evaluation_interval']}: "
            "rules would see gaps between samples",
            settings["monitoring_scrape_interval"],
        )
    if scrape and timeout and timeout > scrape:
        found.add(
            "monitoring_scrape_timeout",
            f"is above monitoring_scrape_interval {settings['monitoring_scrape_interval']}",
            settings["monitoring_scrape_timeout"],
        )
    return evaluation


def _job_problems(settings, parts, evaluation, found):
    for where, job in _named(found, "monitoring_jobs", settings.get("monitoring_jobs"), "job"):
        if not _JOB_NAME.match(str(job["name"])):
            found.add(f"{where}.name", f"must match {_JOB_NAME.pattern}", job["name"])
        if ("part" in job) == ("group" in job):
            found.add(where, "needs exactly one of part (a part of the topology contract) and group", sorted(job))
        elif "part" in job and job["part"] not in (ALL, ETCD, *parts):
            found.add(f"{where}.part", f"is not one of {', '.join((ALL, ETCD, *parts))}", job["part"])
        if job.get("part") == ETCD:
            if "port" in job:
                found.add(
                    f"{where}.port",
                    "is each etcd cluster's client_port (topology_etcd_clusters): remove it",
                    job["port"],
                )
        elif not 0 < _int(job.get("port")) < 65536:
            found.add(f"{where}.port", "must be a port number", job.get("port"))
        interval = job.get("scrape_interval")
        if interval is not None:
            ms = duration_ms(interval)
            if not ms:
                found.add(f"{where}.scrape_interval", "is not a positive Prometheus duration", interval)
            elif evaluation and ms > evaluation:
                found.add(
                    f"{where}.scrape_interval",
                    "is above monitoring_evaluation_interval: rules would see gaps",
                    interval,
                )
        for index, rule in enumerate(job.get("metric_relabel_configs") or []):
            why = relabel_regex_problem(rule["regex"]) if isinstance(rule, dict) and "regex" in rule else None
            if why:
                found.add(f"{where}.metric_relabel_configs[{index}].regex", why, rule["regex"])


def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def _receiver_problems(settings, found):
    names = set()
    for where, receiver in _named(
        found, "monitoring_alertmanager_receivers", settings.get("monitoring_alertmanager_receivers"), "receiver"
    ):
        names.add(receiver["name"])
        need = RECEIVER_NEEDS.get(receiver.get("type"))
        if need and not receiver.get(need):
            found.add(where, f"of type {receiver['type']} needs {need}", sorted(receiver))
    routes = settings.get("monitoring_alertmanager_routes")
    route_receivers = [
        ("monitoring_alertmanager_default_receiver", settings.get("monitoring_alertmanager_default_receiver"))
    ]
    for index, route in enumerate(routes if isinstance(routes, list) else []):
        route_receivers.append((f"monitoring_alertmanager_routes[{index}].receiver", (route or {}).get("receiver")))
    for variable, name in route_receivers:
        if name not in names:
            found.add(variable, "names a receiver monitoring_alertmanager_receivers lacks", name)


def monitoring_problems(settings, parts=()):
    """Every problem of the monitoring variables, one message each naming the variable.

    ``settings`` maps the role's variable names to their typed values; ``parts`` is the parts of the
    topology contract (the keys of topology_groups) a job's ``part`` may name besides ``all`` and ``etcd``.
    ``stores`` ([{variable, path, work_tree}], the monitoring CA's store) is refused inside a git work tree
    unless ``topology_state_allow_in_git``.
    """
    if not isinstance(settings, dict):
        raise AnsibleFilterError("monitoring_problems: expects a mapping of the role's settings")
    found = Problems()
    evaluation = _interval_problems(settings, found)
    if _int(settings.get("monitoring_collector_shards")) < 1:
        found.add(
            "monitoring_collector_shards",
            "must be an integer of 1 or more",
            settings.get("monitoring_collector_shards"),
        )
    _job_problems(settings, list(parts), evaluation, found)
    _receiver_problems(settings, found)
    found.messages.extend(stores_problems(settings.get("stores"), settings.get("topology_state_allow_in_git")))
    return found.messages


def monitoring_scrape_jobs(jobs, topology_groups, etcd_clusters):
    """The jobs with the inventory group of their targets: ``part`` read through the topology contract.

    A job of part ``etcd`` becomes one job per etcd cluster, ``<name>_<cluster>`` on the cluster's
    group and client port; part ``all`` is every host; a job with its own ``group`` keeps it.
    """
    resolved = []
    for job in jobs:
        part = job.get("part")
        base = {key: value for key, value in job.items() if key != "part"}
        if part == ETCD:
            for cluster in etcd_clusters:
                resolved.append(
                    dict(
                        base,
                        name=f"{job['name']}_{cluster['name']}",
                        group=cluster["group"],
                        port=cluster["client_port"],
                    )
                )
        elif part == ALL:
            resolved.append(dict(base, group=ALL))
        elif part is not None:
            resolved.append(dict(base, group=topology_groups[part]))
        else:
            resolved.append(base)
    return resolved


def _pool(host_vars, host_groups, topology_groups):
    if host_vars.get("monitoring_pool"):
        return str(host_vars["monitoring_pool"])
    for part, pool in POOL_PARTS:
        if topology_groups.get(part) in host_groups:
            return pool
    return "infra"


def monitoring_address(host, host_vars):
    """Where a host is scraped: ``monitoring_address``, else its default IPv4 address from its facts."""
    address = host_address(host_vars, "monitoring_address")
    if not address:
        raise AnsibleFilterError(
            f"monitoring_targets: no address for {host}: set monitoring_address or gather its facts (network)"
        )
    return address


def monitoring_targets(jobs, groups, hostvars, cluster, topology_groups):
    """File service discovery content per job: ``{job: [{targets: [addr:port], labels: {...}}]}``.

    One entry per host of the job's group, labelled with ``instance`` (the inventory name, not
    address:port), ``cluster`` and ``pool`` (``monitoring_pool``, else from the parts the host plays in
    ``topology_groups``). An IPv6 address is bracketed.
    """
    if not isinstance(jobs, list):
        raise AnsibleFilterError("monitoring_targets: expects the list of jobs")
    member_of = {}
    for group, hosts in groups.items():
        for host in hosts:
            member_of.setdefault(host, set()).add(group)
    result = {}
    for job in jobs:
        entries = []
        for host in groups.get(job["group"], []):
            host_vars = hostvars[host]
            entries.append(
                {
                    "targets": [host_port(monitoring_address(host, host_vars), job["port"])],
                    "labels": {
                        "instance": host,
                        "cluster": cluster,
                        "pool": _pool(host_vars, member_of.get(host, set()), topology_groups),
                    },
                }
            )
        result[job["name"]] = entries
    return result


def monitoring_shard_hosts(shards, hosts):
    """Which host runs each collector shard: shard i on hosts[i % len(hosts)], as ``{host: [shards]}``."""
    if not hosts:
        return {}
    placement = {host: [] for host in hosts}
    for shard in range(int(shards)):
        placement[hosts[shard % len(hosts)]].append(shard)
    return placement


class FilterModule:
    """Monitoring filters."""

    def filters(self):
        return {
            "monitoring_problems": monitoring_problems,
            "monitoring_scrape_jobs": monitoring_scrape_jobs,
            "monitoring_targets": monitoring_targets,
            "monitoring_shard_hosts": monitoring_shard_hosts,
            "monitoring_address": monitoring_address,
        }
