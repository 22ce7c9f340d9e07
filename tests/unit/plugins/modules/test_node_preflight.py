"""The node_preflight module run as Ansible runs it (a JSON argument file), on fixture roots."""

import module_runner
import pytest
from preflight_fixture_root import BROKEN_FAILURES, build_root


def run_module(args, tmp_path):
    return module_runner.run_module("node_preflight", args, tmp_path)


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
    assert set(ignored["summary"]["ignored"]) == {
        "gpu.count",
        "gpu.ecc.sram",
        "gpu.ecc.uncorrected",
        "gpu.fabric_manager",
        "gpu.fabric_state",
        "gpu.xid",
        "net.ip_forward",
    }
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


MARKER = "/var/lib/aiplatform/preflight-admitted"
TEXTFILE_DIR = "/var/lib/prometheus/node-exporter"
FRESH = ["ports.free", "kubelet.leftover_files"]


def test_admission_mark_written_once_then_fresh_checks_left_out(tmp_path):
    params = {**build_root(tmp_path / "root"), "admitted_marker": MARKER, "fresh_host_checks": FRESH}
    first = run_module(params, tmp_path)
    assert first["changed"] is True
    assert first["admitted"] is False
    assert {"ports.free", "kubelet.leftover_files"} <= {r["id"] for r in first["results"]}
    marker = tmp_path / "root/var/lib/aiplatform/preflight-admitted"
    assert marker.read_text() == (
        "passed aiplatform.cluster node_preflight; delete this file to run ports.free, kubelet.leftover_files again\n"
    )
    assert oct(marker.stat().st_mode & 0o777) == "0o644"
    assert oct((tmp_path / "root/var/lib/aiplatform").stat().st_mode & 0o777) == "0o755"
    second = run_module(params, tmp_path)
    assert second["changed"] is False
    assert second["admitted"] is True
    ids = {r["id"] for r in second["results"]}
    assert "ports.free" not in ids and "kubelet.leftover_files" not in ids
    assert second["summary"]["total"] == first["summary"]["total"] - 2


def test_a_failing_host_is_not_marked(tmp_path):
    params = {**build_root(tmp_path / "root", broken=True), "admitted_marker": MARKER, "fail_on_failure": False}
    result = run_module(params, tmp_path)
    assert result["changed"] is False
    assert not (tmp_path / "root/var/lib/aiplatform").exists()


def test_check_mode_reports_the_mark_and_folders_but_writes_nothing(tmp_path):
    params = {
        **build_root(tmp_path / "root"),
        "admitted_marker": MARKER,
        "textfile_dir": TEXTFILE_DIR,
        "site_checks_dir": "/etc/aiplatform/preflight.d",
        "site_checks_content": {"rack.py": "CHECKS = []\n"},
        "_ansible_check_mode": True,
    }
    result = run_module(params, tmp_path)
    assert result["changed"] is True
    assert result["summary"]["ok"] is True
    for folder in ("var/lib/aiplatform", "var/lib/prometheus", "etc/aiplatform"):
        assert not (tmp_path / "root" / folder).exists(), folder


def test_textfile_rewritten_every_run_never_a_change(tmp_path):
    params = {**build_root(tmp_path / "root"), "textfile_dir": TEXTFILE_DIR}
    first = run_module(params, tmp_path)
    assert first["changed"] is True  # the folder was created
    prom = tmp_path / "root/var/lib/prometheus/node-exporter/aiplatform_preflight.prom"
    text = prom.read_text()
    assert 'aiplatform_preflight_check_status{check="net.ip_forward",category="kubeadm",status="pass"} 1' in text
    assert text.endswith("aiplatform_preflight_failed_checks 0\n")
    prom.write_text("stale\n")
    second = run_module(params, tmp_path)
    assert second["changed"] is False
    assert prom.read_text() == text


def test_site_checks_installed_then_run_in_the_same_call(tmp_path):
    site = {
        "rack.py": "CHECKS = [{'id': 'site.rack', 'run': lambda ctx: {'status': 'pass', 'message': 'rack ok'}}]\n",
        "lib/notes.txt": "not a check\n",
    }
    params = {**build_root(tmp_path / "root"), "site_checks_dir": "/etc/aiplatform/preflight.d"}
    first = run_module({**params, "site_checks_content": site}, tmp_path)
    assert first["changed"] is True
    by_id = {r["id"]: r for r in first["results"]}
    assert by_id["site.rack"]["message"] == "rack ok"
    folder = tmp_path / "root/etc/aiplatform/preflight.d"
    assert (folder / "lib/notes.txt").read_text() == "not a check\n"
    assert oct((folder / "rack.py").stat().st_mode & 0o777) == "0o644"
    assert run_module({**params, "site_checks_content": site}, tmp_path)["changed"] is False


def test_site_checks_outside_their_folder_are_refused(tmp_path):
    params = {**build_root(tmp_path / "root"), "site_checks_dir": "/etc/aiplatform/preflight.d"}
    result = run_module({**params, "site_checks_content": {"../escape.py": "CHECKS = []\n"}}, tmp_path)
    assert result["failed"] is True
    assert "must be a path inside the folder" in result["msg"]
    assert not (tmp_path / "root/etc/aiplatform/escape.py").exists()
