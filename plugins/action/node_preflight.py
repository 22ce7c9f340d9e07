# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Action plugin of aiplatform.cluster.node_preflight: one round trip per host for the whole preflight.

On the controller, in the worker that runs the task: reads the site checks to send (site_checks_src), runs
the module once on the host (which keeps the admission mark, the site checks and the textfile itself),
writes the host's report as <report_dir>/<host>.json, sorts the host into <prefix>_passed / <prefix>_failed
as group_by does, and fails the host when an unignored check failed (fail_on_failure). Nothing else touches
the host; the play's summary files are written once per play by the role (roles/node_preflight).
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_host_files import put_file
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_report import host_report, report_json

MODULE = "aiplatform.cluster.node_preflight"
# Options this plugin handles itself; the module gets the rest (and fail_on_failure false: the verdict is here).
CONTROLLER_OPTIONS = ("report_dir", "site_checks_src", "verdict_group_prefix", "fail_on_failure")
# What the registered result keeps of the module's answer besides the report.
PASSED_ON = ("changed", "admitted", "warnings", "deprecations")


def read_site_checks(source):
    """Every regular file under the controller folder ``source``, relative path -> text."""
    if not os.path.isdir(source):
        raise AnsibleActionFail(f"site_checks_src: {source} is not a folder on the controller")
    files = {}
    for folder, dirs, names in os.walk(source):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(folder, name)
            if not os.path.isfile(path):
                continue
            try:
                with open(path, encoding="utf-8") as handle:
                    files[os.path.relpath(path, source)] = handle.read()
            except (OSError, UnicodeDecodeError) as exc:
                raise AnsibleActionFail(f"site_checks_src: cannot read {path}: {exc}") from exc
    return files


def write_report(report_dir, report):
    """<report_dir>/<host>.json on the controller (the folder created when missing); its path. The file is
    this run's output, rewritten every run: never a change."""
    os.makedirs(report_dir, mode=0o755, exist_ok=True)
    path = os.path.join(report_dir, f"{report['host']}.json")
    put_file(path, report_json(report))
    return path


def verdict(report, report_file, fail_on_failure, group_prefix):
    """The task's result for a host that returned results: the report, the group to join, the failure."""
    result = dict(report)
    ok = bool(report["summary"].get("ok"))
    if report_file:
        result["report_file"] = report_file
    if group_prefix:
        result["add_group"] = f"{group_prefix}_{'passed' if ok else 'failed'}"
        result["parent_groups"] = ["all"]
    if fail_on_failure and not ok:
        where = f" (see {report_file}; the ignore option turns named failures into warnings)" if report_file else ""
        result["failed"] = True
        result["msg"] = f"preflight failed on {report['host']}: {', '.join(report['summary']['failed'])}{where}"
    return result


class ActionModule(ActionBase):
    """Run node_preflight and keep its report on the controller, in the same task."""

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        options = {name: args.pop(name, None) for name in CONTROLLER_OPTIONS}
        try:
            fail_on_failure = True if options["fail_on_failure"] is None else boolean(options["fail_on_failure"])
            if options["site_checks_src"]:
                args["site_checks_content"] = read_site_checks(options["site_checks_src"])
            answer = self._execute_module(
                module_name=MODULE, module_args={**args, "fail_on_failure": False}, task_vars=task_vars
            )
        except TypeError as exc:
            result.update(failed=True, msg=f"fail_on_failure: {exc}")
            return result
        except AnsibleActionFail as exc:
            result.update(exc.result)
            return result
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        if answer.get("failed") or "summary" not in answer:
            result.update(answer)
            return result
        host = (task_vars or {}).get("inventory_hostname") or self._task.delegate_to
        report = host_report(host, answer)
        report_file = None
        if options["report_dir"]:
            try:
                report_file = write_report(options["report_dir"], report)
            except OSError as exc:
                result.update(failed=True, msg=f"report_dir: cannot write the report of {host}: {exc}", **report)
                return result
        result.update({key: answer[key] for key in PASSED_ON if key in answer})
        # Ansible sets `changed` when a result adds the host to a group (as group_by's does): the host's own
        # change stays here, for the task's changed_when.
        result["host_changed"] = bool(answer.get("changed"))
        result.update(verdict(report, report_file, fail_on_failure, options["verdict_group_prefix"]))
        return result
