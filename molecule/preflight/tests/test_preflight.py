"""The preflight gate on real systemd hosts: healthy passes, broken fails with exactly its faults,
join_nodes.yml admits healthy and leaves broken out, and preflight.yml fails broken only."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
import testinfra

# The broken lab host carries the same faults as the broken fixture root: one list of them.
sys.path.insert(0, str(Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / "tests" / "tools"))
from preflight_fixture_root import BROKEN_FAILURES

HEALTHY = "molecule-preflight-healthy"
BROKEN = "molecule-preflight-broken"
LAB_IGNORED = ["binaries.required", "cgroup.controllers", "cri.socket", "kernel.modules"]
OPERATOR_CHECKS = ["site.hosts_file", "site.hostname_set", "site.python3"]
REPORT_DIR = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent")) / "reports"
# converge.yml runs playbooks/join_nodes.yml, whose preflight reports beside the join report.
REPORTS = REPORT_DIR / "join" / "preflight"


def report(host):
    return json.loads((REPORTS / f"{host}.json").read_text())


def by_id(data):
    return {r["id"]: r for r in data["results"]}


def test_healthy_host_passes():
    data = report(HEALTHY)
    assert data["summary"]["ok"] is True, data["summary"]
    assert data["summary"]["failed"] == []
    # The topology parts of its groups (kube_node and gpu in this inventory).
    assert data["profiles"] == ["gpu", "nodes"]
    results = by_id(data)
    assert results["gpu.count"]["observed"] == 8
    assert results["time.sync"]["status"] == "pass"
    assert results["net.ip_forward"]["observed"] == "1"
    assert results["gpu.fabric_manager"]["message"] == (
        "nvidia-fabricmanager 535.129.03 active for 8 GPU(s) on an NVSwitch fabric"
    )
    assert results["gpu.ecc.sram"]["status"] == results["gpu.fabric_state"]["status"] == "pass"


def test_broken_host_fails_with_exactly_its_faults():
    data = report(BROKEN)
    assert data["summary"]["failed"] == BROKEN_FAILURES
    results = by_id(data)
    assert results["gpu.count"]["observed"] == 7
    assert results["gpu.xid"]["observed"] == [79]
    # The ECC history and the fabric, through the stand-in nvidia-smi (it answers only the recorded command
    # lines) and the missing fabric manager.
    assert results["gpu.ecc.sram"]["message"].endswith("GPU 3: 2 uncorrected, 14 corrected")
    assert results["gpu.fabric_state"]["message"].startswith("GPUs not registered with the NVSwitch fabric")
    assert results["gpu.fabric_manager"]["observed"] == "inactive"
    assert results["kubelet.leftover_files"]["observed"] == ["/etc/kubernetes/kubelet.conf"]
    assert "Cannot talk to daemon" in results["time.sync"]["message"]


@pytest.mark.parametrize("host", [HEALTHY, BROKEN])
def test_kubeadm_checks_on_real_hosts(host):
    """kubeadm's remaining checks against what the lab hosts really are: the machine's kernel config through
    the container's /proc/config.gz, no firewalld, no kubelet unit or binary yet, no ctr, an IPv4 cluster."""
    results = by_id(report(host))
    assert (results["kernel.config"]["status"], results["kernel.config"]["observed"]["missing"]) == ("pass", [])
    assert results["kernel.config"]["observed"]["config"] == "/proc/config.gz"
    assert (results["firewalld.inactive"]["status"], results["firewalld.inactive"]["observed"]) == ("pass", "inactive")
    enabled = results["kubelet.service_enabled"]
    assert (enabled["status"], enabled["observed"]) == ("warn", "not-found")
    assert results["net.http_proxy"]["status"] == "pass"
    skipped = {i: results[i]["message"] for i in ("kubelet.version_skew", "images.present", "net.ipv6_forward")}
    assert skipped == {
        "kubelet.version_skew": "kubelet not found",
        "images.present": "ctr not found",
        "net.ipv6_forward": "no IPv6 in service_cidr, pod_cidr or api_endpoint: IPv6 forwarding is not needed",
    }
    assert all(results[i]["status"] == "skip" for i in skipped)


@pytest.mark.parametrize("host", [HEALTHY, BROKEN])
def test_lab_differences_are_ignored_and_operator_checks_ran(host):
    data = report(host)
    assert set(data["summary"]["ignored"]) <= set(LAB_IGNORED)
    results = by_id(data)
    assert [results[i]["status"] for i in OPERATOR_CHECKS] == ["pass", "pass", "pass"]
    # The duration is reported (a figure for docs/benchmarks.md), not bounded: no timing assertion here.
    assert isinstance(data["elapsed_s"], float) and data["elapsed_s"] >= 0


def test_junit_summary_and_table():
    root = ElementTree.fromstring((REPORTS / "junit.xml").read_text().split("\n", 1)[1])
    assert root.get("failures") == str(len(BROKEN_FAILURES))
    assert root.get("errors") == "0"
    summary = json.loads((REPORTS / "summary.json").read_text())
    assert summary["passed"] == [HEALTHY]
    assert summary["failed"] == {BROKEN: BROKEN_FAILURES}
    table = (REPORTS / "summary.md").read_text()
    assert re.search(rf"\| {HEALTHY} +\| PASS ", table)
    assert re.search(rf"\| {BROKEN} +\| FAIL ", table)


def test_join_admits_healthy_and_leaves_broken_out():
    join = json.loads((REPORT_DIR / "join" / "summary.json").read_text())
    assert join == {"admitted": {HEALTHY: "skipped: no kubeadm"}, "left_out": {BROKEN: BROKEN_FAILURES}}


def test_broken_is_broken_only_inside_its_container():
    broken = testinfra.get_host(f"podman://{BROKEN}")
    healthy = testinfra.get_host(f"podman://{HEALTHY}")
    assert broken.file("/proc/sys/net/ipv4/ip_forward").content_string.strip() == "0"
    assert healthy.file("/proc/sys/net/ipv4/ip_forward").content_string.strip() == "1"
    assert not broken.service("chrony").is_running
    assert healthy.service("chrony").is_running
    # chronyd never adjusts the (shared) clock: it runs with -x.
    assert " -x" in healthy.check_output("pgrep -a chronyd")


def run_preflight_playbook(*extra):
    """playbooks/preflight.yml on the scenario's hosts with ``extra`` as -e NAME=VALUE strings; the process
    and its output without colour (lines kept: the recap is read line by line)."""
    inventory = Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent
    playbook = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / "playbooks" / "preflight.yml"
    proc = subprocess.run(
        ["ansible-playbook", "-i", str(inventory), str(playbook), *[a for e in extra for a in ("-e", e)]],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"},
    )
    return proc, re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)


def test_preflight_playbook_fails_the_broken_host_only(tmp_path):
    proc, output = run_preflight_playbook(f"node_preflight_report_dir={tmp_path}")
    assert proc.returncode == 2, output[-3000:]
    recap = dict(re.findall(r"^(\S+)\s+: ok=\d+\s+changed=\d+\s+unreachable=\d+\s+failed=(\d+)", output, re.M))
    # localhost runs the topology plays (playbooks/topology.yml) that every playbook imports.
    assert recap == {"localhost": "0", HEALTHY: "0", BROKEN: "1"}, output[-3000:]
    assert f"preflight failed on {BROKEN}: gpu.count" in output
    assert json.loads((tmp_path / f"{BROKEN}.json").read_text())["summary"]["failed"] == BROKEN_FAILURES


def test_preflight_playbook_takes_string_extra_vars(tmp_path):
    """`-e node_preflight_fail_hosts=false` (a string) lets the play go on; the verdict is still reported."""
    proc, output = run_preflight_playbook(
        "node_preflight_fail_hosts=false",
        "node_preflight_write_reports=true",
        "node_preflight_command_timeout=10",
        f"node_preflight_report_dir={tmp_path}",
    )
    assert proc.returncode == 0, output[-3000:]
    assert json.loads((tmp_path / "summary.json").read_text())["failed"] == {BROKEN: BROKEN_FAILURES}
