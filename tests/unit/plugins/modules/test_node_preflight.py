"""The node_preflight module run as Ansible runs it (a JSON argument file), on fixture roots."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from preflight_fixture_root import BROKEN_FAILURES, build_root

REPO = Path(__file__).resolve().parents[4]


def run_module(args, tmp_path):
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    proc = subprocess.run(
        [sys.executable, "-m", "ansible_collections.aiplatform.cluster.plugins.modules.node_preflight", str(args_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PYTHONPATH": str(REPO / "build/collections"), "PATH": "/usr/bin:/bin"},
    )
    assert proc.stdout, proc.stderr
    return json.loads(proc.stdout)


def test_healthy_host_passes(tmp_path):
    result = run_module(build_root(tmp_path / "root"), tmp_path)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False
    assert result["summary"]["ok"] is True
    assert result["summary"]["total"] == len(result["results"]) > 35
    assert result["profiles"] == ["gpu"]
    # The duration is reported (a figure for docs/benchmarks.md), not bounded: no timing assertion here.
    assert isinstance(result["elapsed_s"], float) and result["elapsed_s"] >= 0


def test_broken_host_fails_with_its_check_ids(tmp_path):
    result = run_module(build_root(tmp_path / "root", broken=True), tmp_path)
    assert result["failed"] is True
    assert result["summary"]["failed"] == BROKEN_FAILURES
    assert result["msg"] == "preflight failed: " + ", ".join(BROKEN_FAILURES)
    by_id = {r["id"]: r for r in result["results"]}
    assert by_id["gpu.count"]["observed"] == 7
    assert by_id["gpu.xid"]["observed"] == [79]


def test_ignore_list_and_fail_on_failure(tmp_path):
    params = build_root(tmp_path / "root", broken=True)
    ignored = run_module({**params, "ignore": ["gpu.*", "net.ip_forward"]}, tmp_path)
    assert ignored["summary"]["failed"] == ["kubelet.leftover_files", "time.sync"]
    assert set(ignored["summary"]["ignored"]) == {"gpu.count", "gpu.ecc.uncorrected", "gpu.xid", "net.ip_forward"}
    collected = run_module({**params, "fail_on_failure": False}, tmp_path)
    assert not collected.get("failed")
    assert collected["summary"]["ok"] is False


def test_check_mode_is_supported(tmp_path):
    params = build_root(tmp_path / "root")
    result = run_module({**params, "profiles": ["etcd"], "_ansible_check_mode": True}, tmp_path)
    by_id = {r["id"]: r for r in result["results"]}
    assert by_id["disk.etcd_fdatasync"]["status"] == "skip"
    assert result["changed"] is False


def test_operator_checks(tmp_path):
    params = build_root(tmp_path / "root")
    site = tmp_path / "root/etc/aiplatform/preflight.d"
    site.mkdir(parents=True)
    (site / "rack.py").write_text("CHECKS = [{'id': 'site.rack', 'run': lambda ctx: {'status': 'fail'}}]\n")
    (site / "typo.py").write_text("CHECKS = [\n")
    custom = [{"id": "site.fwd", "type": "sysctl", "name": "net.ipv4.ip_forward", "value": "1"}]
    result = run_module({**params, "custom_checks": custom, "site_checks_dir": "/etc/aiplatform/preflight.d"}, tmp_path)
    by_id = {r["id"]: r for r in result["results"]}
    assert by_id["site.fwd"]["status"] == "pass"
    assert result["summary"]["failed"] == ["site.rack", "site.load"]
    assert "typo.py: SyntaxError" in by_id["site.load"]["message"]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"custom_checks": [{"id": "x", "type": "dns"}]}, "type must be"),
        ({"profiles": ["gpu_worker"]}, "profiles: gpu_worker not among control_plane, nodes, gpu, etcd, monitoring"),
    ],
)
def test_bad_arguments(tmp_path, args, error):
    result = run_module(args, tmp_path)
    assert result["failed"] is True
    assert error in result["msg"]
