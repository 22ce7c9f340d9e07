"""The node_preflight_reports action plugin: the play's files written in the controller process from the
hosts' registered reports, a host without one as an error entry."""

import json
from unittest import mock
from xml.etree import ElementTree

from ansible.playbook.task import Task

from ansible_collections.aiplatform.cluster.plugins.action.node_preflight_reports import ActionModule

PASSED = {
    "id": "net.ip_forward",
    "category": "kubeadm",
    "severity": "fail",
    "status": "pass",
    "ignored": False,
    "observed": "1",
    "expected": "1",
    "message": "net.ipv4.ip_forward is 1",
    "duration_ms": 1.5,
}
FAILED = {**PASSED, "id": "time.sync", "category": "time", "status": "fail", "message": "chronyd down"}


def registered(host, results, ok):
    """A host's registered preflight result: the report plus the task's own keys."""
    failed = [r["id"] for r in results if r["status"] == "fail"]
    counts = {"pass": len(results) - len(failed), "warn": 0, "fail": len(failed), "skip": 0, "total": len(results)}
    return {
        "host": host,
        "profiles": ["nodes"],
        "summary": {**counts, "failed": failed, "warned": [], "ignored": [], "ok": ok},
        "results": results,
        "elapsed_s": 0.5,
        "changed": False,
        "add_group": "node_preflight_passed",
        "report_file": f"/r/{host}.json",
    }


HOSTVARS = {
    "good": {"node_preflight_report": registered("good", [PASSED], True)},
    "bad": {"node_preflight_report": registered("bad", [PASSED, FAILED], False)},
    "gone": {},
}


def run(args):
    task = Task()
    task.args = args
    plugin = ActionModule(task, mock.MagicMock(), mock.MagicMock(check_mode=False), None, None, None)
    return plugin.run(task_vars={"hostvars": HOSTVARS})


def test_the_play_files_on_the_controller(tmp_path):
    result = run({"hosts": ["good", "bad", "gone"], "report_dir": str(tmp_path / "preflight")})
    folder = tmp_path / "preflight"
    assert sorted(p.name for p in folder.iterdir()) == ["gone.json", "junit.xml", "summary.json", "summary.md"]
    assert json.loads((folder / "summary.json").read_text()) == {
        "hosts": 3,
        "passed": ["good"],
        "failed": {"bad": ["time.sync"]},
        "errors": {"gone": "no preflight results: unreachable or failed before the checks ran"},
        "ok": False,
    }
    assert json.loads((folder / "gone.json").read_text()) == {
        "host": "gone",
        "error": "no preflight results: unreachable or failed before the checks ran",
    }
    junit = ElementTree.fromstring((folder / "junit.xml").read_text().split("\n", 1)[1])
    assert (junit.get("tests"), junit.get("failures"), junit.get("errors")) == ("4", "1", "1")
    table = (folder / "summary.md").read_text().splitlines()
    assert table[0] == "# Node preflight"
    # The last column is as wide as the error message of "gone".
    assert [line.split("|")[1:7] for line in table[4:6]] == [
        [" bad  ", " FAIL   ", " 1    ", " 0    ", " 0    ", " 1    "],
        [" gone ", " ERROR  ", " 0    ", " 0    ", " 0    ", " 0    "],
    ]
    assert table[4].split("|")[7].strip() == "time.sync"
    assert result["table"] == table[2:]
    assert result["changed"] is False
    assert result["files"] == [str(folder / n) for n in ("gone.json", "junit.xml", "summary.json", "summary.md")]
    # Only the report's own keys travel on (not the task's: changed, add_group, report_file).
    assert sorted(result["reports"][0]) == ["elapsed_s", "host", "profiles", "results", "summary"]


def test_no_report_dir_writes_nothing_but_returns_the_verdict(tmp_path):
    result = run({"hosts": ["good"], "report_dir": ""})
    assert result["files"] == []
    assert result["summary"]["ok"] is True
    assert list(tmp_path.iterdir()) == []


def test_hosts_must_be_a_list():
    result = run({"hosts": "good"})
    assert result["failed"] is True
    assert result["msg"] == "hosts: a list of the play's host names is required"
