# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Filters of the node_problem_detector role: its monitor configurations, the per-host plugin file and
its input checks (pure functions).

The kernel monitor's patterns come from the check library (preflight_checks_host.KERNEL_PATTERNS and
preflight_checks_gpu.DEFAULT_XID_DRAIN / DEFAULT_XID_APPLICATION): one list for the preflight and for
node-problem-detector. node-problem-detector anchors a pattern at the end of the buffered log, so every
pattern here ends in ``.*``.
"""

from __future__ import annotations

import re

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_catalogue import catalogue
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_checks_gpu import (
    DEFAULT_XID_APPLICATION,
    DEFAULT_XID_DRAIN,
)
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_checks_host import KERNEL_PATTERNS
from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import Problems, as_int

# The event reason of each group of kernel patterns (temporary: an event, no condition).
KERNEL_REASONS = {
    "kernel.hung_task": "TaskHung",
    "kernel.fs_errors": "FilesystemError",
    "kernel.oom_kill": "OOMKilling",
    "kernel.unregister_netdevice": "UnregisterNetDevice",
    "kernel.nvme_errors": "NVMeIOError",
    "kernel.oops": "KernelOops",
}
_CAMEL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_GROUP = re.compile(r"^[a-z][a-z0-9_]*$")
_DURATION = re.compile(r"^\d+(ms|s|m|h)$")
_XID_PREFIX = r"NVRM: Xid \(PCI:[0-9a-fA-F:.]+\): "


def _codes(values):
    return "|".join(str(int(code)) for code in sorted({int(code) for code in values}))


def npd_kernel_monitor(settings):
    """The kernel monitor (kmsg) configuration: events for every kernel pattern of the check library and
    permanent conditions for the faults that must keep work away: a hung container runtime, a read-only
    or shut-down filesystem, a drain-class Xid."""
    drain = settings.get("xid_drain") or DEFAULT_XID_DRAIN
    application = settings.get("xid_application") or DEFAULT_XID_APPLICATION
    rules = [
        {"type": "temporary", "reason": KERNEL_REASONS[check_id], "pattern": f"(?:{pattern}).*"}
        for check_id, patterns in KERNEL_PATTERNS.items()
        for pattern in patterns
    ]
    rules += [
        {"type": "temporary", "reason": "GPUApplicationXid", "pattern": f"{_XID_PREFIX}(?:{_codes(application)}),.*"},
        {
            "type": "permanent",
            "condition": "KernelDeadlock",
            "reason": "ContainerRuntimeHung",
            "pattern": r"task (?:containerd|containerd-shim\S*|runc):\w+ blocked for more than \w+ seconds\..*",
        },
        {
            "type": "permanent",
            "condition": "ReadonlyFilesystem",
            "reason": "FilesystemIsReadOnly",
            "pattern": r"Remounting filesystem read-only.*",
        },
        {
            "type": "permanent",
            "condition": "XfsShutdown",
            "reason": "XfsHasShutdown",
            "pattern": r"XFS .* Shutting down filesystem.*",
        },
        {
            "type": "permanent",
            "condition": "GPUXidProblem",
            "reason": "DrainClassXid",
            "pattern": f"{_XID_PREFIX}(?:{_codes(drain)}),.*",
        },
    ]
    return {
        "plugin": "kmsg",
        "logPath": "/dev/kmsg",
        "lookback": settings.get("lookback", "5m"),
        "bufferSize": 10,
        "source": "kernel-monitor",
        "metricsReporting": True,
        "conditions": [
            {"type": "KernelDeadlock", "reason": "KernelHasNoDeadlock", "message": "kernel has no deadlock"},
            {
                "type": "ReadonlyFilesystem",
                "reason": "FilesystemIsNotReadOnly",
                "message": "Filesystem is not read-only",
            },
            {"type": "XfsShutdown", "reason": "XfsHasNotShutDown", "message": "XFS has not shutdown"},
            {"type": "GPUXidProblem", "reason": "NoDrainClassXid", "message": "no drain-class Xid in the kernel log"},
        ],
        "rules": rules,
    }


def npd_custom_plugin_monitor(groups, command, settings):
    """The custom plugin monitor: one condition per check group, set by a permanent rule that runs the
    ``command`` (the node's Python and the runner) through ``chroot /host``, so the node's own Python
    and tools run, with the group's name as the last argument."""
    return {
        "plugin": "custom",
        "pluginConfig": {
            "invoke_interval": settings.get("invoke_interval", "60s"),
            "timeout": settings.get("timeout", "30s"),
            "max_output_length": int(settings.get("max_output_length", 80)),
            "concurrency": int(settings.get("concurrency", 3)),
            "enable_message_change_based_condition_update": False,
        },
        "source": "aiplatform-checks",
        "metricsReporting": True,
        "conditions": [
            {"type": group["condition"], "reason": group["ok_reason"], "message": f"{group['name']} checks pass"}
            for group in groups
        ],
        "rules": [
            {
                "type": "permanent",
                "condition": group["condition"],
                "reason": group["problem_reason"],
                "path": "/usr/sbin/chroot",
                "args": ["/host", *command, group["name"]],
                "timeout": settings.get("timeout", "30s"),
            }
            for group in groups
        ],
    }


def npd_host_checks(groups, is_gpu_node, settings, max_output_length=80, command_timeout=10):
    """The per-host plugin file: the check ids of each group (none of a GPU-only group on other nodes)."""
    return {
        "groups": {
            group["name"]: [] if group.get("gpu_only") and not is_gpu_node else list(group["checks"])
            for group in groups
        },
        "settings": dict(settings or {}),
        "max_output_length": int(max_output_length),
        "command_timeout": float(command_timeout),
    }


def _group_problems(group, names, conditions, known, problems):
    variable = "node_problem_detector_check_groups"
    if not isinstance(group, dict):
        problems.add(variable, "every group must be a dict", group)
        return
    name = group.get("name")
    where = f"{variable}[{name}]"
    unknown = sorted(set(group) - {"name", "condition", "ok_reason", "problem_reason", "gpu_only", "checks"})
    if unknown:
        problems.add(where, "has unknown keys (name, condition, ok_reason, problem_reason, gpu_only, checks)", unknown)
    if not isinstance(name, str) or not _GROUP.match(name) or name in names:
        problems.add(where, "name must be a unique lower-case word (a-z, 0-9, _)", name)
    names.add(name)
    for key in ("condition", "ok_reason", "problem_reason"):
        if not isinstance(group.get(key), str) or not _CAMEL.match(group.get(key)):
            problems.add(f"{where}.{key}", "must be a CamelCase word (a node condition type or reason)", group.get(key))
    if group.get("condition") in conditions:
        problems.add(f"{where}.condition", "must differ from every other group's condition", group.get("condition"))
    conditions.add(group.get("condition"))
    checks = group.get("checks")
    if not isinstance(checks, list) or not checks:
        problems.add(f"{where}.checks", "must be a non-empty list of check ids", checks)
        return
    missing = [check_id for check_id in checks if check_id not in known]
    if missing:
        problems.add(f"{where}.checks", "names checks the library does not have", missing)


def _xid_problems(settings, problems):
    for name in ("node_problem_detector_xid_drain", "node_problem_detector_xid_application"):
        value = settings.get(name)
        if not isinstance(value, list) or any(as_int(code) is None or as_int(code) < 1 for code in value):
            problems.add(name, "must be a list of Xid numbers (empty: the check library's list)", value)
    drain = {as_int(code) for code in settings.get("node_problem_detector_xid_drain") or [] if as_int(code)}
    both = sorted(drain & {as_int(code) for code in settings.get("node_problem_detector_xid_application") or []})
    if both:
        problems.add("node_problem_detector_xid_application", "must not repeat a drain-class Xid", both)


def node_problem_detector_problems(settings):
    """One message per problem in the node_problem_detector role's input, each naming its variable."""
    problems = Problems()
    groups = settings.get("node_problem_detector_check_groups")
    if not isinstance(groups, list) or not groups:
        problems.add("node_problem_detector_check_groups", "must be a non-empty list of check groups", groups)
        groups = []
    known = catalogue()
    names, conditions = set(), set()
    for group in groups:
        _group_problems(group, names, conditions, known, problems)
    for name in ("node_problem_detector_invoke_interval", "node_problem_detector_plugin_timeout"):
        value = settings.get(name)
        if not isinstance(value, str) or not _DURATION.match(value):
            problems.add(name, "must be a duration such as 30s or 5m", value)
    problems.integer(
        "node_problem_detector_max_output_length", settings.get("node_problem_detector_max_output_length"), minimum=1
    )
    problems.integer("node_problem_detector_concurrency", settings.get("node_problem_detector_concurrency"), minimum=1)
    _xid_problems(settings, problems)
    if not isinstance(settings.get("node_problem_detector_check_settings"), dict):
        problems.add(
            "node_problem_detector_check_settings",
            "must be a dict of check settings",
            settings.get("node_problem_detector_check_settings"),
        )
    return problems.messages


class FilterModule:
    def filters(self):
        return {
            "npd_kernel_monitor": npd_kernel_monitor,
            "npd_custom_plugin_monitor": npd_custom_plugin_monitor,
            "npd_host_checks": npd_host_checks,
            "node_problem_detector_problems": node_problem_detector_problems,
        }
