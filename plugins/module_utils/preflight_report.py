# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""One host's preflight report as the files it is written to: the JSON report (the controller's
<host>.json) and the node exporter's textfile metrics (the host's aiplatform_preflight.prom). Pure
functions, shared by the module (on the host), the action plugin and the report filters (on the controller)."""

from __future__ import annotations

import json

STATUS_ORDER = ("fail", "warn", "skip", "pass")
# The keys of a host's report, in <host>.json and in the role's fact node_preflight_report.
REPORT_KEYS = ("host", "profiles", "summary", "results", "elapsed_s")


def host_report(host, outcome):
    """The report of ``host`` from the module's outcome (its results, summary, profiles, elapsed_s)."""
    return {"host": host, **{key: outcome[key] for key in REPORT_KEYS if key != "host"}}


def report_json(report):
    """The text of <host>.json: as Ansible's to_nice_json writes it (sorted keys, indent 4), one final newline."""
    return json.dumps(report, indent=4, sort_keys=True, separators=(",", ": ")) + "\n"


def _label_value(value):
    """A Prometheus exposition-format label value: backslash, double quote and newline escaped."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def textfile_metrics(report):
    """One host's report as node exporter textfile metrics: a 0/1 series per check and status, and the
    count of failed checks (warned and ignored ones are not failures)."""
    if not isinstance(report, dict) or "results" not in report:
        raise ValueError("expects a host's report with results")
    lines = [
        "# HELP aiplatform_preflight_check_status Node preflight check result: 1 for the check's status.",
        "# TYPE aiplatform_preflight_check_status gauge",
    ]
    for item in sorted(report["results"], key=lambda r: r["id"]):
        for status in STATUS_ORDER:
            check, category = _label_value(item["id"]), _label_value(item.get("category", ""))
            labels = f'check="{check}",category="{category}",status="{status}"'
            lines.append(f"aiplatform_preflight_check_status{{{labels}}} {1 if item['status'] == status else 0}")
    failed = sum(1 for item in report["results"] if item["status"] == "fail")
    lines += [
        "# HELP aiplatform_preflight_failed_checks Node preflight checks that failed (not warned or ignored).",
        "# TYPE aiplatform_preflight_failed_checks gauge",
        f"aiplatform_preflight_failed_checks {failed}",
    ]
    return "\n".join(lines) + "\n"
