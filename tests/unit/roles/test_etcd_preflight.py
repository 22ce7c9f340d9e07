"""The etcd role's preflight rejects bad input before any host changes, naming the variable.

Runs the role (entry point main) with ansible-playbook against three local hosts: each bad setting
must fail the play in the preflight's first task, with a message that names the variable. A good
setting must get past the preflight (the play then stops on purpose before installing anything).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from local_playbook import run_local_playbook

ROOT = Path(__file__).resolve().parents[3]
PLAYBOOK = """
- hosts: etcd_main
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: aiplatform.cluster.etcd
        tasks_from: preflight
      vars:
        etcd_cluster: main
    - ansible.builtin.debug:
        msg: "PREFLIGHT PASSED {{ _etcd_conf.quota_backend_bytes }}"
      run_once: true
"""
INVENTORY = {
    "all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
        "children": {
            "etcd_main": {"hosts": {f"cp{i}": {"etcd_address": f"10.0.0.{i}"} for i in (1, 2, 3)}},
            "etcd_events": {"hosts": {f"ev{i}": {"etcd_address": f"10.0.1.{i}"} for i in (1, 2, 3)}},
        },
    }
}
CLUSTERS = [
    {"name": "main", "group": "etcd_main", "client_port": 2379, "peer_port": 2380, "metrics_port": 2381},
    {"name": "events", "group": "etcd_events", "client_port": 2382, "peer_port": 2383, "metrics_port": 2384},
]


def run_preflight(tmp_path: Path, extra_vars: dict, inventory: dict | None = None) -> subprocess.CompletedProcess:
    defaults = {"etcd_archive_checksum": "sha256:" + "0" * 64, "etcd_pki_controller_dir": str(tmp_path)}
    return run_local_playbook(tmp_path, PLAYBOOK, inventory or INVENTORY, defaults | extra_vars)


def with_events(**changes):
    return [CLUSTERS[0], CLUSTERS[1] | changes]


BAD_INPUT = {
    "no members": (
        # The play runs on etcd_main, but cluster main is told to live in an empty group.
        {"etcd_clusters": [CLUSTERS[0] | {"group": "etcd_audit"}, CLUSTERS[1]]},
        "etcd_clusters[main].group: group 'etcd_audit' has no members",
    ),
    "election timeout under 5x heartbeat": (
        {"etcd_election_timeout": 400},
        "etcd_election_timeout (400 ms) must be at least 5 x heartbeat interval",
    ),
    "election timeout over 50000": (
        {"etcd_election_timeout": 60000},
        "etcd_election_timeout (60000 ms) must not exceed",
    ),
    "quota not a size": ({"etcd_quota_backend_bytes": "plenty"}, "etcd_quota_backend_bytes must be a size"),
    "port clash on co-located hosts": (
        {"etcd_clusters": with_events(group="etcd_main", peer_port=2380, metrics_port=2390, client_port=2391)},
        "etcd_clusters[events].peer_port clashes with etcd_clusters[main].peer_port (port 2380)",
    ),
    "data dir clash on co-located hosts": (
        {"etcd_clusters": with_events(group="etcd_main", data_dir="/var/lib/etcd/main")},
        "etcd_clusters[events].data_dir clashes with etcd_clusters[main].data_dir",
    ),
    "duplicate cluster names": (
        {"etcd_clusters": [CLUSTERS[0], CLUSTERS[1] | {"name": "main"}]},
        "etcd_clusters: duplicate cluster names ['main']",
    ),
    "archive without a checksum": (
        {"etcd_archive_checksum": ""},
        "install method archive needs etcd_archive_url and etcd_archive_checksum",
    ),
    "package method without packages": (
        {"etcd_install_method": "package", "etcd_packages": []},
        "install method package needs etcd_packages",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_is_rejected_naming_the_variable(tmp_path, case):
    extra_vars, message = BAD_INPUT[case]
    result = run_preflight(tmp_path, extra_vars)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Check the etcd settings of every cluster" in result.stdout
    assert message in result.stdout, result.stdout
    assert "PREFLIGHT PASSED" not in result.stdout


def test_good_input_passes_and_warnings_are_shown(tmp_path):
    result = run_preflight(tmp_path, {"etcd_quota_backend_bytes": "16GiB"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PREFLIGHT PASSED 17179869184" in result.stdout
    assert "(item=etcd_quota_backend_bytes is 17179869184 bytes, above the suggested maximum of 8 GiB" in result.stdout


def test_even_member_count_warns(tmp_path):
    inventory = json.loads(json.dumps(INVENTORY))
    del inventory["all"]["children"]["etcd_main"]["hosts"]["cp3"]
    result = run_preflight(tmp_path, {}, inventory)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "etcd_clusters[main].group: 2 members is an even number" in result.stdout
