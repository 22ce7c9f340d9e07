# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Filters of the node_os role: its input checks, and the sysctl plan and verdict (pure functions)."""

from __future__ import annotations

import fnmatch
import ipaddress
import re

from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import Problems, as_float, as_int

# Top levels of /proc/sys: a key outside them is not a kernel parameter.
SYSCTL_TOPS = ("abi", "crypto", "debug", "dev", "fs", "kernel", "net", "sunrpc", "user", "vm")
_SYSCTL_KEY = re.compile(r"^[a-z]+(\.[A-Za-z0-9_-]+)+$")
_HOST_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_SIZE = re.compile(r"^[0-9]+[KMGT]?$")
_MODULE = re.compile(r"^[a-z0-9_-]+$")
_INT_VECTOR = re.compile(r"^[0-9]+( [0-9]+)*$")
_CHRONY_OPTIONS = re.compile(r"^[A-Za-z0-9 ._-]*$")

# One variable per large-fleet setting: name of the variable -> the sysctl it sets.
LARGE_FLEET = {
    "node_os_neigh_gc_thresh1": "net.ipv4.neigh.default.gc_thresh1",
    "node_os_neigh_gc_thresh2": "net.ipv4.neigh.default.gc_thresh2",
    "node_os_neigh_gc_thresh3": "net.ipv4.neigh.default.gc_thresh3",
    "node_os_nf_conntrack_max": "net.netfilter.nf_conntrack_max",
    "node_os_somaxconn": "net.core.somaxconn",
    "node_os_inotify_max_user_instances": "fs.inotify.max_user_instances",
    "node_os_inotify_max_user_watches": "fs.inotify.max_user_watches",
    "node_os_file_max": "fs.file-max",
    "node_os_pid_max": "kernel.pid_max",
    "node_os_max_map_count": "vm.max_map_count",
}


def _non_negative_int(value):
    number = as_int(value)
    return number if number is not None and number >= 0 else None


def _is_host(value):
    if not isinstance(value, str) or not value:
        return False
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        pass
    name = value[:-1] if value.endswith(".") else value
    labels = name.split(".")
    return len(name) <= 253 and all(_HOST_LABEL.match(label) for label in labels) and not labels[-1].isdigit()


def sysctl_key_problem(key):
    """Why ``key`` is not a kernel parameter name, or None."""
    if not isinstance(key, str) or not _SYSCTL_KEY.match(key) or key.split(".")[0] not in SYSCTL_TOPS:
        return f"is not a sysctl key (dotted, under one of {', '.join(SYSCTL_TOPS)})"
    return None


def sysctl_value_text(value):
    """The value as /proc/sys shows it (``1``, ``1024 65535``), or None when it is not such a value."""
    number = _non_negative_int(value)
    if number is not None:
        return str(number)
    if isinstance(value, str) and _INT_VECTOR.match(" ".join(value.split())):
        return " ".join(value.split())
    return None


def node_os_problems(settings, fixed):
    """One message per problem in the role's input, each naming its variable.

    ``settings`` maps the role's variable names to their typed values; ``fixed`` is the sysctls the role
    sets whatever the input (Kubernetes networking and the kubelet's protectKernelDefaults list). Types
    and choices are the argument spec's; these are the rules it cannot state.
    """
    found = Problems()
    _fleet_problems(settings, found)
    _extra_problems(settings.get("node_os_sysctls"), fixed, found)
    _chrony_problems(settings, found)
    _other_problems(settings, found)
    return found.messages


def _fleet_problems(settings, found):
    for var in LARGE_FLEET:
        number = _non_negative_int(settings.get(var))
        if number is None:
            found.add(var, "must be a non-negative whole number", settings.get(var))
        elif number == 0 and not var.startswith("node_os_neigh_gc_thresh"):
            found.add(var, "must be 1 or more (0 leaves the host without it)", settings.get(var))
    gc = [_non_negative_int(settings.get(f"node_os_neigh_gc_thresh{i}")) for i in (1, 2, 3)]
    if None not in gc and not gc[0] <= gc[1] <= gc[2]:
        found.add(
            "node_os_neigh_gc_thresh1",
            "must not exceed node_os_neigh_gc_thresh2, nor that node_os_neigh_gc_thresh3 "
            "(the kernel collects below 1, soon above 2, at once above 3)",
            gc,
        )


def _extra_problems(extra, fixed, found):
    if not isinstance(extra, dict):
        found.add("node_os_sysctls", "must be a mapping of sysctl key to value", extra)
        return
    for key, value in extra.items():
        problem = sysctl_key_problem(key)
        if problem:
            found.add("node_os_sysctls", problem, key)
            continue
        text = sysctl_value_text(value)
        if text is None:
            found.add(f"node_os_sysctls[{key}]", "must be a non-negative whole number or several", value)
        elif key in fixed and text != str(fixed[key]):
            found.add(
                f"node_os_sysctls[{key}]",
                f"contradicts what Kubernetes needs ({key} = {fixed[key]}); remove it",
                text,
            )


def _chrony_problems(settings, found):
    servers = settings.get("node_os_chrony_servers")
    for index, server in enumerate(servers if isinstance(servers, list) else []):
        if not _is_host(server):
            found.add(f"node_os_chrony_servers[{index}]", "is neither a host name nor an address", server)
    allow = settings.get("node_os_chrony_allow")
    for index, network in enumerate(allow if isinstance(allow, list) else []):
        try:
            ipaddress.ip_network(str(network), strict=False)
        except ValueError:
            found.add(f"node_os_chrony_allow[{index}]", "is not a network such as 10.0.0.0/8", network)
    stratum = _non_negative_int(settings.get("node_os_chrony_local_stratum"))
    if stratum is None or stratum > 15:
        found.add(
            "node_os_chrony_local_stratum", "must be 0 (off) or 1..15", settings.get("node_os_chrony_local_stratum")
        )
    elif servers == [] and stratum == 0:
        found.add(
            "node_os_chrony_servers",
            "is empty and node_os_chrony_local_stratum is 0: chrony would have no time source",
            servers,
        )
    if not _non_negative_int(settings.get("node_os_chrony_wait_s")):
        found.add("node_os_chrony_wait_s", "must be a positive whole number", settings.get("node_os_chrony_wait_s"))
    threshold = as_float(settings.get("node_os_chrony_makestep_threshold"))
    if threshold is None or threshold <= 0:
        found.add(
            "node_os_chrony_makestep_threshold",
            "must be a positive number of seconds",
            settings.get("node_os_chrony_makestep_threshold"),
        )
    limit = as_int(settings.get("node_os_chrony_makestep_limit"))
    if limit is None or limit < -1:
        found.add(
            "node_os_chrony_makestep_limit",
            "must be -1 (always) or a count of updates",
            settings.get("node_os_chrony_makestep_limit"),
        )
    options = settings.get("node_os_chrony_server_options")
    if options is not None and not (isinstance(options, str) and _CHRONY_OPTIONS.match(options)):
        found.add(
            "node_os_chrony_server_options",
            "must be chrony server options on one line, such as 'iburst' or 'iburst maxpoll 8'",
            options,
        )


def _other_problems(settings, found):
    patterns = settings.get("node_os_env_sysctl_writable")
    if not isinstance(patterns, list) or not all(isinstance(p, str) and p for p in patterns):
        found.add("node_os_env_sysctl_writable", "must be a list of key patterns such as 'net.*'", patterns)
    modules = settings.get("node_os_kernel_modules")
    if not isinstance(modules, list) or not all(isinstance(m, str) and _MODULE.match(m) for m in modules):
        found.add("node_os_kernel_modules", "must be a list of module names such as br_netfilter", modules)
    sysctl_file = settings.get("node_os_sysctl_file")
    if sysctl_file is not None and not re.match(r"^/etc/sysctl\.d/[A-Za-z0-9._-]+\.conf$", str(sysctl_file)):
        found.add("node_os_sysctl_file", "must be a /etc/sysctl.d/<name>.conf file (systemd-sysctl reads only those)",
                  sysctl_file)  # fmt: skip
    for var in ("node_os_journald_system_max_use", "node_os_journald_system_max_file_size"):
        if not isinstance(settings.get(var), str) or not _SIZE.match(settings[var]):
            found.add(var, "must be a size such as 4G or 512M", settings.get(var))


def node_os_sysctls(settings, fixed):
    """The sysctls to set: the fixed ones, the large-fleet variables, then ``node_os_sysctls``."""
    wanted = {key: str(value) for key, value in fixed.items()}
    for var, key in LARGE_FLEET.items():
        wanted[key] = sysctl_value_text(settings[var])
    for key, value in settings.get("node_os_sysctls", {}).items():
        wanted[key] = sysctl_value_text(value)
    return dict(sorted(wanted.items()))


def node_os_sysctl_plan(wanted, probed, writable_patterns):
    """One row per wanted sysctl: ``{name, value, observed, state}``.

    ``state`` is ``managed`` (the role writes it), ``environment limit`` (the environment forbids
    writing it: never written, only read back), ``read-only`` (the kernel refuses writes here) or
    ``absent`` (not under /proc/sys here).
    """
    rows = []
    for name, value in sorted(wanted.items()):
        found = probed.get(name, {})
        if not any(fnmatch.fnmatchcase(name, pattern) for pattern in writable_patterns):
            state = "environment limit"
        elif not found.get("present"):
            state = "absent"
        elif not found.get("writable"):
            state = "read-only"
        else:
            state = "managed"
        rows.append({"name": name, "value": str(value), "observed": found.get("value"), "state": state})
    return rows


def node_os_sysctl_verdict(plan, probed, check_mode=False):
    """The plan read back: ``{rows, failures, limited}``.

    Each row gains ``observed`` (the value now) and ``ok``. ``failures``: managed keys that do not hold
    their value (always fatal). ``limited``: the others that do not hold it, which only an environment
    that declares its limits may accept. In check mode nothing was written: a managed key counts as ok.
    """
    rows, failures, limited = [], [], []
    for row in plan:
        observed = probed.get(row["name"], {}).get("value")
        ok = observed == row["value"] or (check_mode and row["state"] == "managed")
        entry = dict(row, observed=observed, ok=ok)
        rows.append(entry)
        if not ok:
            have = observed if observed is not None else "nothing"
            line = f"{row['name']}: want {row['value']}, have {have} ({row['state']})"
            (failures if row["state"] == "managed" else limited).append(line)
    return {"rows": rows, "failures": failures, "limited": limited}


class FilterModule:
    """node_os filters."""

    def filters(self):
        return {
            "node_os_problems": node_os_problems,
            "node_os_sysctls": node_os_sysctls,
            "node_os_sysctl_plan": node_os_sysctl_plan,
            "node_os_sysctl_verdict": node_os_sysctl_verdict,
        }
