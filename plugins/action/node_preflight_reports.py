# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Action plugin of aiplatform.cluster.node_preflight_reports: the play's report files, written once in the
controller process (no module call, no copy per file): summary.json, summary.md, junit.xml and the JSON of
each host that returned no results. The per-host JSON of the others was written by the node_preflight action."""

from __future__ import annotations

import json
import os

from ansible.plugins.action import ActionBase

from ansible_collections.aiplatform.cluster.plugins.filter.preflight_report import (
    preflight_collect,
    preflight_junit,
    preflight_summary,
    preflight_table,
)
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_host_files import put_file
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_report import REPORT_KEYS, report_json


def play_files(reports, table):
    """File name -> text of the play's reports; ``table`` is preflight_table's (for summary.md)."""
    files = {
        "junit.xml": preflight_junit(reports) + "\n",
        "summary.json": json.dumps(preflight_summary(reports), indent=4, sort_keys=True, separators=(",", ": ")) + "\n",
        "summary.md": "# Node preflight\n\n" + "\n".join(table) + "\n",
    }
    for report in reports:
        if report.get("error"):
            files[f"{report['host']}.json"] = report_json(report)
    return files


def write_files(report_dir, files):
    os.makedirs(report_dir, mode=0o755, exist_ok=True)
    written = []
    for name in sorted(files):
        path = os.path.join(report_dir, name)
        put_file(path, files[name])
        written.append(path)
    return written


class ActionModule(ActionBase):
    """Collect the hosts' reports and write the play's files."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("hosts", "report_var", "report_dir"))
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = self._task.args
        hosts = args.get("hosts")
        if not isinstance(hosts, list):
            return {**result, "failed": True, "msg": "hosts: a list of the play's host names is required"}
        hostvars = (task_vars or {}).get("hostvars", {})
        collected = preflight_collect(hosts, hostvars, args.get("report_var") or "node_preflight_report")
        # Only the report's own keys: a registered result also carries the task's (changed, add_group...).
        reports = [r if r.get("error") else {k: r[k] for k in REPORT_KEYS if k in r} for r in collected]
        table = preflight_table(reports)
        files = play_files(reports, table)
        written = []
        if args.get("report_dir"):
            try:
                written = write_files(args["report_dir"], files)
            except OSError as exc:
                return {**result, "failed": True, "msg": f"report_dir: cannot write the reports: {exc}"}
        summary = json.loads(files["summary.json"])
        return {
            **result,
            "changed": False,
            "reports": reports,
            "summary": summary,
            "table": table,
            "files": written,
        }
