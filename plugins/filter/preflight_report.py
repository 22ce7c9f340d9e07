# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Filters that turn node_preflight results into reports: a readable table and JUnit XML (pure functions)."""

from __future__ import annotations

from xml.etree import ElementTree

from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_report import STATUS_ORDER, textfile_metrics


def _reports(value, name):
    if not isinstance(value, (list, tuple)) or not all(isinstance(r, dict) and "host" in r for r in value):
        raise AnsibleFilterError(f"{name}: expects a list of host reports (dicts with host, summary, results)")
    return sorted(value, key=lambda r: str(r["host"]))


def preflight_table(reports):
    """One line per host (verdict, counts, failed checks), then one line per failed or warned check."""
    rows = []
    details = []
    for report in _reports(reports, "preflight_table"):
        summary = report.get("summary") or {}
        if report.get("error"):
            verdict, failed = "ERROR", report["error"]
        else:
            verdict = "PASS" if summary.get("ok") else "FAIL"
            failed = ", ".join(summary.get("failed", [])) or "-"
        rows.append([str(report["host"]), verdict, *(str(summary.get(s, 0)) for s in STATUS_ORDER), failed])
        for result in report.get("results", []):
            if result.get("status") in ("fail", "warn"):
                note = " (ignored)" if result.get("ignored") else ""
                details.append(
                    f"  {report['host']}: {result['status'].upper()} {result['id']}{note}: {result.get('message', '')}"
                )
    header = ["host", "result", "fail", "warn", "skip", "pass", "failed checks"]
    widths = [max(len(cells[i]) for cells in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

    table = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *(line(r) for r in rows)]
    return table + (["", *details] if details else [])


def preflight_junit(reports, suite_name="node-preflight"):
    """JUnit XML: one testsuite per host, one testcase per check; fail is a failure, skip is skipped,
    warn passes with its message in system-out; a host without results is one errored testcase."""
    root = ElementTree.Element("testsuites", name=suite_name)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for report in _reports(reports, "preflight_junit"):
        results = report.get("results", [])
        suite = ElementTree.SubElement(
            root, "testsuite", name=str(report["host"]), time=f"{float(report.get('elapsed_s') or 0):.3f}"
        )
        counts = {"tests": len(results), "failures": 0, "errors": 0, "skipped": 0}
        if report.get("error"):
            counts["tests"] += 1
            counts["errors"] += 1
            case = ElementTree.SubElement(suite, "testcase", classname=f"{report['host']}.preflight", name="run")
            ElementTree.SubElement(case, "error", message=str(report["error"]))
        for result in results:
            case = ElementTree.SubElement(
                suite,
                "testcase",
                classname=f"{report['host']}.{result.get('category', 'check')}",
                name=str(result["id"]),
                time=f"{float(result.get('duration_ms') or 0) / 1000:.4f}",
            )
            detail = f"observed: {result.get('observed')!r}; expected: {result.get('expected')!r}"
            if result["status"] == "fail":
                counts["failures"] += 1
                failure = ElementTree.SubElement(case, "failure", message=str(result.get("message", "")), type="fail")
                failure.text = detail
            elif result["status"] == "skip":
                counts["skipped"] += 1
                ElementTree.SubElement(case, "skipped", message=str(result.get("message", "")))
            elif result["status"] == "warn":
                out = ElementTree.SubElement(case, "system-out")
                out.text = f"WARNING{' (ignored failure)' if result.get('ignored') else ''}: {result.get('message')}"
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode")


def preflight_collect(hosts, hostvars, fact="node_preflight_report"):
    """Each host's report fact, in host order; a host without one (unreachable, failed before the checks)
    gets ``{host, error}`` so that the reports still show it."""
    if not isinstance(hosts, (list, tuple)):
        raise AnsibleFilterError("preflight_collect: expects a list of host names")
    reports = []
    for host in hosts:
        report = hostvars[host].get(fact) if host in hostvars else None
        if isinstance(report, dict) and "summary" in report:
            reports.append(report)
        else:
            reports.append({"host": host, "error": "no preflight results: unreachable or failed before the checks ran"})
    return reports


def preflight_summary(reports):
    """The play's verdict as data (summary.json): hosts that passed, failed (with their failed check ids)
    and returned no results (with the reason), and the totals."""
    passed, failed, errors = [], {}, {}
    for report in _reports(reports, "preflight_summary"):
        host = str(report["host"])
        if report.get("error"):
            errors[host] = report["error"]
        elif (report.get("summary") or {}).get("ok"):
            passed.append(host)
        else:
            failed[host] = list(report["summary"].get("failed", []))
    return {
        "hosts": len(passed) + len(failed) + len(errors),
        "passed": passed,
        "failed": failed,
        "errors": errors,
        "ok": not failed and not errors,
    }


def preflight_textfile(report):
    """One host's report as node exporter textfile metrics (module_utils/preflight_report.py writes them on
    the host in the node_preflight module; this filter gives the same text on the controller)."""
    try:
        return textfile_metrics(report)
    except ValueError as exc:
        raise AnsibleFilterError(f"preflight_textfile: {exc}") from exc


class FilterModule:
    """Node preflight report filters."""

    def filters(self):
        return {
            "preflight_table": preflight_table,
            "preflight_junit": preflight_junit,
            "preflight_collect": preflight_collect,
            "preflight_textfile": preflight_textfile,
            "preflight_summary": preflight_summary,
        }
