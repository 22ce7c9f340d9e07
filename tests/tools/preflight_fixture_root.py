"""Build a fake host root for the node preflight: the /proc, /sys and /etc files the checks read and
fake tools in <root>/bin. A healthy root passes the gpu profile; ``broken`` gives the lab's
faults (ip_forward off, 7 of 8 GPUs with an ECC error and an SRAM ECC history, the fabric manager stopped
and the GPUs' fabric registration not started, Xid 79, time sync stopped, a leftover kubelet.conf).
Used by unit tests, the ansible-runner test and the 200-host benchmark."""

from __future__ import annotations

import datetime
import os
import shutil
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "preflight"
TOOLS = ("ip", "iptables", "mount", "nsenter", "ebtables", "ethtool", "socat", "tc", "touch")
# What a run over a fixture root needs in its settings (the rest keeps its defaults).
HEALTHY_MEMINFO = "MemTotal:       65536000 kB\nMemFree:        60000000 kB\n"


def _write(root, relative, text, mode=0o644):
    path = Path(root) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def build_root(root, *, broken=False, hostname="node1", now=None):
    """Create the tree under ``root``; return the module parameters that point the checks at it."""
    root = Path(root)
    stamp = datetime.datetime.fromtimestamp(now or datetime.datetime.now().timestamp(), datetime.UTC)
    iso = stamp.isoformat(timespec="microseconds")
    _write(root, "proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n")
    _write(root, "proc/sys/net/ipv4/ip_forward", "0\n" if broken else "1\n")
    _write(root, "proc/sys/kernel/osrelease", "6.1.0-25-amd64\n")
    _write(root, "proc/sys/kernel/hostname", f"{hostname}\n")
    _write(root, "proc/modules", "br_netfilter 32768 0 - Live 0x0\noverlay 151552 0 - Live 0x0\n")
    _write(root, "proc/cpuinfo", "".join(f"processor\t: {i}\nmodel name\t: fixture\n\n" for i in range(8)))
    _write(root, "proc/meminfo", HEALTHY_MEMINFO)
    _write(root, "proc/uptime", "86400.00 100000.00\n")
    _write(
        root,
        "proc/net/tcp",
        "  sl  local_address rem_address   st\n"
        "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000\n",
    )
    _write(root, "proc/mounts", "/dev/nvme0n1p2 / ext4 rw,relatime 0 0\nproc /proc proc rw 0 0\n")
    _write(root, "sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n")
    # A kernel config recorded on a real host (kernel.config; README of the fixtures).
    shutil.copyfile(FIXTURES / "kernel-config" / "proc-config-6.18.44.gz", root / "proc" / "config.gz")
    _write(root, "etc/hosts", f"127.0.0.1 localhost\n10.0.0.5 {hostname}\n")
    kern = f"{iso} {hostname} kernel: [86000.000001] e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex\n"
    if broken:
        kern += (
            f"{iso} {hostname} kernel: [86000.100000] NVRM: Xid (PCI:0000:ab:00): 79, pid='<unknown>', "
            "name=<unknown>, GPU has fallen off the bus.\n"
        )
        _write(root, "etc/kubernetes/kubelet.conf", "apiVersion: v1\nkind: Config\n", 0o600)
    _write(root, "var/log/kern.log", kern)
    for tool in TOOLS:
        _write(root, f"bin/{tool}", "#!/bin/sh\nexit 0\n", 0o755)
    # The fake tools find their recorded outputs next to themselves.
    shutil.copytree(FIXTURES / "nvidia-smi", root / "bin" / "nvidia-smi.d", dirs_exist_ok=True)
    _write(root, "bin/nvidia-smi", '#!/bin/sh\nexec "$(dirname "$0")/nvidia-smi.d/fake-nvidia-smi" "$@"\n', 0o755)
    _write(root, "bin/nvidia-smi.d/case", "ecc-7of8\n" if broken else "healthy-8gpu\n")
    # The NVSwitch fabric manager: a stand-in systemctl that answers `is-active nvidia-fabricmanager` (active
    # on a healthy root, stopped on a broken one) and a stand-in nv-fabricmanager of the driver's version.
    state = "inactive\nexit 3" if broken else "active\nexit 0"
    _write(
        root,
        "bin/systemctl",
        f'#!/bin/sh\n[ "$*" = "is-active nvidia-fabricmanager" ] || exit 64\necho {state}\n',
        0o755,
    )
    _write(
        root,
        "bin/nv-fabricmanager",
        '#!/bin/sh\n[ "$*" = "--version" ] || exit 64\necho "Fabric Manager version is : 535.129.03"\n',
        0o755,
    )
    shutil.copytree(FIXTURES / "chrony", root / "bin" / "chrony.d", dirs_exist_ok=True)
    _write(root, "bin/chronyc", '#!/bin/sh\nexec "$(dirname "$0")/chrony.d/fake-chronyc" "$@"\n', 0o755)
    _write(root, "bin/chrony.d/chronyc-case", "daemon-down\n" if broken else "synced\n")
    for folder in ("var/lib/containerd", "var/lib/kubelet", "run/containerd"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    return module_params(root)


def module_params(root):
    """node_preflight parameters for a fixture root (cri.socket needs a live socket: excluded)."""
    return {
        "root": str(root),
        "search_path": [os.path.join(str(root), "bin")],
        "profiles": ["gpu"],
        "exclude": ["cri.socket"],
        "settings": {
            "gpu_count": 8,
            "kernel_log_source": "file",
            "kernel_log_path": "/var/log/kern.log",
            # The root lives on the test machine's own disk, whose fill the tests do not control (a busy CI
            # machine passed 80 %, the default warning): only a full disk counts here.
            "disk_warn_pct": 99,
            "disk_fail_pct": 100,
            "inode_warn_pct": 99,
            "inode_fail_pct": 100,
        },
    }


def local_host_vars(params):
    """Inventory variables of a local-connection host that runs the role on the fixture root of ``params``
    (module_params' form)."""
    return {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "node_preflight_root": params["root"],
        "node_preflight_search_path": params["search_path"],
        "node_preflight_profiles": params["profiles"],
        "node_preflight_exclude": params["exclude"],
        "node_preflight_settings": params["settings"],
    }


BROKEN_FAILURES = [
    "gpu.count",
    "gpu.ecc.sram",
    "gpu.ecc.uncorrected",
    "gpu.fabric_manager",
    "gpu.fabric_state",
    "gpu.xid",
    "kubelet.leftover_files",
    "net.ip_forward",
    "time.sync",
]
