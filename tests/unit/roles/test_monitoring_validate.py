"""The monitoring role refuses bad input before any host changes, naming the variable.

Runs the role (entry point main) with ansible-playbook against a local host: each bad setting must
fail the play in its first task, before facts, packages or files; the good defaults must pass the
same check (entry point validate, so that nothing is installed on the controller).
"""

from __future__ import annotations

import sys

import pytest
from local_playbook import run_local_playbook

PLAYBOOK = """
- hosts: monitoring
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: aiplatform.cluster.monitoring
        tasks_from: "{{ entry_point }}"
    - ansible.builtin.debug:
        msg: VALIDATION PASSED
"""
INVENTORY = {
    "all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
        "children": {"monitoring": {"hosts": {"mon1": {"monitoring_address": "127.0.0.1"}}}},
    }
}
BAD_INPUT = {
    "a part the topology contract does not know": (
        {"monitoring_jobs": [{"name": "node", "part": "storage", "port": 9100}]},
        "monitoring_jobs[0] (node).part: is not one of all, etcd, control_plane, nodes, gpu, monitoring "
        "(got 'storage')",
    ),
    "scrape interval above evaluation interval": (
        {"monitoring_scrape_interval": "1m", "monitoring_evaluation_interval": "30s"},
        "monitoring_scrape_interval: is above monitoring_evaluation_interval 30s",
    ),
    "unknown receiver type": (
        {"monitoring_alertmanager_receivers": [{"name": "oncall", "type": "fax", "url": "http://x"}]},
        # A choice: the argument spec's, never repeated in the problems filter.
        "value of type must be one of: webhook, slack, pagerduty, email, got: fax "
        "found in monitoring_alertmanager_receivers",
    ),
    "duplicate job name": (
        {
            "monitoring_jobs": [
                {"name": "node", "part": "all", "port": 9100},
                {"name": "node", "part": "gpu", "port": 9400},
            ]
        },
        "monitoring_jobs: repeats the job name (got 'node')",
    ),
    "invalid relabel regex": (
        {
            "monitoring_jobs": [
                {
                    "name": "node",
                    "part": "all",
                    "port": 9100,
                    "metric_relabel_configs": [{"regex": "(?!go_).*", "action": "drop"}],
                }
            ]
        },
        "monitoring_jobs[0] (node).metric_relabel_configs[0].regex: uses a construct RE2 does not support",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_is_refused_in_the_first_task(tmp_path, case):
    variables, message = BAD_INPUT[case]
    result = run_local_playbook(tmp_path, PLAYBOOK, INVENTORY, {"entry_point": "main", **variables})
    output = " ".join(result.stdout.split())
    assert result.returncode == 2, output[-2000:]
    assert message in output
    for later in ("Gather the network facts", "Install the monitoring packages", "VALIDATION PASSED"):
        assert later not in output


def test_the_defaults_pass(tmp_path):
    result = run_local_playbook(tmp_path, PLAYBOOK, INVENTORY, {"entry_point": "validate"})
    assert result.returncode == 0, result.stdout[-2000:]
    assert "VALIDATION PASSED" in result.stdout
