"""node_os on lab hosts: every sysctl the lab allows holds its value in /proc/sys, what the lab forbids
is never written (and reported so), modules and swap are checked, chrony is synchronised everywhere,
and bad input is refused before any host changes."""

import json
import os
import re
import sys
from pathlib import Path

import pytest
import testinfra

sys.path.insert(0, str(Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / "tests" / "tools"))
from scenario_playbook import run_scenario_playbook

CP1 = "molecule-node_os-cp1"
GPU1 = "molecule-node_os-gpu1"
SCENARIO = Path(__file__).resolve().parent.parent
# What the role must hold on the privileged worker, written out here (kubelet's list is only read back).
WORKER_NET = {
    "net.ipv4.ip_forward": "1",
    "net.bridge.bridge-nf-call-iptables": "1",
    "net.bridge.bridge-nf-call-ip6tables": "1",
    "net.core.somaxconn": "4096",
}
NEVER_WRITTEN = {
    "vm.overcommit_memory": "1",
    "vm.panic_on_oom": "0",
    "kernel.panic": "10",
    "kernel.panic_on_oops": "1",
    "kernel.keys.root_maxkeys": "1000000",
    "kernel.keys.root_maxbytes": "25000000",
    "kernel.pid_max": "4194304",
    "vm.max_map_count": "1048576",
    "fs.inotify.max_user_instances": "8192",
    "fs.inotify.max_user_watches": "1048576",
    "fs.file-max": "9223372036854775807",
}


def node(name):
    return testinfra.get_host(f"podman://{name}")


def report(name):
    return json.loads(node(name).file("/var/lib/aiplatform/node_os.json").content_string)


def proc(host, key):
    return " ".join(host.file("/proc/sys/" + key.replace(".", "/")).content_string.split())


def test_worker_net_sysctls_hold_in_proc_and_the_drop_in():
    host = node(GPU1)
    assert {key: proc(host, key) for key in WORKER_NET} == WORKER_NET
    text = host.file("/etc/sysctl.d/90-aiplatform-node.conf").content_string
    lines = [line for line in text.split("\n") if line and not line.startswith("#")]
    assert sorted(lines) == sorted(f"{k}={v}" for k, v in WORKER_NET.items())


def test_what_the_lab_forbids_is_reported_never_written():
    rows = {row["name"]: row for row in report(GPU1)["sysctls"]}
    for key, wanted in NEVER_WRITTEN.items():
        assert rows[key]["state"] == "environment limit", rows[key]
        assert rows[key]["value"] == wanted
        # What the worker sees is the machine's own value, as the controller reads it (pid_max is per
        # PID namespace since Linux 6.14).
        if key != "kernel.pid_max":
            machine = Path("/proc/sys/" + key.replace(".", "/")).read_text().split()
            assert rows[key]["observed"] == " ".join(machine)
    assert rows["net.ipv4.neigh.default.gc_thresh3"]["state"] == "absent"
    assert rows["net.netfilter.nf_conntrack_max"]["state"] == "read-only"


def test_control_plane_is_read_only_and_has_ip_forward_from_creation():
    host = node(CP1)
    rows = {row["name"]: row for row in report(CP1)["sysctls"]}
    assert proc(host, "net.ipv4.ip_forward") == "1"
    assert rows["net.ipv4.ip_forward"] == {
        "name": "net.ipv4.ip_forward",
        "value": "1",
        "observed": "1",
        "state": "read-only",
        "ok": True,
    }
    assert rows["net.core.somaxconn"]["value"] == "32768"
    assert not host.file("/etc/sysctl.d/90-aiplatform-node.conf").exists


@pytest.mark.parametrize("name", [CP1, GPU1])
def test_modules_and_swap_are_checked_never_changed(name):
    host = node(name)
    data = report(name)
    proofs = {"overlay": "/sys/module/overlay", "br_netfilter": "/proc/sys/net/bridge/bridge-nf-call-iptables"}
    assert data["modules"] == {module: host.file(path).exists for module, path in proofs.items()}
    assert data["modules_loaded_by_role"] is False
    assert not host.file("/etc/modules-load.d/aiplatform-node.conf").exists
    swaps = [line.split()[0] for line in Path("/proc/swaps").read_text().splitlines()[1:] if line.strip()]
    assert data["swap"] == swaps
    assert data["swapoff_by_role"] is False
    assert not re.search(r"^\s*[^#\s]\S*\s+\S+\s+swap\s", host.file("/etc/fstab").content_string, re.M)


@pytest.mark.parametrize("name", [CP1, GPU1])
def test_chronyd_never_adjusts_the_clock_and_journald_is_limited(name):
    host = node(name)
    assert host.service("chrony").is_running
    assert host.check_output("ps -o args= -C chronyd").split("\n")[0].endswith(" -x")
    journald = host.file("/etc/systemd/journald.conf.d/90-aiplatform-node.conf").content_string
    assert "SystemMaxUse=4G" in journald and "SystemMaxFileSize=256M" in journald


def test_time_server_serves_its_clock():
    tracking = node(CP1).check_output("chronyc -n tracking")
    assert re.search(r"^Reference ID\s*:\s*7F7F0101", tracking, re.M), tracking
    assert re.search(r"^Stratum\s*:\s*8$", tracking, re.M), tracking
    assert re.search(r"^Leap status\s*:\s*Normal$", tracking, re.M), tracking


def test_worker_is_synchronised_to_the_time_server():
    host = node(GPU1)
    sources = host.check_output("chronyc -n sources")
    assert re.search(r"^\^\* 10\.213\.91\.11 ", sources, re.M), sources
    tracking = host.check_output("chronyc -n tracking")
    assert re.search(r"^Reference ID\s*:\s*0AD55B0B ", tracking, re.M), tracking


def run_converge(extra, succeed=False):
    """converge.yml again with ``extra`` as -e: refused (or, with ``succeed``, passed) with nothing changed."""
    returncode, output = run_scenario_playbook(SCENARIO / "converge.yml", extra)
    assert (returncode == 0) == succeed, output[-3000:]
    for name in (CP1, GPU1):
        assert re.search(rf"{name} *: ok=\d+ +changed=0 ", output), output[-3000:]
    return output


def test_bad_input_is_refused_before_any_change_naming_each_variable():
    output = run_converge(
        {
            "node_os_sysctls": {"kernal.panic": 10, "vm.swappiness": "lots"},
            "node_os_neigh_gc_thresh1": 100000,
            "node_os_neigh_gc_thresh3": 80000,
            "node_os_chrony_servers": ["ntp server!"],
            "node_os_pid_max": -5,
        }
    )
    for message in (
        "node_os_sysctls: is not a sysctl key (dotted, under one of abi, crypto, debug, dev, fs, kernel, net, "
        "sunrpc, user, vm) (got 'kernal.panic')",
        "node_os_sysctls[vm.swappiness]: must be a non-negative whole number or several (got 'lots')",
        "node_os_neigh_gc_thresh1: must not exceed node_os_neigh_gc_thresh2, nor that node_os_neigh_gc_thresh3 "
        "(the kernel collects below 1, soon above 2, at once above 3) (got [100000, 90000, 80000])",
        "node_os_chrony_servers[0]: is neither a host name nor an address (got 'ntp server!')",
        "node_os_pid_max: must be a non-negative whole number (got -5)",
    ):
        assert message in output, output[-3000:]


def test_non_numeric_value_is_refused_by_the_argument_spec():
    output = run_converge({"node_os_somaxconn": "many"})
    assert "node_os_somaxconn" in output and "int" in output, output[-3000:]


def test_values_given_as_command_line_strings_work_and_change_nothing():
    """Every boolean, integer and list in the form `-e name=value` gives it (a string): the same run as
    the converged one, so it passes with changed=0 (a raw "false" would fail a condition or turn swapoff on)."""
    run_converge(
        {
            "node_os_env_swapoff": "false",
            "node_os_env_load_modules": "false",
            "node_os_env_adjust_clock": "false",
            "node_os_env_limits_ok": "true",
            "node_os_env_sysctl_writable": "net.*",
            "node_os_kernel_modules": "overlay,br_netfilter",
            "node_os_chrony_wait_s": "60",
            "node_os_chrony_makestep_limit": "3",
            "node_os_pid_max": "4194304",
        },
        succeed=True,
    )
