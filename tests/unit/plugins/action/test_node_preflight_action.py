"""The node_preflight action plugin's controller side: the host's report file, the verdict (group, failure
message), the site checks read from the controller; the module call replaced by a recorded answer."""

import json
from unittest import mock

from ansible.playbook.task import Task

from ansible_collections.aiplatform.cluster.plugins.action.node_preflight import (
    ActionModule,
    read_site_checks,
    verdict,
    write_report,
)

RESULT_PASS = {
    "id": "net.ip_forward",
    "category": "kubeadm",
    "severity": "fail",
    "status": "pass",
    "ignored": False,
    "observed": "1",
    "expected": "1",
    "message": "net.ipv4.ip_forward is 1",
    "duration_ms": 0.05,
}
RESULT_FAIL = {**RESULT_PASS, "id": "time.sync", "category": "time", "status": "fail", "message": "chronyd down"}


def summary(results):
    failed = [r["id"] for r in results if r["status"] == "fail"]
    return {
        "pass": len(results) - len(failed),
        "warn": 0,
        "fail": len(failed),
        "skip": 0,
        "total": len(results),
        "failed": failed,
        "warned": [],
        "ignored": [],
        "ok": not failed,
    }


def answer(results):
    """What the module returns (the keys it always returns)."""
    return {
        "changed": False,
        "results": results,
        "summary": summary(results),
        "profiles": ["nodes"],
        "elapsed_s": 0.25,
        "admitted": False,
    }


# The file as Ansible's to_nice_json wrote it before (sorted keys, indent 4), written out literally.
N1_JSON = """{
    "elapsed_s": 0.25,
    "host": "n1",
    "profiles": [
        "nodes"
    ],
    "results": [
        {
            "category": "kubeadm",
            "duration_ms": 0.05,
            "expected": "1",
            "id": "net.ip_forward",
            "ignored": false,
            "message": "net.ipv4.ip_forward is 1",
            "observed": "1",
            "severity": "fail",
            "status": "pass"
        }
    ],
    "summary": {
        "fail": 0,
        "failed": [],
        "ignored": [],
        "ok": true,
        "pass": 1,
        "skip": 0,
        "total": 1,
        "warn": 0,
        "warned": []
    }
}
"""


def action(args, module_answer):
    task = Task()
    task.args = args
    connection = mock.MagicMock()
    connection._shell.tmpdir = None
    plugin = ActionModule(task, connection, mock.MagicMock(check_mode=False), None, None, None)
    plugin._execute_module = mock.MagicMock(return_value=module_answer)
    return plugin


def test_write_report_as_to_nice_json_in_a_new_folder(tmp_path):
    report = {
        "host": "n1",
        "profiles": ["nodes"],
        "summary": summary([RESULT_PASS]),
        "results": [RESULT_PASS],
        "elapsed_s": 0.25,
    }
    path = write_report(str(tmp_path / "reports" / "preflight"), report)
    assert path == str(tmp_path / "reports" / "preflight" / "n1.json")
    assert (tmp_path / "reports" / "preflight" / "n1.json").read_text() == N1_JSON


def test_verdict_of_a_passing_host():
    report = {"host": "n1", "summary": summary([RESULT_PASS])}
    result = verdict(report, "/r/n1.json", True, "node_preflight")
    assert result["add_group"] == "node_preflight_passed"
    assert result["parent_groups"] == ["all"]
    assert result["report_file"] == "/r/n1.json"
    assert "failed" not in result


def test_verdict_of_a_failing_host_names_it_and_its_file():
    report = {"host": "n2", "summary": summary([RESULT_PASS, RESULT_FAIL])}
    result = verdict(report, "/r/n2.json", True, "node_preflight")
    assert result["failed"] is True
    assert result["msg"] == (
        "preflight failed on n2: time.sync (see /r/n2.json; the ignore option turns named failures into warnings)"
    )
    assert result["add_group"] == "node_preflight_failed"
    kept = verdict(report, None, False, None)
    assert "failed" not in kept and "add_group" not in kept and "report_file" not in kept


def test_run_writes_the_report_and_registers_it(tmp_path):
    plugin = action(
        {
            "profiles": ["nodes"],
            "report_dir": str(tmp_path),
            "verdict_group_prefix": "node_preflight",
            "fail_on_failure": "true",
        },
        answer([RESULT_PASS]),
    )
    result = plugin.run(task_vars={"inventory_hostname": "n1"})
    assert (tmp_path / "n1.json").read_text() == N1_JSON
    assert result["host"] == "n1"
    assert result["summary"]["ok"] is True
    assert result["add_group"] == "node_preflight_passed"
    assert result["changed"] is False
    assert result["host_changed"] is False
    # The module never fails the host itself: the verdict is the plugin's, after the report is written.
    sent = plugin._execute_module.call_args.kwargs["module_args"]
    assert sent == {"profiles": ["nodes"], "fail_on_failure": False}


def test_run_fails_a_failing_host_after_writing_its_report(tmp_path):
    plugin = action({"report_dir": str(tmp_path), "fail_on_failure": True}, answer([RESULT_PASS, RESULT_FAIL]))
    result = plugin.run(task_vars={"inventory_hostname": "n2"})
    assert result["failed"] is True
    assert result["msg"].startswith("preflight failed on n2: time.sync (see ")
    written = json.loads((tmp_path / "n2.json").read_text())
    assert written["summary"]["failed"] == ["time.sync"]


def test_run_passes_a_module_error_through_without_a_report(tmp_path):
    plugin = action({"report_dir": str(tmp_path)}, {"failed": True, "msg": "profiles: gpu_worker not among ..."})
    result = plugin.run(task_vars={"inventory_hostname": "n3"})
    assert result["failed"] is True
    assert result["msg"] == "profiles: gpu_worker not among ..."
    assert not (tmp_path / "n3.json").exists()


def test_run_refuses_a_fail_on_failure_that_is_no_boolean(tmp_path):
    plugin = action({"fail_on_failure": "perhaps"}, answer([RESULT_PASS]))
    result = plugin.run(task_vars={"inventory_hostname": "n1"})
    assert result["failed"] is True
    assert result["msg"].startswith("fail_on_failure: ")
    plugin._execute_module.assert_not_called()


def test_site_checks_are_read_from_the_controller_folder(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "rack.py").write_text("CHECKS = []\n")
    (tmp_path / "lib" / "notes.txt").write_text("notes\n")
    assert read_site_checks(str(tmp_path)) == {"lib/notes.txt": "notes\n", "rack.py": "CHECKS = []\n"}
    plugin = action({"site_checks_src": str(tmp_path), "site_checks_dir": "/etc/x"}, answer([RESULT_PASS]))
    plugin.run(task_vars={"inventory_hostname": "n1"})
    sent = plugin._execute_module.call_args.kwargs["module_args"]
    assert sent["site_checks_content"] == {"lib/notes.txt": "notes\n", "rack.py": "CHECKS = []\n"}
    assert "site_checks_src" not in sent


def test_a_missing_site_checks_folder_fails_naming_the_option(tmp_path):
    plugin = action({"site_checks_src": str(tmp_path / "nowhere")}, answer([RESULT_PASS]))
    result = plugin.run(task_vars={"inventory_hostname": "n1"})
    assert result["failed"] is True
    assert result["msg"] == f"site_checks_src: {tmp_path / 'nowhere'} is not a folder on the controller"
