# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""The node preflight engine: check registry, host access with injectable paths, profiles, results.

Every check is a small function registered with a stable id, a category, a default severity and the
profiles it belongs to. It receives a Context (paths under a root, commands with timeouts, settings)
and returns a Result. A missing tool or unreadable file raises Skip; nothing reaches the caller as a
traceback: the runner turns any other exception into a failed result naming the error.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
import time

PASS = "pass"
WARN = "warn"
FAIL = "fail"
SKIP = "skip"
STATUSES = (PASS, WARN, FAIL, SKIP)
# The profiles are the parts of the topology contract (roles/topology): a host gets the checks of every
# part it plays (the role picks them with the topology_host_parts filter). The only list of them.
# gpu_burnin is no part: it is asked for (node_preflight_profiles) to run the slow GPU probes.
PROFILES = ("control_plane", "nodes", "gpu", "etcd", "monitoring", "gpu_burnin")
ALL_PROFILES = frozenset(PROFILES) - {"gpu_burnin"}
NODE_PROFILES = frozenset(("control_plane", "nodes", "gpu"))
GPU_PROFILES = frozenset(("gpu",))
BURNIN_PROFILES = frozenset(("gpu_burnin",))

# Every setting a check reads and its value when the caller gives none (the one table of them). Paths
# are the upstream defaults for a standalone call of the module: the node_preflight role always passes
# the values of the roles that own them (containerd, kubelet, etcd; docs/preflight.md).
SETTINGS = {
    "binaries_optional": ["ebtables", "ethtool", "socat", "tc", "touch"],
    "binaries_required": ["ip", "iptables", "mount", "nsenter"],
    "cgroup_controllers": ["cpu", "cpuset", "memory", "pids"],
    "cri_socket": "/run/containerd/containerd.sock",
    "d_state_max": 0,
    "disk_fail_pct": 85,
    "disk_probe_dir": None,
    "disk_probe_p99_ms": 10,
    "disk_probe_writes": 500,
    "disk_warn_pct": 80,
    "etcd_data_dirs": ["/var/lib/etcd"],
    "etcd_ports": [2379, 2380],
    "gpu_count": None,
    "gpu_min_driver": None,
    "inode_fail_pct": 85,
    "inode_warn_pct": 80,
    "kernel_log_lookback_s": 3600,
    "kernel_log_path": "/var/log/kern.log",
    "kernel_log_source": "journal",
    "kernel_modules": ["br_netfilter", "overlay"],
    "kubelet_config": "/var/lib/kubelet/config.yaml",
    "kubelet_dir": "/var/lib/kubelet",
    "kubelet_kubeconfig": "/etc/kubernetes/kubelet.conf",
    "leftover_files": [
        "/etc/kubernetes/kubelet.conf",
        "/etc/kubernetes/bootstrap-kubelet.conf",
        "/etc/kubernetes/pki/ca.crt",
    ],
    "min_cpus": None,
    "min_kernel": "5.4",
    "min_memory_mb": None,
    "ports": None,
    "require_ssd": True,
    "runtime_dirs": ["/var/lib/containerd"],
    "time_local_reference_ok": False,
    "time_max_offset_s": 0.1,
    "writable_paths": None,
    # kubeadm's remaining init/join checks (preflight_checks_kubeadm.py).
    # The cluster as kubeadm would be told: version, API endpoint (host[:port]), service and pod CIDRs
    # (comma-separated for dual stack). kubeadm's defaults; none is a skip where a check needs it.
    "kubernetes_version": None,
    "api_endpoint": None,
    "service_cidr": "10.96.0.0/12",
    "pod_cidr": None,
    # The process environment kubeadm would run with (None: the module's own on a real root), and the units
    # whose drop-ins' Environment= proxies are read too.
    "proxy_env": None,
    "proxy_units": ["containerd.service", "kubelet.service"],
    # kubeadm init's FileAvailable checks, and the folders where etcd data no member of the host owns is left over.
    "static_pod_manifests": [
        "/etc/kubernetes/manifests/kube-apiserver.yaml",
        "/etc/kubernetes/manifests/kube-controller-manager.yaml",
        "/etc/kubernetes/manifests/kube-scheduler.yaml",
        "/etc/kubernetes/manifests/etcd.yaml",
    ],
    "etcd_leftover_dirs": ["/var/lib/etcd"],
    # The system validators' DefaultSysSpec (k8s.io/system-validators, validators/types_unix.go); "A|B" is an alias.
    "kernel_config_required": [
        "NAMESPACES",
        "NET_NS",
        "PID_NS",
        "IPC_NS",
        "UTS_NS",
        "CPUSETS",
        "MEMCG",
        "INET",
        "EXT4_FS",
        "PROC_FS",
        "NETFILTER_XT_TARGET_REDIRECT|IP_NF_TARGET_REDIRECT",
        "NETFILTER_XT_MATCH_COMMENT",
        "FAIR_GROUP_SCHED",
    ],
    "kernel_config_cgroup_v2": ["CGROUPS", "CGROUP_BPF", "CGROUP_PIDS", "CGROUP_SCHED"],
    "kernel_config_cgroup_v1": [
        "CGROUPS",
        "CGROUP_CPUACCT",
        "CGROUP_DEVICE",
        "CGROUP_FREEZER",
        "CGROUP_PIDS",
        "CGROUP_SCHED",
    ],
    "kernel_config_optional": [
        "OVERLAY_FS|OVERLAYFS_FS",
        "AUFS_FS",
        "BLK_DEV_DM",
        "CFS_BANDWIDTH",
        "SECCOMP",
        "SECCOMP_FILTER",
        "CGROUP_HUGETLB",
    ],
    # Images the node needs (containerd's sandbox image from the role) and containerd's registry hosts folder.
    "images": [],
    "registry_config_path": "/etc/containerd/certs.d",
    # GPU, fabric and burn-in checks (preflight_checks_gpu, _fabric, _gpu_perf; thresholds per GPU model in
    # preflight_gpu_models, overridden key by key by gpu_thresholds).
    "fabric_manager_service": "nvidia-fabricmanager",
    "gpu_burnin_budget_s": 1800,
    "gpu_dcgm_diag_level": 1,
    "gpu_dcgm_diag_timeout_s": 300,
    "gpu_model": None,
    "gpu_thresholds": None,
    "gpu_xid_application": [],
    "gpu_xid_drain": [],
    "gpu_xid_history_s": 604800,
    "ib_link_downed_max": 0,
    "ib_rate_gbps": None,
    "sxid_lookback_s": 86400,
}

# Where tools are looked up when the caller gives no search path (Ansible's module PATH may be short).
DEFAULT_SEARCH_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


class Skip(Exception):
    """The check cannot run here (tool missing, file unreadable, not applicable): the reason."""


class CheckError(Exception):
    """The check ran but its input could not be understood (malformed output)."""


class Result:
    """What a check saw: status (pass/fail/skip; fail may become warn by severity), values, message."""

    __slots__ = ("expected", "message", "observed", "status")

    def __init__(self, status, observed=None, expected=None, message=""):
        self.status = status
        self.observed = observed
        self.expected = expected
        self.message = message


def passed(observed=None, expected=None, message=""):
    return Result(PASS, observed, expected, message)


def failed(observed=None, expected=None, message=""):
    return Result(FAIL, observed, expected, message)


def warned(observed=None, expected=None, message=""):
    return Result(WARN, observed, expected, message)


class Check:
    """A registered check: id, category, default severity (fail or warn), profiles, function."""

    __slots__ = ("category", "check_id", "func", "profiles", "severity")

    def __init__(self, check_id, category, severity, profiles, func):
        if severity not in (FAIL, WARN):
            raise ValueError(f"check {check_id}: severity must be fail or warn, not {severity!r}")
        self.check_id = check_id
        self.category = category
        self.severity = severity
        self.profiles = frozenset(profiles)
        self.func = func


REGISTRY = {}


def check(check_id, category, severity=FAIL, profiles=ALL_PROFILES):
    """Decorator: register ``func(ctx) -> Result`` under a stable id."""

    def register(func):
        REGISTRY[check_id] = Check(check_id, category, severity, profiles, func)
        return func

    return register


class Context:
    """The host as checks see it. ``root`` prefixes every path (fixture trees in tests); commands are
    looked up on ``search_path`` (or overridden one by one in ``commands``) and run with a timeout."""

    def __init__(
        self, *, root="/", settings=None, profiles=(), search_path=None, commands=None, timeout=10.0, check_mode=False
    ):
        self.root = root or "/"
        self.settings = dict(settings or {})
        self.profiles = frozenset(profiles)
        self.search_path = tuple(search_path) if search_path else DEFAULT_SEARCH_PATH
        self.commands = dict(commands or {})
        self.timeout = float(timeout)
        self.check_mode = check_mode
        self.cache = {}

    def setting(self, name, default=None):
        """The caller's value, else ``default``, else the table's (SETTINGS)."""
        value = self.settings.get(name)
        if value is None:
            value = default
        return SETTINGS.get(name) if value is None else value

    def path(self, path):
        if self.root == "/":
            return path
        return os.path.join(self.root, path.lstrip("/"))

    def read(self, path, limit=4 * 1024 * 1024):
        """Text of a file under the root; Skip when it is missing or unreadable."""
        try:
            # /proc/sys files refuse one huge read (ENOMEM): read in chunks up to the limit.
            chunks, size = [], 0
            with open(self.path(path), "rb") as handle:
                while size < limit:
                    chunk = handle.read(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
            return b"".join(chunks).decode("utf-8", "replace")
        except OSError as exc:
            raise Skip(f"cannot read {path}: {exc.strerror or exc}") from exc

    def exists(self, path):
        return os.path.lexists(self.path(path))

    def which(self, name):
        """Absolute path of a tool, or None: an override in ``commands`` wins over the search path."""
        if name in self.commands:
            candidate = self.commands[name]
            return candidate if os.access(candidate, os.X_OK) else None
        for folder in self.search_path:
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
        return None

    def run(self, name, args, timeout=None):
        """Run a tool: (rc, stdout, stderr). Skip when the tool is missing; a timeout is rc 124."""
        key = (name, tuple(args))
        if key in self.cache:
            return self.cache[key]
        executable = self.which(name)
        if executable is None:
            raise Skip(f"{name} not found")
        try:
            proc = subprocess.run(
                [executable, *args],
                capture_output=True,
                timeout=timeout or self.timeout,
                check=False,
                env={"LC_ALL": "C", "PATH": os.pathsep.join(dict.fromkeys(self.search_path + DEFAULT_SEARCH_PATH))},
            )
        except subprocess.TimeoutExpired:
            outcome = (124, "", f"{name} timed out after {timeout or self.timeout:g} s")
        except OSError as exc:
            raise Skip(f"cannot run {name}: {exc.strerror or exc}") from exc
        else:
            outcome = (proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))
        self.cache[key] = outcome
        return outcome

    def memo(self, key, compute):
        """Compute a value once per run (a command output or parsed file several checks share)."""
        if key not in self.cache:
            try:
                self.cache[key] = ("ok", compute())
            except (Skip, CheckError) as exc:
                self.cache[key] = ("error", exc)
        kind, value = self.cache[key]
        if kind == "error":
            raise value
        return value


def data_dirs(ctx, with_kubelet=True):
    """The data folders of the host's parts: the runtime's (nodes), the kubelet's, the etcd members'."""
    dirs = []
    if ctx.profiles & NODE_PROFILES:
        dirs += list(ctx.setting("runtime_dirs"))
        if with_kubelet:
            dirs.append(ctx.setting("kubelet_dir"))
    if "etcd" in ctx.profiles:
        dirs += list(ctx.setting("etcd_data_dirs"))
    return list(dict.fromkeys(dirs)) or ["/"]


def matches_any(check_id, patterns):
    return any(fnmatch.fnmatchcase(check_id, pattern) for pattern in patterns or ())


def select_checks(registry, profiles, include=(), exclude=()):
    """The checks of the profiles, plus ``include`` patterns, minus ``exclude`` patterns, in id order."""
    wanted = set(profiles)
    chosen = [c for c in registry.values() if c.profiles & wanted or matches_any(c.check_id, include)]
    return sorted((c for c in chosen if not matches_any(c.check_id, exclude)), key=lambda c: c.check_id)


def run_check(ctx, item, ignore=()):
    """Run one check; always return a result dict (never raise)."""
    started = time.perf_counter()
    try:
        result = item.func(ctx)
        if not isinstance(result, Result):
            result = result_from_mapping(result)
    except Skip as exc:
        result = Result(SKIP, message=str(exc))
    except CheckError as exc:
        result = Result(FAIL, message=f"could not evaluate: {exc}")
    except Exception as exc:  # a broken check must not hide the others' results
        result = Result(FAIL, message=f"check error: {type(exc).__name__}: {exc}")
    status = result.status
    if status == FAIL and item.severity == WARN:
        status = WARN
    ignored = status == FAIL and matches_any(item.check_id, ignore)
    if ignored:
        status = WARN
    return {
        "id": item.check_id,
        "category": item.category,
        "severity": item.severity,
        "status": status,
        "ignored": ignored,
        "observed": result.observed,
        "expected": result.expected,
        "message": result.message,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def result_from_mapping(value):
    """Site checks may return a plain dict: {status, observed, expected, message}."""
    if not isinstance(value, dict) or value.get("status") not in STATUSES:
        raise CheckError(f"a check must return a Result or a dict with status in {STATUSES}, got {value!r}")
    return Result(value["status"], value.get("observed"), value.get("expected"), str(value.get("message", "")))


def summarise(results):
    counts = {status: 0 for status in STATUSES}
    for item in results:
        counts[item["status"]] += 1
    return {
        **counts,
        "total": len(results),
        "failed": [r["id"] for r in results if r["status"] == FAIL],
        "warned": [r["id"] for r in results if r["status"] == WARN],
        "ignored": [r["id"] for r in results if r["ignored"]],
        "ok": counts[FAIL] == 0,
    }


def run_profile(ctx, checks, ignore=()):
    """Run the given checks in order: (results, summary)."""
    results = [run_check(ctx, item, ignore) for item in checks]
    return results, summarise(results)
