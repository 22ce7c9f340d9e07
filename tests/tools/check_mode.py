"""Run a molecule scenario's converge playbook with --check and assert the changed counts the docs promise.

Called by molecule/resources/check_mode.yml (a side_effect step of every scenario's test_sequence, see
.config/molecule/config.yml), once before converge and once after the idempotence step:

- fresh hosts (molecule's state says the scenario has not converged): check mode runs without a failed
  or unreachable host and reports changes (what a real converge would do). Where the docs say check
  mode cannot run on fresh hosts, the scenario names the task it stops at in its provisioner env
  ``CHECK_MODE_FRESH_FAILS_AT`` (the etcd role, docs/etcd.md: the archive's download or copy from an
  archive, "Make the CA key" from the packages); then the check must fail there and only there;
- converged hosts: check mode runs without a failed or unreachable host and reports changed=0 on every host.

The counts are read from ansible's json callback (``stats``), never from the recap text. A summary
is written to build/check-mode/<scenario>-<phase>.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml


def phase(state_file: Path) -> str:
    """'converged' when molecule recorded a converge for the scenario's current instances, else 'fresh'."""
    state = yaml.safe_load(state_file.read_text(encoding="utf-8")) if state_file.exists() else {}
    return "converged" if (state or {}).get("converged") else "fresh"


def tasks_where(report: dict, key: str, *, with_msg: bool = False) -> dict[str, list[str]]:
    """host -> names of the tasks whose result has ``key`` true ("changed", "failed"), the message added
    in parentheses with ``with_msg`` (for the problem texts)."""
    found: dict[str, list[str]] = {}
    for play in report.get("plays", []):
        for task in play.get("tasks", []):
            for host, result in task.get("hosts", {}).items():
                if result.get(key):
                    name = task["task"]["name"]
                    if with_msg:
                        name += f" ({str(result.get('msg', ''))[:300]})"
                    found.setdefault(host, []).append(name)
    return found


def problems(report: dict, when: str, fails_at: str = "") -> list[str]:
    """What breaks the promise for ``when`` ('fresh' or 'converged'); an empty list when it holds.

    ``fails_at``: on fresh hosts, the task name (its end) where check mode is documented to stop;
    several are separated by ``|`` (one per play that can stop first).
    """
    stats = report.get("stats") or {}
    if not stats:
        return ["the check run reported no host at all"]
    failed = tasks_where(report, "failed", with_msg=True)
    if when == "fresh" and fails_at:
        names = sorted({name for names in tasks_where(report, "failed").values() for name in names})
        stops = tuple(fails_at.split("|"))
        if not names or any(not name.endswith(stops) for name in names):
            return [f"fresh hosts: check mode should stop at '{fails_at}' only (documented), failed tasks: {failed}"]
        return []
    found = []
    for host, counts in sorted(stats.items()):
        if counts.get("failures", 0):
            found.append(f"{host}: failures={counts['failures']} in check mode: {failed.get(host, [])}")
        if counts.get("unreachable", 0):
            found.append(f"{host}: unreachable={counts['unreachable']} in check mode")
    changes = tasks_where(report, "changed")
    if when == "converged":
        for host, counts in sorted(stats.items()):
            if counts.get("changed", 0):
                found.append(f"{host}: changed={counts['changed']} on converged hosts: {changes.get(host, [])}")
    elif sum(counts.get("changed", 0) for counts in stats.values()) == 0:
        found.append("fresh hosts: check mode reported no change at all (a converge has work to do)")
    return found


def main() -> int:
    ephemeral = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
    scenario_dir = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
    project = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
    when = phase(ephemeral / "state.yml")
    env = {
        **os.environ,
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
        "ANSIBLE_NOCOLOR": "1",
    }
    run = subprocess.run(
        ["ansible-playbook", "--check", "-i", str(ephemeral / "inventory"), str(scenario_dir / "converge.yml")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        print(f"check mode ({when}): no JSON report (rc {run.returncode})\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
        return 1
    fails_at = os.environ.get("CHECK_MODE_FRESH_FAILS_AT", "") if when == "fresh" else ""
    found = problems(report, when, fails_at)
    # A documented stop exits non-zero by definition; otherwise a non-zero exit is a problem of its own.
    if run.returncode != 0 and not found and not fails_at:
        found.append(f"ansible-playbook --check exited {run.returncode}: {run.stderr[-2000:]}")
    summary = {
        "scenario": scenario_dir.name,
        "phase": when,
        "stats": report["stats"],
        "failed_tasks": tasks_where(report, "failed", with_msg=True),
        "changed_tasks": tasks_where(report, "changed"),
        "problems": found,
    }
    out = project / "build" / "check-mode" / f"{scenario_dir.name}-{when}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=2))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
