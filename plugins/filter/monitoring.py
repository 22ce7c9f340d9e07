# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Filters for the monitoring role: scrape targets from the inventory, and the cross-field checks of its
variables (pure functions)."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

RECEIVER_TYPES = ("webhook", "slack", "pagerduty", "email")
TLS_KINDS = ("none", "monitoring", "etcd", "kubernetes")
RELABEL_ACTIONS = (
    "replace",
    "keep",
    "drop",
    "hashmod",
    "labelmap",
    "labeldrop",
    "labelkeep",
    "lowercase",
    "uppercase",
    "keepequal",
    "dropequal",
)
_DURATION = re.compile(r"^((\d+)y)?((\d+)w)?((\d+)d)?((\d+)h)?((\d+)m)?((\d+)s)?((\d+)ms)?$")
_UNITS_MS = (365 * 86400000, 7 * 86400000, 86400000, 3600000, 60000, 1000, 1)
_JOB_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# RE2 (Prometheus) has none of these Python-only constructs: lookarounds, backreferences, possessive
# and atomic groups, conditionals.
_NOT_RE2 = re.compile(r"\(\?[=!]|\(\?<[=!]|\\[1-9]|\(\?>|\(\?\(|\(\?P=|(?<!\\)[*+?}]\+")
# Inventory groups in the order that gives a host its pool when monitoring_pool is not set.
POOL_GROUPS = (("gpu", "gpu"), ("kube_node", "worker"), ("kube_control_plane", "control_plane"))


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


def _relabel_problems(where, rules):
    problems = []
    if not isinstance(rules, list):
        return [f"{where} must be a list of relabel rules"]
    for index, rule in enumerate(rules):
        name = f"{where}[{index}]"
        if not isinstance(rule, dict):
            problems.append(f"{name} must be a mapping")
            continue
        action = rule.get("action", "replace")
        if action not in RELABEL_ACTIONS:
            problems.append(f"{name}.action '{action}' is not one of {', '.join(RELABEL_ACTIONS)}")
        if "regex" in rule:
            why = relabel_regex_problem(rule["regex"])
            if why:
                problems.append(f"{name}.regex '{rule['regex']}' {why}")
    return problems


def _interval_problems(settings):
    problems = []
    scrape = duration_ms(settings.get("scrape_interval"))
    timeout = duration_ms(settings.get("scrape_timeout"))
    evaluation = duration_ms(settings.get("evaluation_interval"))
    for key, value in (("scrape_interval", scrape), ("scrape_timeout", timeout), ("evaluation_interval", evaluation)):
        if not value:
            problems.append(f"monitoring_{key} '{settings.get(key)}' is not a positive Prometheus duration")
    if scrape and evaluation and scrape > evaluation:
        problems.append(
            f"monitoring_scrape_interval {settings['scrape_interval']} is above monitoring_evaluation_interval "
            f"{settings['evaluation_interval']}: rules would see gaps between samples"
        )
    if scrape and timeout and timeout > scrape:
        problems.append(
            f"monitoring_scrape_timeout {settings['scrape_timeout']} is above monitoring_scrape_interval "
            f"{settings['scrape_interval']}"
        )
    return problems, evaluation


def _job_problems(jobs, evaluation):
    problems = []
    if not isinstance(jobs, list):
        return ["monitoring_jobs must be a list"]
    seen = set()
    for index, job in enumerate(jobs):
        where = f"monitoring_jobs[{index}]"
        if not isinstance(job, dict) or not job.get("name"):
            problems.append(f"{where} needs a name")
            continue
        name = job["name"]
        where = f"monitoring_jobs[{index}] ({name})"
        if name in seen:
            problems.append(f"monitoring_jobs: duplicate job name '{name}'")
        seen.add(name)
        if not _JOB_NAME.match(str(name)):
            problems.append(f"{where}.name must match {_JOB_NAME.pattern}")
        if not job.get("group"):
            problems.append(f"{where}.group (the inventory group of its targets) is required")
        port = job.get("port")
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            problems.append(f"{where}.port must be a port number, got {port!r}")
        if job.get("tls", "none") not in TLS_KINDS:
            problems.append(f"{where}.tls '{job.get('tls')}' is not one of {', '.join(TLS_KINDS)}")
        interval = job.get("scrape_interval")
        if interval is not None:
            ms = duration_ms(interval)
            if not ms:
                problems.append(f"{where}.scrape_interval '{interval}' is not a positive Prometheus duration")
            elif evaluation and ms > evaluation:
                problems.append(
                    f"{where}.scrape_interval {interval} is above monitoring_evaluation_interval: rules would see gaps"
                )
        problems += _relabel_problems(f"{where}.metric_relabel_configs", job.get("metric_relabel_configs", []))
    return problems


def _receiver_problems(receivers, route_receivers):
    problems = []
    if not isinstance(receivers, list) or not receivers:
        return ["monitoring_alertmanager_receivers must be a non-empty list"]
    names = set()
    for index, receiver in enumerate(receivers):
        where = f"monitoring_alertmanager_receivers[{index}]"
        if not isinstance(receiver, dict) or not receiver.get("name"):
            problems.append(f"{where} needs a name")
            continue
        if receiver["name"] in names:
            problems.append(f"monitoring_alertmanager_receivers: duplicate receiver name '{receiver['name']}'")
        names.add(receiver["name"])
        kind = receiver.get("type")
        if kind not in RECEIVER_TYPES:
            problems.append(
                f"{where} ({receiver['name']}).type '{kind}' is not a known receiver type: {', '.join(RECEIVER_TYPES)}"
            )
        elif kind in ("webhook", "slack") and not receiver.get("url"):
            problems.append(f"{where} ({receiver['name']}) of type {kind} needs a url")
        elif kind == "pagerduty" and not receiver.get("routing_key"):
            problems.append(f"{where} ({receiver['name']}) of type pagerduty needs a routing_key")
        elif kind == "email" and not receiver.get("to"):
            problems.append(f"{where} ({receiver['name']}) of type email needs a to address")
    for variable, name in route_receivers:
        if name not in names:
            problems.append(f"{variable} names receiver '{name}', which monitoring_alertmanager_receivers lacks")
    return problems


def monitoring_problems(settings):
    """Every problem of the monitoring variables, one message each naming the variable.

    ``settings``: ``scrape_interval``, ``scrape_timeout``, ``evaluation_interval``, ``jobs``,
    ``collector_shards``, ``receivers``, ``default_receiver``, ``routes`` (each with ``receiver``).
    """
    if not isinstance(settings, dict):
        raise AnsibleFilterError("monitoring_problems: expects a mapping of the role's settings")
    problems, evaluation = _interval_problems(settings)
    shards = settings.get("collector_shards")
    if not isinstance(shards, int) or isinstance(shards, bool) or shards < 1:
        problems.append(f"monitoring_collector_shards must be an integer of 1 or more, got {shards!r}")
    problems += _job_problems(settings.get("jobs", []), evaluation)
    routes = settings.get("routes", [])
    route_receivers = [("monitoring_alertmanager_default_receiver", settings.get("default_receiver"))]
    for index, route in enumerate(routes if isinstance(routes, list) else []):
        route_receivers.append((f"monitoring_alertmanager_routes[{index}].receiver", (route or {}).get("receiver")))
    problems += _receiver_problems(settings.get("receivers"), route_receivers)
    return problems


def _pool(host_vars, host_groups):
    if host_vars.get("monitoring_pool"):
        return str(host_vars["monitoring_pool"])
    for group, pool in POOL_GROUPS:
        if group in host_groups:
            return pool
    return "infra"


def _address(host, host_vars):
    if host_vars.get("monitoring_address"):
        return str(host_vars["monitoring_address"])
    facts = host_vars.get("ansible_facts") or {}
    address = (facts.get("default_ipv4") or {}).get("address")
    if not address:
        raise AnsibleFilterError(
            f"monitoring_targets: no address for {host}: set monitoring_address or gather its facts (network)"
        )
    return address


def monitoring_targets(jobs, groups, hostvars, cluster):
    """File service discovery content per job: ``{job: [{targets: [addr:port], labels: {...}}]}``.

    One entry per host of the job's group, labelled with ``instance`` (the inventory name, not
    address:port), ``cluster`` and ``pool`` (``monitoring_pool``, else from the host's groups).
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
                    "targets": [f"{_address(host, host_vars)}:{job['port']}"],
                    "labels": {
                        "instance": host,
                        "cluster": cluster,
                        "pool": _pool(host_vars, member_of.get(host, set())),
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
            "monitoring_targets": monitoring_targets,
            "monitoring_shard_hosts": monitoring_shard_hosts,
        }
