"""Every check of the catalogue on fixture roots: what passes, what fails, what skips, and why."""

import os
import shutil
import socket

import pytest
from conftest import NOW, put_file, run
from preflight_fixture_root import BROKEN_FAILURES, FIXTURES, build_root

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_core import (
    REGISTRY,
    Context,
    run_profile,
    select_checks,
)


def put(host, relative, text, mode=0o644):
    return put_file(host.root, relative, text, mode)


def nvidia_case(host, case):
    (host.root / "bin/nvidia-smi.d/case").write_text(case)


def chrony_case(host, case):
    (host.root / "bin/chrony.d/chronyc-case").write_text(case)


def test_healthy_root_passes_every_gpu_check(host):
    ctx = host()
    checks = [c for c in select_checks(REGISTRY, ["gpu"]) if c.check_id != "cri.socket"]
    results = {c.check_id: run(ctx, c.check_id) for c in checks}
    not_passed = {i: (r["status"], r["message"]) for i, r in results.items() if r["status"] != "pass"}
    # No kubelet files yet, data dirs on a tmp filesystem, H100s remap rows instead of retiring pages, no PCI
    # devices or InfiniBand ports in the fixture root's sysfs.
    expected_skips = {
        "cis.kubelet_config_perms",
        "cis.kubeconfig_perms",
        "disk.ssd",
        "gpu.retired_pages.pending",
        "gpu.pcie",
        "gpu.numa",
        "gpu.ib.ports",
        "gpu.ib.link_flaps",
    }
    # kubeadm's: a systemctl that answers only for the fabric manager, no kubelet or ctr, an IPv4 cluster, no images.
    expected_skips |= {
        "firewalld.inactive",
        "images.present",
        "kubelet.service_enabled",
        "kubelet.version_skew",
        "net.ipv6_forward",
    }
    assert set(not_passed) == expected_skips, not_passed
    assert all(status == "skip" for status, _m in not_passed.values())


def test_broken_root_fails_exactly_the_lab_faults(tmp_path):
    params = build_root(tmp_path, broken=True, now=NOW)
    ctx = Context(
        root=params["root"],
        settings={**params["settings"], "now": NOW},
        profiles=["gpu"],
        search_path=params["search_path"],
    )
    _results, summary = run_profile(ctx, select_checks(REGISTRY, ["gpu"], exclude=["cri.socket"]))
    assert summary["failed"] == BROKEN_FAILURES


def test_root_user(host):
    assert run(host(settings={"euid": 0}), "system.root")["status"] == "pass"
    assert run(host(settings={"euid": 1000}), "system.root")["status"] == "fail"


def test_swap_is_a_warning(host):
    assert run(host(), "swap.off")["status"] == "pass"
    put(host, "proc/swaps", "Filename Type Size Used Priority\n/swapfile file 1048572 0 -2\n")
    result = run(host(), "swap.off")
    assert (result["status"], result["severity"], result["observed"]) == ("warn", "warn", ["/swapfile"])


def test_ip_forward(host):
    assert run(host(), "net.ip_forward")["status"] == "pass"
    put(host, "proc/sys/net/ipv4/ip_forward", "0\n")
    assert run(host(), "net.ip_forward")["status"] == "fail"
    os.remove(host.root / "proc/sys/net/ipv4/ip_forward")
    result = run(host(), "net.ip_forward")
    assert result["status"] == "skip"
    assert "cannot read /proc/sys/net/ipv4/ip_forward" in result["message"]


def test_kernel_modules(host):
    assert run(host(), "kernel.modules")["status"] == "pass"
    put(host, "proc/modules", "overlay 151552 0 - Live 0x0\n")
    assert run(host(), "kernel.modules")["message"] == "kernel modules not loaded: br_netfilter"
    put(host, "lib/modules/6.1.0-25-amd64/modules.builtin", "kernel/net/bridge/br_netfilter.ko\n")
    assert run(host(), "kernel.modules")["status"] == "pass"


def test_binaries(host):
    assert run(host(), "binaries.required")["status"] == "pass"
    os.remove(host.root / "bin/nsenter")
    os.remove(host.root / "bin/socat")
    assert "nsenter" in run(host(), "binaries.required")["message"]
    optional = run(host(), "binaries.optional")
    assert optional["status"] == "warn"
    assert "socat" in optional["message"]


def test_cgroup_controllers(host):
    assert run(host(), "cgroup.controllers")["status"] == "pass"
    put(host, "sys/fs/cgroup/cgroup.controllers", "cpu io memory\n")
    assert "cpuset, pids" in run(host(), "cgroup.controllers")["message"]
    os.remove(host.root / "sys/fs/cgroup/cgroup.controllers")
    assert run(host(), "cgroup.controllers")["observed"] == "v1 or hybrid"


def test_kernel_version(host):
    assert run(host(), "kernel.version")["status"] == "pass"
    assert run(host(settings={"min_kernel": "6.8"}), "kernel.version")["status"] == "fail"
    put(host, "proc/sys/kernel/osrelease", "not-a-version\n")
    assert run(host(), "kernel.version")["message"].startswith("could not evaluate")


@pytest.mark.parametrize(("name", "status"), [("gpu-node-01", "pass"), ("GPU_Node", "fail"), ("-bad", "fail")])
def test_host_name(host, name, status):
    put(host, "proc/sys/kernel/hostname", name + "\n")
    assert run(host(), "host.name")["status"] == status


def test_host_resolvable(host):
    assert run(host(), "host.resolvable")["observed"] == "10.0.0.5"
    put(host, "etc/hosts", "127.0.0.1 localhost\n# 10.0.0.5 node1\n")
    assert run(host(), "host.resolvable")["status"] == "fail"


def test_ports(host):
    assert run(host(profiles=("control_plane",)), "ports.free")["status"] == "pass"
    put(host, "proc/net/tcp6", "  sl  local_address\n   0: 00000000000000000000000000000000:192B 0:0 0A 0\n")
    result = run(host(profiles=("control_plane",)), "ports.free")
    assert (result["status"], result["observed"]) == ("fail", [6443])
    assert run(host(profiles=("nodes",)), "ports.free")["status"] == "pass"
    assert run(host(settings={"ports": [6443]}), "ports.free")["status"] == "fail"


def test_leftover_files(host):
    assert run(host(), "kubelet.leftover_files")["status"] == "pass"
    put(host, "etc/kubernetes/bootstrap-kubelet.conf", "x", 0o600)
    assert run(host(), "kubelet.leftover_files")["observed"] == ["/etc/kubernetes/bootstrap-kubelet.conf"]


def test_cri_socket(host, tmp_path):
    assert run(host(), "cri.socket")["message"].startswith("no CRI socket")
    put(host, "run/containerd/containerd.sock", "")
    assert "does not accept connections" in run(host(), "cri.socket")["message"]
    os.remove(host.root / "run/containerd/containerd.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(host.root / "run/containerd/containerd.sock"))
    server.listen(1)
    try:
        assert run(host(), "cri.socket")["status"] == "pass"
    finally:
        server.close()


def test_cpu_and_memory(host):
    assert run(host(), "resources.cpu")["observed"] == 8
    assert run(host(settings={"min_cpus": 16}), "resources.cpu")["status"] == "fail"
    assert run(host(), "resources.memory")["observed"] == 64000
    put(host, "proc/meminfo", "MemTotal: 1024000 kB\n")
    assert run(host(profiles=("control_plane",)), "resources.memory")["status"] == "fail"
    assert run(host(profiles=("nodes",)), "resources.memory")["status"] == "fail"
    assert run(host(profiles=("nodes",), settings={"min_memory_mb": 512}), "resources.memory")["status"] == "pass"


def test_disk_space_and_inodes_thresholds(host):
    assert run(host(), "resources.disk_space")["status"] == "pass"
    assert run(host(settings={"disk_warn_pct": 0, "disk_fail_pct": 101}), "resources.disk_space")["status"] == "warn"
    assert run(host(settings={"disk_warn_pct": 0, "disk_fail_pct": 0}), "resources.disk_space")["status"] == "fail"
    assert run(host(settings={"inode_warn_pct": 0, "inode_fail_pct": 0}), "resources.inodes")["status"] == "fail"
    # A data directory that does not exist yet is measured on its nearest existing parent.
    result = run(host(profiles=("etcd",)), "resources.disk_space")
    assert "/var/lib/etcd" in result["observed"]


def test_disk_ssd_skips_without_block_device(host):
    result = run(host(), "disk.ssd")
    assert result["status"] == "skip"


def sysfs_block(root, data_dir, rotational, *, partition):
    """A fixture tree of /sys/dev/block for the device that really holds ``data_dir`` under ``root``, laid out
    as the kernel does: /sys/dev/block/MAJ:MIN links to the device's folder under /sys/devices; a
    partition's folder sits inside its disk's and has no queue/ of its own."""
    device = os.stat(root / data_dir.lstrip("/")).st_dev
    major, minor = os.major(device), os.minor(device)
    assert major != 0, "the fixture root must be on a block device (not tmpfs or overlay) for this test"
    disk = root / "sys/devices/pci0000:00/0000:00:04.0/virtio3/block/vdz"
    (disk / "queue").mkdir(parents=True)
    (disk / "queue/rotational").write_text(f"{rotational}\n")
    target = disk / "vdz1" if partition else disk
    target.mkdir(exist_ok=True)
    link = root / f"sys/dev/block/{major}:{minor}"
    link.parent.mkdir(parents=True)
    link.symlink_to(os.path.relpath(target, link.parent))


@pytest.mark.parametrize("partition", [False, True])
def test_disk_ssd_passes_on_a_non_rotational_disk(host, partition):
    sysfs_block(host.root, "/var/lib/containerd", 0, partition=partition)
    result = run(host(), "disk.ssd")
    assert result["status"] == "pass", result
    assert result["observed"] == {"/var/lib/containerd": "ssd"}


@pytest.mark.parametrize("partition", [False, True])
def test_disk_ssd_refuses_a_rotational_disk(host, partition):
    sysfs_block(host.root, "/var/lib/containerd", 1, partition=partition)
    result = run(host(), "disk.ssd")
    assert result["status"] == "fail", result
    assert result["observed"] == {"/var/lib/containerd": "rotational"}
    assert result["message"] == "on rotational disks: /var/lib/containerd"


def test_disk_ssd_skips_when_sysfs_has_no_queue_for_the_device(host):
    sysfs_block(host.root, "/var/lib/containerd", 1, partition=False)
    shutil.rmtree(host.root / "sys/devices/pci0000:00/0000:00:04.0/virtio3/block/vdz/queue")
    assert run(host(), "disk.ssd")["status"] == "skip"


def test_etcd_fdatasync_probe(host):
    (host.root / "var/lib/etcd").mkdir(parents=True)
    # The limit is generous here: this shared machine's disk speed is not what the test is about.
    settings = {"disk_probe_writes": 50, "disk_probe_p99_ms": 10000}
    result = run(host(profiles=("etcd",), settings=settings), "disk.etcd_fdatasync")
    assert result["status"] == "pass"
    assert result["observed"]["writes"] == 50
    assert not [p for p in os.listdir(host.root / "var/lib/etcd") if p.startswith(".preflight")]
    slow = run(
        host(profiles=("etcd",), settings={"disk_probe_writes": 20, "disk_probe_p99_ms": 0}), "disk.etcd_fdatasync"
    )
    assert slow["status"] == "fail"
    assert run(host(profiles=("etcd",), check_mode=True), "disk.etcd_fdatasync")["status"] == "skip"


@pytest.mark.parametrize(
    ("case", "sync", "offset"),
    [
        ("synced", "pass", "pass"),
        ("offset-large", "pass", "fail"),
        ("unsynchronised", "fail", "skip"),
        ("daemon-down", "fail", "skip"),
        ("local", "fail", "skip"),
    ],
)
def test_time_with_chrony(host, case, sync, offset):
    chrony_case(host, case)
    assert run(host(), "time.sync")["status"] == sync
    assert run(host(), "time.offset")["status"] == offset


def test_chrony_local_reference_accepted_when_allowed(host):
    chrony_case(host, "local")
    assert run(host(settings={"time_local_reference_ok": True}), "time.sync")["status"] == "pass"


@pytest.mark.parametrize(("case", "status"), [("synced", "pass"), ("unsynced", "fail"), ("no-ntp", "fail")])
def test_time_with_timesyncd(host, case, status):
    os.remove(host.root / "bin/chronyc")
    shutil.copy(FIXTURES / f"timedatectl/show-{case}.txt", host.root / "bin/show.txt")
    put(host, "bin/timedatectl", '#!/bin/sh\ncat "$(dirname "$0")/show.txt"\n', 0o755)
    assert run(host(), "time.sync")["status"] == status
    assert run(host(), "time.offset")["status"] == "skip"


def test_time_with_ntpd_and_without_daemon(host):
    os.remove(host.root / "bin/chronyc")
    assert "no chronyc, ntpstat or timedatectl" in run(host(), "time.sync")["message"]
    put(host, "bin/ntpstat", "#!/bin/sh\necho 'synchronised to NTP server (10.0.0.1) at stratum 2'\n", 0o755)
    assert run(host(), "time.sync")["status"] == "pass"
    put(host, "bin/ntpstat", "#!/bin/sh\necho unsynchronised\nexit 1\n", 0o755)
    assert run(host(), "time.sync")["status"] == "fail"


def log_host(host, name):
    shutil.copy(FIXTURES / "kernel-log" / name, host.root / "var/log/kern.log")
    return host()


KERNEL_IDS = [
    "kernel.hung_task",
    "kernel.fs_errors",
    "kernel.hardware_errors",
    "kernel.oom_kill",
    "kernel.unregister_netdevice",
    "kernel.nvme_errors",
    "kernel.oops",
]


def test_kernel_log_patterns_on_fs_errors(host):
    ctx = log_host(host, "fs-errors.log")
    statuses = {check_id: run(ctx, check_id)["status"] for check_id in KERNEL_IDS}
    assert statuses == {
        "kernel.hung_task": "fail",
        "kernel.fs_errors": "fail",
        "kernel.hardware_errors": "fail",
        "kernel.oom_kill": "warn",
        "kernel.unregister_netdevice": "warn",
        "kernel.nvme_errors": "fail",
        "kernel.oops": "pass",
    }
    assert run(ctx, "kernel.fs_errors")["observed"]["count"] == 4
    assert run(ctx, "kernel.hardware_errors")["observed"] == {"fatal": 2, "corrected": 1}


@pytest.mark.parametrize("name", ["empty.log", "old-and-undated.log", "binary-garbage.log", "xid79.log"])
def test_kernel_log_without_errors_in_window(host, name):
    ctx = log_host(host, name)
    assert {run(ctx, check_id)["status"] for check_id in KERNEL_IDS} == {"pass"}


def test_kernel_log_lookback_is_configurable(host):
    ctx = host(settings={"kernel_log_lookback_s": 30 * 86400})
    shutil.copy(FIXTURES / "kernel-log/old-and-undated.log", host.root / "var/log/kern.log")
    assert run(ctx, "kernel.fs_errors")["observed"]["count"] == 2


def test_kernel_log_sources(host):
    assert run(host(settings={"kernel_log_path": "/nope"}), "kernel.oops")["status"] == "skip"
    assert run(host(settings={"kernel_log_source": "kmsg"}), "kernel.oops")["message"].startswith("cannot open")
    assert run(host(settings={"kernel_log_source": "journal"}), "kernel.oops")["message"] == "journalctl not found"
    put(host, "bin/journalctl", "#!/bin/sh\necho '2026-11-29T10:59:00+0000 h kernel: divide error: 0000'\n", 0o755)
    assert run(host(settings={"kernel_log_source": "journal"}), "kernel.oops")["status"] == "fail"
    assert "unknown kernel_log_source" in run(host(settings={"kernel_log_source": "x"}), "kernel.oops")["message"]


def test_read_only_mounts(host):
    assert run(host(), "fs.read_only")["status"] == "pass"
    put(host, "proc/mounts", "/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /var/lib ext4 ro,relatime 0 0\n")
    result = run(host(), "fs.read_only")
    assert result["status"] == "fail"
    assert result["observed"]["/var/lib/kubelet"] == "/var/lib"


def test_d_state(host):
    put(host, "proc/12/stat", "12 (kworker/u:2 x) S 2 0 0\n")
    assert run(host(), "process.d_state")["status"] == "pass"
    put(host, "proc/13/stat", "13 (jbd2/sda1) D 2 0 0\n")
    result = run(host(), "process.d_state")
    assert (result["status"], result["observed"]) == ("warn", ["13 jbd2/sda1"])
    assert run(host(settings={"d_state_max": 1}), "process.d_state")["status"] == "pass"


GPU_IDS = [
    "gpu.nvidia_smi",
    "gpu.count",
    "gpu.driver_version",
    "gpu.ecc.uncorrected",
    "gpu.row_remap.pending",
    "gpu.row_remap.failed",
    "gpu.retired_pages.pending",
    "gpu.persistence_mode",
    "gpu.hw_slowdown",
    "gpu.nvlink",
]


def gpu_statuses(host, case, **settings):
    nvidia_case(host, case)
    ctx = host(settings=settings or None)
    return {check_id: run(ctx, check_id)["status"] for check_id in GPU_IDS}


def test_gpu_healthy(host):
    statuses = gpu_statuses(host, "healthy-8gpu")
    assert statuses.pop("gpu.retired_pages.pending") == "skip"  # H100: row remapping, no page retirement
    assert set(statuses.values()) == {"pass"}


def test_gpu_ecc_error_and_missing_gpu(host):
    statuses = gpu_statuses(host, "ecc-7of8", gpu_count=8)
    assert [i for i, s in statuses.items() if s == "fail"] == ["gpu.count", "gpu.ecc.uncorrected"]
    assert run(host(), "gpu.ecc.uncorrected")["message"].endswith("GPU 3: 2")


def test_gpu_row_remap_pending(host):
    statuses = gpu_statuses(host, "row-remap-pending")
    assert [i for i, s in statuses.items() if s == "fail"] == ["gpu.row_remap.pending"]


def test_gpu_nvlink_and_persistence(host):
    assert gpu_statuses(host, "nvlink-inactive")["gpu.nvlink"] == "fail"
    assert gpu_statuses(host, "persistence-off")["gpu.persistence_mode"] == "warn"


def test_gpu_pre_ampere(host):
    statuses = gpu_statuses(host, "v100-retired-pending", gpu_count=4)
    assert statuses["gpu.retired_pages.pending"] == "fail"
    assert statuses["gpu.row_remap.pending"] == "skip"
    assert statuses["gpu.nvlink"] == "skip"


@pytest.mark.parametrize(
    ("case", "code", "words"), [("exit-9", 9, "driver is not loaded"), ("exit-15", 15, "fallen off the bus")]
)
def test_gpu_exit_codes(host, case, code, words):
    # A failed shared query fails every check built on it (persistence_mode only warns: its severity).
    statuses = gpu_statuses(host, case)
    assert statuses.pop("gpu.persistence_mode") == "warn"
    assert set(statuses.values()) == {"fail"}
    result = run(host(), "gpu.nvidia_smi")
    assert result["observed"] == code
    assert words in result["message"]
    assert words in run(host(), "gpu.count")["message"]


def test_gpu_malformed_and_empty_output_fail_without_traceback(host):
    assert gpu_statuses(host, "malformed")["gpu.count"] == "fail"
    assert run(host(), "gpu.count")["message"].startswith("could not evaluate")
    assert gpu_statuses(host, "empty")["gpu.count"] == "fail"


def test_gpu_driver_minimum(host):
    assert run(host(settings={"gpu_min_driver": "550.54"}), "gpu.driver_version")["status"] == "fail"
    assert run(host(settings={"gpu_min_driver": "535.104"}), "gpu.driver_version")["status"] == "pass"


def test_gpu_without_nvidia_smi(host):
    os.remove(host.root / "bin/nvidia-smi")
    assert run(host(), "gpu.nvidia_smi")["status"] == "fail"
    assert run(host(), "gpu.count")["status"] == "skip"


def test_gpu_hang_is_a_timeout(host):
    put(host, "bin/nvidia-smi", "#!/bin/sh\nsleep 5\n", 0o755)
    result = run(host(timeout=0.3), "gpu.nvidia_smi")
    assert (result["status"], result["observed"]) == ("fail", 124)


def test_xid_classification(host):
    assert run(log_host(host, "xid79.log"), "gpu.xid")["status"] == "fail"
    result = run(log_host(host, "xid-application.log"), "gpu.xid")
    assert (result["status"], result["observed"]) == ("warn", [13, 43, 999])
    ctx = host(settings={"gpu_xid_application": [13, 43, 999]})
    assert run(ctx, "gpu.xid")["status"] == "pass"
    ctx = host(settings={"gpu_xid_drain": [43]})
    assert run(ctx, "gpu.xid")["status"] == "fail"


def test_cis_permissions(host):
    assert run(host(), "cis.kubeconfig_perms")["status"] == "skip"
    path = put(host, "etc/kubernetes/kubelet.conf", "x", 0o644)
    if os.geteuid() == 0:
        os.chown(path, 0, 0)
    result = run(host(), "cis.kubeconfig_perms")
    assert result["status"] == "fail"
    assert "mode 0644 is wider than 0600" in result["message"]
    path.chmod(0o600)
    assert run(host(), "cis.kubeconfig_perms")["status"] == ("pass" if os.geteuid() == 0 else "fail")
    put(host, "var/lib/kubelet/config.yaml", "x", 0o640)
    assert run(host(), "cis.kubelet_config_perms")["status"] == "fail"


def test_disk_ssd_only_warns_on_a_rotational_disk_when_ssd_is_not_required(host):
    sysfs_block(host.root, "/var/lib/containerd", 1, partition=False)
    result = run(host(settings={"require_ssd": False}), "disk.ssd")
    assert result["status"] == "warn", result
    assert result["message"] == "on rotational disks (require_ssd is false): /var/lib/containerd"


def test_data_dirs_are_those_the_owning_roles_pass(host):
    (host.root / "srv/ctr").mkdir(parents=True)
    settings = {
        "runtime_dirs": ["/srv/ctr", "/srv/stargz"],
        "kubelet_dir": "/srv/kubelet",
        "etcd_data_dirs": ["/srv/e1", "/srv/e2"],
    }
    nodes = run(host(settings=settings, profiles=("nodes",)), "resources.disk_space")["observed"]
    assert sorted(nodes) == ["/srv/ctr", "/srv/kubelet", "/srv/stargz"]
    etcd = run(host(settings=settings, profiles=("etcd",)), "resources.disk_space")["observed"]
    assert sorted(etcd) == ["/srv/e1", "/srv/e2"]
    both = run(host(settings=settings, profiles=("nodes", "etcd")), "fs.read_only")["message"]
    assert both == "writable: /, /srv/ctr, /srv/stargz, /srv/kubelet, /srv/e1, /srv/e2"


def test_etcd_ports_are_those_of_the_hosts_clusters(host):
    put(
        host,
        "proc/net/tcp",
        "  sl  local_address rem_address   st\n"
        "   0: 00000000:094E 00000000:0000 0A 00000000:00000000 00:00000000 00000000\n",
    )
    # 0x094E is 2382: the events cluster's client port; the main cluster's ports are free.
    assert run(host(profiles=("etcd",), settings={"etcd_ports": [2379, 2380]}), "ports.free")["status"] == "pass"
    result = run(host(profiles=("etcd",), settings={"etcd_ports": [2382, 2383]}), "ports.free")
    assert result["status"] == "fail"
    assert result["observed"] == [2382]


def test_gpu_nouveau_must_not_be_loaded(host):
    assert run(host(), "gpu.nouveau")["status"] == "pass"
    put(host, "proc/modules", "nouveau 2994176 0 - Live 0x0\noverlay 151552 0 - Live 0x0\n")
    result = run(host(), "gpu.nouveau")
    assert (result["status"], result["observed"]) == ("fail", "loaded")
    assert "blacklist" in result["message"]
