"""The kube_apiserver role rejects bad input before any host changes, naming the variable.

Runs the role's validate entry point (the first task of main) with ansible-playbook against local
hosts: each bad setting must fail the play in its first task with a message that names the variable.
Good settings get past it and show the etcd flags the role would render (from topology_etcd_clusters and
the members' etcd_address).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from local_playbook import run_local_playbook

ROOT = Path(__file__).resolve().parents[3]
PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: aiplatform.cluster.kube_apiserver
        tasks_from: validate
        public: true
    - ansible.builtin.debug:
        msg: >-
          PREFLIGHT PASSED {{ _kube_apiserver_flags['etcd-servers'] }} {{ _kube_apiserver_etcd.overrides }}
      when: inventory_hostname == (groups['kube_control_plane'] | default(['none']))[0]
"""


def inventory(control_planes=3, events=2):
    """cp hosts are main etcd members and replicas (the usual layout); ev hosts hold the events cluster."""
    cps = {f"cp{i}": {"etcd_address": f"10.0.0.{i}", "kube_apiserver_advertise_address": f"10.0.0.{i}"}
           for i in range(1, control_planes + 1)}  # fmt: skip
    main = cps or {"m1": {"etcd_address": "10.0.0.9"}}
    children = {"etcd_main": {"hosts": main}, "kube_control_plane": {"hosts": cps}}
    if events:
        children["etcd_events"] = {"hosts": {f"ev{i}": {"etcd_address": f"10.0.1.{i}"} for i in range(1, events + 1)}}
    return {
        "all": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
            "children": children,
        }
    }


def run_preflight(tmp_path: Path, extra_vars: dict, hosts: dict | None = None) -> subprocess.CompletedProcess:
    defaults = {"etcd_install_method": "package", "etcd_pki_controller_dir": str(tmp_path)}
    return run_local_playbook(tmp_path, PLAYBOOK, hosts or inventory(), defaults | extra_vars)


APF_SCHEMA = {
    "name": "ci",
    "priority_level": "ci-level",
    "precedence": 5000,
    "rules": [{"subjects": [{"kind": "Group", "group": {"name": "ci"}}]}],
}
BAD_INPUT = {
    "no control plane hosts": (
        {},
        inventory(control_planes=0),
        "topology_groups.control_plane: group 'kube_control_plane' has no",
    ),
    "events override without events members": (
        {"kube_apiserver_etcd_events_override": True},
        inventory(events=0),
        "kube_apiserver_etcd_events_override: true, but etcd cluster 'events' has no members",
    ),
    "inflight limit zero": (
        {"kube_apiserver_max_requests_inflight": 0},
        None,
        "kube_apiserver_max_requests_inflight must be a positive integer",
    ),
    "inflight limit not a number": (
        {"kube_apiserver_max_mutating_requests_inflight": "lots"},
        None,
        "argument 'kube_apiserver_max_mutating_requests_inflight' is of type str and we were unable to convert to int",
    ),
    "goaway chance above 0.02": (
        {"kube_apiserver_goaway_chance": 0.1},
        None,
        "kube_apiserver_goaway_chance must be a number from 0 to 0.02",
    ),
    "encryption provider not in the CIS list": (
        {"kube_apiserver_encryption_provider": "identity"},
        None,
        "kube_apiserver_encryption_provider must be one of: aescbc, secretbox, got: identity",
    ),
    "APF level used but not defined": (
        {"kube_apiserver_apf_flow_schemas": [APF_SCHEMA]},
        None,
        "kube_apiserver_apf_flow_schemas[ci].priority_level 'ci-level' is neither in",
    ),
    "production profile with two replicas": (
        {},
        inventory(control_planes=2),
        "at least 3 keep the API available through a failure (required by kube_apiserver_profile production)",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_is_rejected_naming_the_variable(tmp_path, case):
    extra_vars, hosts, message = BAD_INPUT[case]
    result = run_preflight(tmp_path, extra_vars, hosts)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Check the kube-apiserver settings" in result.stdout or "Validating arguments" in result.stdout
    assert message in " ".join(result.stdout.split()), result.stdout
    assert "PREFLIGHT PASSED" not in result.stdout


def test_good_input_passes_with_both_etcd_clusters_wired(tmp_path):
    result = run_preflight(tmp_path, {})
    assert result.returncode == 0, result.stdout + result.stderr
    main = ",".join(f"https://10.0.0.{i}:2379" for i in (1, 2, 3))
    events = ";".join(f"https://10.0.1.{i}:2382" for i in (1, 2))
    assert f"PREFLIGHT PASSED {main} /events#{events}" in " ".join(result.stdout.split())


def test_without_events_members_auto_leaves_the_override_out_and_development_warns(tmp_path):
    result = run_preflight(tmp_path, {"kube_apiserver_profile": "development"}, inventory(control_planes=1, events=0))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "msg: 'PREFLIGHT PASSED https://10.0.0.1:2379 '" in " ".join(result.stdout.split()), result.stdout
    assert "[WARNING] topology_groups.control_plane: 1 replica(s)" in result.stdout, result.stdout
