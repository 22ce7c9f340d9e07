"""The preflight as CI runs it: ansible-runner's Python API runs playbooks/preflight.yml and the
per-host results are read from its events. Two local-connection hosts point the checks at fixture
roots (a healthy GPU worker and one with the lab's five faults): no lab, no containers; everything
lives in a temporary folder that is removed afterwards."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import ansible_runner
from conftest import MAKEFILE_ENV, REPO
from preflight_fixture_root import BROKEN_FAILURES, build_root, local_host_vars

TASK = "Run the preflight checks"


def inventory(workdir):
    hosts = {}
    for name, broken in (("healthy", False), ("broken", True)):
        params = build_root(workdir / "roots" / name, broken=broken, hostname=name)
        hosts[name] = local_host_vars(params) | {"node_preflight_report_dir": str(workdir / "reports")}
    # In the contract's node group (playbooks/preflight.yml runs on the topology's parts).
    return {"all": {"children": {"kube_node": {"hosts": hosts}}}}


def test_preflight_through_ansible_runner_events(monkeypatch):
    # ansible-runner starts ansible-playbook from PATH: the one next to this Python.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    with tempfile.TemporaryDirectory(prefix="preflight-runner-") as scratch:
        workdir = Path(scratch)
        (workdir / "runner").mkdir()
        result = ansible_runner.run(
            private_data_dir=str(workdir / "runner"),
            playbook=str(REPO / "playbooks" / "preflight.yml"),
            inventory=inventory(workdir),
            envvars={**MAKEFILE_ENV, "ANSIBLE_NOCOLOR": "1"},
            quiet=True,
        )
        results = {}
        for event in result.events:
            data = event.get("event_data", {})
            if event["event"] in ("runner_on_ok", "runner_on_failed") and data.get("task") == TASK:
                results[data["host"]] = data["res"]
        # The playbook fails (rc 2) because the broken host fails; the healthy one passes.
        assert result.status == "failed", result.stdout.read()[-3000:]
        assert result.rc == 2
        assert set(results) == {"healthy", "broken"}
        assert results["healthy"]["summary"]["ok"] is True
        assert results["broken"]["summary"]["failed"] == BROKEN_FAILURES
        assert result.stats["failures"] == {"broken": 1}
        written = json.loads((workdir / "reports" / "broken.json").read_text())
        assert written["summary"]["failed"] == BROKEN_FAILURES
        assert (workdir / "reports" / "junit.xml").read_text().count("<failure ") == len(BROKEN_FAILURES)
    assert not workdir.exists()
