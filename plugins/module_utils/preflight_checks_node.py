# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""kubeadm's node checks, resources, disks and CIS file permissions."""

from __future__ import annotations

import os
import re
import socket
import stat
import tempfile
import time

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_core import (
    NODE_PROFILES,
    WARN,
    Skip,
    check,
    data_dirs,
    failed,
    passed,
    warned,
)
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_parsers import (
    parse_listening_ports,
    parse_meminfo,
    version_tuple,
)

# The kubelet's and the control plane's ports; etcd's come from the etcd_ports setting (the host's clusters).
PROFILE_PORTS = {
    "control_plane": (6443, 10250, 10257, 10259),
    "nodes": (10250,),
    "gpu": (10250,),
}
# RFC 1123 subdomain, as Kubernetes requires of node names.
HOSTNAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$")


@check("system.root", "kubeadm")
def root_user(ctx):
    euid = ctx.setting("euid", os.geteuid())
    if euid == 0:
        return passed(0, 0, "running as root")
    return failed(euid, 0, "preflight must run as root (become: true)")


@check("swap.off", "kubeadm", severity=WARN)
def swap_off(ctx):
    entries = [line.split()[0] for line in ctx.read("/proc/swaps").splitlines()[1:] if line.strip()]
    if entries:
        return failed(entries, [], f"swap is on: {', '.join(entries)}")
    return passed([], [], "no swap")


@check("net.ip_forward", "kubeadm", profiles=NODE_PROFILES)
def ip_forward(ctx):
    value = ctx.read("/proc/sys/net/ipv4/ip_forward").strip()
    if value == "1":
        return passed(value, "1", "IPv4 forwarding is on")
    return failed(value, "1", "net.ipv4.ip_forward is not 1")


@check("kernel.modules", "kubeadm", profiles=NODE_PROFILES)
def kernel_modules(ctx):
    wanted = ctx.setting("kernel_modules")
    loaded = {line.split()[0] for line in _optional_read(ctx, "/proc/modules").splitlines() if line.strip()}
    release = ctx.read("/proc/sys/kernel/osrelease").strip()
    builtin = {
        os.path.basename(line).split(".ko")[0]
        for line in _optional_read(ctx, f"/lib/modules/{release}/modules.builtin").splitlines()
    }
    missing = [m for m in wanted if m not in loaded and m not in builtin and not ctx.exists(f"/sys/module/{m}")]
    if missing:
        return failed(sorted(set(wanted) - set(missing)), wanted, f"kernel modules not loaded: {', '.join(missing)}")
    return passed(wanted, wanted, "kernel modules loaded")


def _optional_read(ctx, path):
    try:
        return ctx.read(path)
    except Skip:
        return ""


def _binaries(ctx, names):
    missing = [name for name in names if ctx.which(name) is None]
    present = [name for name in names if name not in missing]
    if missing:
        return failed(present, list(names), f"not found on {':'.join(ctx.search_path)}: {', '.join(missing)}")
    return passed(present, list(names), "all present")


@check("binaries.required", "kubeadm", profiles=NODE_PROFILES)
def binaries_required(ctx):
    return _binaries(ctx, ctx.setting("binaries_required"))


@check("binaries.optional", "kubeadm", severity=WARN, profiles=NODE_PROFILES)
def binaries_optional(ctx):
    return _binaries(ctx, ctx.setting("binaries_optional"))


@check("cgroup.controllers", "kubeadm", profiles=NODE_PROFILES)
def cgroup_controllers(ctx):
    # cgroup v2 only: devices and freezer are part of v2's core, not listed in cgroup.controllers.
    wanted = ctx.setting("cgroup_controllers")
    if not ctx.exists("/sys/fs/cgroup/cgroup.controllers"):
        return failed("v1 or hybrid", "cgroup v2", "/sys/fs/cgroup is not a cgroup v2 (unified) hierarchy")
    present = ctx.read("/sys/fs/cgroup/cgroup.controllers").split()
    missing = [c for c in wanted if c not in present]
    if missing:
        return failed(present, wanted, f"cgroup v2 controllers missing: {', '.join(missing)}")
    return passed(present, wanted, "cgroup v2 with the required controllers")


@check("kernel.version", "kubeadm")
def kernel_version(ctx):
    release = ctx.read("/proc/sys/kernel/osrelease").strip()
    minimum = str(ctx.setting("min_kernel"))
    if version_tuple(release) < version_tuple(minimum):
        return failed(release, f">= {minimum}", f"kernel {release} is older than {minimum}")
    return passed(release, f">= {minimum}", "kernel recent enough")


def _hostname(ctx):
    return ctx.read("/proc/sys/kernel/hostname").strip()


@check("host.name", "kubeadm")
def host_name(ctx):
    name = _hostname(ctx)
    if HOSTNAME.match(name) and len(name) <= 253:
        return passed(name, "RFC 1123 lowercase name", "valid node name")
    return failed(name, "RFC 1123 lowercase name", f"hostname {name!r} is not a valid Kubernetes node name")


@check("host.resolvable", "kubeadm")
def host_resolvable(ctx):
    name = _hostname(ctx)
    for line in _optional_read(ctx, "/etc/hosts").splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) > 1 and name in fields[1:]:
            return passed(fields[0], "an address", f"{name} is in /etc/hosts")
    if ctx.root != "/":
        return failed(None, "an address", f"{name} is not in {ctx.path('/etc/hosts')}")
    try:
        address = socket.getaddrinfo(name, None)[0][4][0]
    except OSError as exc:
        return failed(None, "an address", f"{name} does not resolve: {exc}")
    return passed(address, "an address", f"{name} resolves")


def host_ports(ctx):
    """The ports the host's parts listen on: the ``ports`` setting, else by profile (etcd: ``etcd_ports``)."""
    wanted = ctx.setting("ports")
    if wanted is None:
        wanted = {port for profile in ctx.profiles for port in PROFILE_PORTS.get(profile, ())}
        if "etcd" in ctx.profiles:
            wanted |= {int(port) for port in ctx.setting("etcd_ports")}
    return sorted(wanted)


@check("ports.free", "kubeadm")
def ports_free(ctx):
    wanted = host_ports(ctx)
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        listening |= parse_listening_ports(_optional_read(ctx, table))
    busy = sorted(set(wanted) & listening)
    if busy:
        return failed(busy, [], f"ports in use: {', '.join(map(str, busy))}")
    return passed([], [], f"ports free: {', '.join(map(str, wanted)) or 'none asked'}")


@check("kubelet.leftover_files", "kubeadm", profiles=NODE_PROFILES)
def leftover_files(ctx):
    present = [path for path in ctx.setting("leftover_files") if ctx.exists(path)]
    if present:
        return failed(present, [], f"left over from an earlier join (kubeadm reset?): {', '.join(present)}")
    return passed([], [], "no kubelet files from an earlier join")


@check("cri.socket", "kubeadm", profiles=NODE_PROFILES)
def cri_socket(ctx):
    path = ctx.setting("cri_socket")
    if not ctx.exists(path):
        return failed(None, path, f"no CRI socket at {path}")
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(min(ctx.timeout, 2.0))
    try:
        client.connect(ctx.path(path))
    except OSError as exc:
        return failed(None, path, f"CRI socket {path} does not accept connections: {exc}")
    finally:
        client.close()
    return passed(path, path, "CRI socket accepts connections")


def _min_for(ctx, name, by_profile, fallback):
    value = ctx.setting(name)
    if value is not None:
        return value
    return max([by_profile[p] for p in ctx.profiles if p in by_profile] or [fallback])


@check("resources.cpu", "resources")
def cpu_count(ctx):
    minimum = _min_for(ctx, "min_cpus", {"control_plane": 2, "etcd": 2}, 1)
    cpus = sum(1 for line in ctx.read("/proc/cpuinfo").splitlines() if line.startswith("processor"))
    if cpus < minimum:
        return failed(cpus, f">= {minimum}", f"{cpus} CPUs, {minimum} needed")
    return passed(cpus, f">= {minimum}", "enough CPUs")


@check("resources.memory", "resources")
def memory(ctx):
    minimum = _min_for(ctx, "min_memory_mb", {"control_plane": 1700, "etcd": 2048}, 1024)
    total_mb = parse_meminfo(ctx.read("/proc/meminfo")).get("MemTotal", 0) // 1024
    if total_mb < minimum:
        return failed(total_mb, f">= {minimum} MiB", f"{total_mb} MiB of memory, {minimum} needed")
    return passed(total_mb, f">= {minimum} MiB", "enough memory")


def existing_parent(ctx, path):
    """The path itself or its nearest existing parent (a data dir may not exist before install)."""
    while path != "/" and not os.path.exists(ctx.path(path)):
        path = os.path.dirname(path)
    return path


def _usage(ctx, kind):
    warn_pct = ctx.setting(f"{kind}_warn_pct")
    fail_pct = ctx.setting(f"{kind}_fail_pct")
    observed, worst = {}, (0.0, None)
    for path in data_dirs(ctx):
        probe = existing_parent(ctx, path)
        try:
            fs = os.statvfs(ctx.path(probe))
        except OSError as exc:
            raise Skip(f"cannot stat {probe}: {exc.strerror}") from exc
        total, free = (fs.f_blocks, fs.f_bavail) if kind == "disk" else (fs.f_files, fs.f_favail)
        if total == 0:
            continue
        used = round(100.0 * (total - free) / total, 1)
        observed[path] = used
        worst = max(worst, (used, path), key=lambda item: item[0])
    expected = f"< {warn_pct}% used"
    label = "space" if kind == "disk" else "inodes"
    if worst[0] >= fail_pct:
        return failed(observed, expected, f"{worst[1]}: {worst[0]}% of {label} used (fail at {fail_pct}%)")
    if worst[0] >= warn_pct:
        return warned(observed, expected, f"{worst[1]}: {worst[0]}% of {label} used (warn at {warn_pct}%)")
    return passed(observed, expected, f"{label} available")


@check("resources.disk_space", "resources")
def disk_space(ctx):
    return _usage(ctx, "disk")


@check("resources.inodes", "resources")
def inodes(ctx):
    return _usage(ctx, "inode")


def _block_device_dir(ctx, path):
    """/sys/dev/block/M:m of the filesystem holding path, or Skip (overlay, tmpfs: no block device)."""
    probe = existing_parent(ctx, path)
    device = os.stat(ctx.path(probe)).st_dev
    major, minor = os.major(device), os.minor(device)
    if major == 0:
        raise Skip(f"{probe} is on a virtual filesystem (device 0:{minor}), no disk to inspect")
    sys_dir = ctx.path(f"/sys/dev/block/{major}:{minor}")
    if not os.path.exists(sys_dir):
        raise Skip(f"no /sys/dev/block/{major}:{minor}")
    return os.path.realpath(sys_dir)


def rotational(ctx, path):
    block = _block_device_dir(ctx, path)
    for candidate in (block, os.path.dirname(block)):  # a partition's queue is its parent disk's
        flag = os.path.join(candidate, "queue", "rotational")
        if os.path.exists(flag):
            with open(flag, encoding="ascii") as handle:
                return handle.read().strip() == "1"
    raise Skip(f"no queue/rotational for {path}")


@check("disk.ssd", "disks")
def disks_ssd(ctx):
    # The runtime's roots (containerd, stargz, Dragonfly) and the etcd members' data: the paths the
    # owning roles configure, passed by the node_preflight role.
    dirs = data_dirs(ctx, with_kubelet=False)
    observed, skipped = {}, []
    for path in dirs:
        try:
            observed[path] = "rotational" if rotational(ctx, path) else "ssd"
        except Skip as exc:
            skipped.append(str(exc))
    if not observed:
        raise Skip("; ".join(skipped))
    spinning = [path for path, kind in observed.items() if kind == "rotational"]
    if spinning and not ctx.setting("require_ssd"):
        return warned(observed, "ssd", f"on rotational disks (require_ssd is false): {', '.join(spinning)}")
    if spinning:
        return failed(observed, "ssd", f"on rotational disks: {', '.join(spinning)}")
    return passed(observed, "ssd", "data directories on non-rotational disks")


@check("disk.etcd_fdatasync", "disks", profiles=("etcd",))
def etcd_fdatasync(ctx):
    # The probe etcd's docs recommend with fio: sequential 2300-byte writes, fdatasync after each.
    if ctx.check_mode:
        raise Skip("check mode: the disk probe writes a temporary file")
    folder = existing_parent(ctx, ctx.setting("disk_probe_dir") or ctx.setting("etcd_data_dirs")[0])
    writes = int(ctx.setting("disk_probe_writes"))
    limit_ms = float(ctx.setting("disk_probe_p99_ms"))
    block = os.urandom(2300)
    latencies = []
    try:
        handle, name = tempfile.mkstemp(prefix=".preflight-fdatasync-", dir=ctx.path(folder))
    except OSError as exc:
        raise Skip(f"cannot write in {folder}: {exc.strerror}") from exc
    try:
        for _index in range(writes):
            os.write(handle, block)
            started = time.perf_counter()
            os.fdatasync(handle)
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        os.close(handle)
        os.unlink(name)
    latencies.sort()
    p99 = round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 3)
    observed = {"p99_ms": p99, "writes": writes, "dir": folder}
    if p99 > limit_ms:
        return failed(observed, f"p99 <= {limit_ms} ms", f"fdatasync p99 {p99} ms is above {limit_ms} ms")
    return passed(observed, f"p99 <= {limit_ms} ms", f"fdatasync p99 {p99} ms")


def _file_permissions(ctx, path, max_mode):
    try:
        info = os.lstat(ctx.path(path))
    except FileNotFoundError as exc:
        raise Skip(f"{path} not present") from exc
    except OSError as exc:
        raise Skip(f"cannot stat {path}: {exc.strerror}") from exc
    mode = stat.S_IMODE(info.st_mode)
    observed = {"mode": f"{mode:04o}", "uid": info.st_uid, "gid": info.st_gid}
    expected = {"mode": f"<= {max_mode:04o}", "uid": 0, "gid": 0}
    problems = []
    if mode & ~max_mode:
        problems.append(f"mode {mode:04o} is wider than {max_mode:04o}")
    if (info.st_uid, info.st_gid) != (0, 0):
        problems.append(f"owner {info.st_uid}:{info.st_gid} is not root:root")
    if problems:
        return failed(observed, expected, f"{path}: {'; '.join(problems)}")
    return passed(observed, expected, f"{path}: 0600 or stricter, root:root")


@check("cis.kubelet_config_perms", "cis", profiles=NODE_PROFILES)
def cis_kubelet_config(ctx):
    # CIS 4.1.9 / 4.1.10: the kubelet config file.
    return _file_permissions(ctx, ctx.setting("kubelet_config"), 0o600)


@check("cis.kubeconfig_perms", "cis", profiles=NODE_PROFILES)
def cis_kubeconfig(ctx):
    # CIS 4.1.5 / 4.1.6: the kubelet's kubeconfig.
    return _file_permissions(ctx, ctx.setting("kubelet_kubeconfig"), 0o600)
