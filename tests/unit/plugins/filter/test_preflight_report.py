"""Unit tests for the preflight report filters (table and JUnit XML)."""

from xml.etree import ElementTree

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.cluster.plugins.filter.preflight_report import (
    FilterModule,
    preflight_collect,
    preflight_junit,
    preflight_summary,
    preflight_table,
    preflight_textfile,
)


def result(check_id, status, ignored=False):
    return {
        "id": check_id,
        "category": check_id.split(".")[0],
        "status": status,
        "ignored": ignored,
        "observed": 0,
        "expected": 1,
        "message": f"{check_id} says {status}",
        "duration_ms": 1.5,
    }


REPORTS = [
    {
        "host": "gpu2",
        "elapsed_s": 0.02,
        "summary": {"ok": False, "fail": 2, "warn": 1, "skip": 1, "pass": 1, "failed": ["gpu.xid", "time.sync"]},
        "results": [
            result("gpu.xid", "fail"),
            result("time.sync", "fail"),
            result("swap.off", "warn", ignored=True),
            result("disk.ssd", "skip"),
            result("net.ip_forward", "pass"),
        ],
    },
    {
        "host": "gpu1",
        "elapsed_s": 0.01,
        "summary": {"ok": True, "fail": 0, "warn": 0, "skip": 0, "pass": 1, "failed": []},
        "results": [result("net.ip_forward", "pass")],
    },
    {"host": "gpu3", "error": "unreachable: ssh timed out"},
]


def test_table_rows_and_details():
    lines = preflight_table(REPORTS)
    assert lines[0].startswith("| host ")
    assert lines[2].startswith("| gpu1 | PASS ")
    assert lines[3].startswith("| gpu2 | FAIL   | 2 ")
    assert lines[3].rstrip(" |").endswith("gpu.xid, time.sync")
    assert lines[4].startswith("| gpu3 | ERROR ")
    assert len({len(line) for line in lines[:5]}) == 1
    assert "  gpu2: FAIL gpu.xid: gpu.xid says fail" in lines
    assert "  gpu2: WARN swap.off (ignored): swap.off says warn" in lines


def test_junit_document():
    document = preflight_junit(REPORTS)
    assert document.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ElementTree.fromstring(document.split("\n", 1)[1])
    assert root.attrib == {"name": "node-preflight", "tests": "7", "failures": "2", "errors": "1", "skipped": "1"}
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["gpu1", "gpu2", "gpu3"]
    cases = {c.get("name"): c for c in suites["gpu2"].findall("testcase")}
    assert cases["gpu.xid"].find("failure").get("message") == "gpu.xid says fail"
    assert cases["gpu.xid"].get("classname") == "gpu2.gpu"
    assert cases["disk.ssd"].find("skipped") is not None
    assert "ignored failure" in cases["swap.off"].find("system-out").text
    assert suites["gpu3"].find("testcase/error").get("message") == "unreachable: ssh timed out"
    assert preflight_junit([], "ci").startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="ci"')


@pytest.mark.parametrize("bad", [{"host": "x"}, [{"no_host": 1}], "text"])
def test_bad_input(bad):
    with pytest.raises(AnsibleFilterError):
        preflight_table(bad)
    with pytest.raises(AnsibleFilterError):
        preflight_junit(bad)


def test_filters_are_registered():
    expected = {"preflight_table", "preflight_junit", "preflight_collect", "preflight_textfile", "preflight_summary"}
    assert set(FilterModule().filters()) == expected


def test_collect_marks_hosts_without_results():
    hostvars = {"gpu1": {"node_preflight_report": REPORTS[1]}, "gpu2": {}}
    collected = preflight_collect(["gpu1", "gpu2", "gpu9"], hostvars)
    assert collected[0] is REPORTS[1]
    assert [r.get("error", "")[:13] for r in collected] == ["", "no preflight ", "no preflight "]
    with pytest.raises(AnsibleFilterError):
        preflight_collect("gpu1", hostvars)


def test_textfile_has_a_series_per_check_and_status_and_the_failed_count():
    results = [result("time.sync", "pass"), result("disk.ssd", "fail"), result('x."q', "warn")]
    report = {"host": "n1", "results": results}
    text = preflight_textfile(report)
    assert text.endswith("\n")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert len(lines) == 3 * 4 + 1
    assert 'aiplatform_preflight_check_status{check="disk.ssd",category="disk",status="fail"} 1' in lines
    assert 'aiplatform_preflight_check_status{check="disk.ssd",category="disk",status="pass"} 0' in lines
    assert 'aiplatform_preflight_check_status{check="time.sync",category="time",status="pass"} 1' in lines
    assert 'aiplatform_preflight_check_status{check="x.\\"q",category="x",status="warn"} 1' in lines
    assert lines[-1] == "aiplatform_preflight_failed_checks 1"


def test_textfile_counts_no_failures_for_warnings_only():
    text = preflight_textfile({"results": [result("a.b", "warn", ignored=True)]})
    assert text.splitlines()[-1] == "aiplatform_preflight_failed_checks 0"


def test_textfile_refuses_a_report_without_results():
    with pytest.raises(AnsibleFilterError, match="preflight_textfile"):
        preflight_textfile({"host": "n1", "error": "unreachable"})


def test_summary_sorts_hosts_by_verdict():
    assert preflight_summary(REPORTS) == {
        "hosts": 3,
        "passed": ["gpu1"],
        "failed": {"gpu2": ["gpu.xid", "time.sync"]},
        "errors": {"gpu3": "unreachable: ssh timed out"},
        "ok": False,
    }
    assert preflight_summary(REPORTS[1:2])["ok"] is True
