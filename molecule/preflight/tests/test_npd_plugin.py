"""node-problem-detector's custom plugin on real lab hosts: the runner the node_problem_detector role
installs (tasks_from: node, converge.yml), run exactly as node-problem-detector runs it (chroot into
the node's root, the group's name as the argument), on the healthy and the broken GPU worker. Exit
codes follow NPD's plugin contract (0 OK, 1 problem, 2 unknown); stdout is one line."""

import json
import os
from pathlib import Path

import pytest
import testinfra

HEALTHY = "molecule-preflight-healthy"
BROKEN = "molecule-preflight-broken"
RUNNER = "/usr/bin/python3 /usr/local/libexec/aiplatform/npd-check.py"
# The preflight of converge.yml (playbooks/join_nodes.yml) reports beside the join report.
REPORTS = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent")) / "reports" / "join" / "preflight"


def plugin(host, group):
    result = testinfra.get_host(f"podman://{host}").run(f"/usr/sbin/chroot / {RUNNER} {group}")
    assert result.stderr == ""
    assert result.stdout.endswith("\n") and result.stdout.count("\n") == 1
    return result.rc, result.stdout.strip()


@pytest.mark.parametrize(
    ("host", "group", "rc", "start"),
    [
        (HEALTHY, "gpu", 0, "9 check(s) ok"),
        (BROKEN, "gpu", 1, "gpu.count: 7 GPUs visible, 8 expected; gpu.ecc.uncorrected: "),
        # The fabric group: pcie, numa and the InfiniBand checks skip (no such devices in the lab).
        (HEALTHY, "gpu_fabric", 0, "9 check(s) ok"),
        (BROKEN, "gpu_fabric", 1, "gpu.ecc.sram: SRAM ECC history over the limits"),
        (HEALTHY, "time", 0, "2 check(s) ok"),
        (BROKEN, "time", 1, "time.sync: "),
        # No containerd in the lab: the CRI socket is missing on both, a problem NPD would report.
        (HEALTHY, "runtime", 1, "cri.socket: "),
        (BROKEN, "runtime", 1, "cri.socket: "),
        (HEALTHY, "nope", 2, "unknown check group 'nope'"),
    ],
)
def test_plugin_exit_code_and_message(host, group, rc, start):
    code, message = plugin(host, group)
    assert (code, message[: len(start)]) == (rc, start)
    assert len(message) <= 80


@pytest.mark.parametrize("host", [HEALTHY, BROKEN])
def test_disk_group_agrees_with_the_preflight_module(host):
    # The preflight module ran the same checks in converge: its report is the independent verdict.
    report = {r["id"]: r["status"] for r in json.loads((REPORTS / f"{host}.json").read_text())["results"]}
    ids = ["resources.disk_space", "resources.inodes", "fs.read_only"]
    failed = [i for i in ids if report[i] == "fail"]
    code, message = plugin(host, "disk")
    assert code == (1 if failed else 0), (report, message)


def test_a_broken_check_library_is_unknown_not_a_problem():
    host = testinfra.get_host(f"podman://{HEALTHY}")
    library = "/usr/local/lib/aiplatform/python/ansible_collections/aiplatform/cluster/plugins/module_utils"
    host.run_expect([0], f"mv {library}/npd_plugin.py /tmp/npd_plugin.py.aside")
    try:
        code, message = plugin(HEALTHY, "time")
    finally:
        host.run_expect([0], f"mv /tmp/npd_plugin.py.aside {library}/npd_plugin.py")
    assert code == 2 and message.startswith("check runner error: ModuleNotFoundError")


@pytest.mark.parametrize("host", [HEALTHY, BROKEN])
def test_host_plugin_file(host):
    config = json.loads(testinfra.get_host(f"podman://{host}").file("/etc/aiplatform/npd/checks.json").content_string)
    assert sorted(config["groups"]) == ["disk", "gpu", "gpu_fabric", "runtime", "time"]
    assert config["groups"]["gpu"][:2] == ["gpu.nvidia_smi", "gpu.count"]
    assert config["settings"]["gpu_count"] == 8
