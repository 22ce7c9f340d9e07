"""The etcd role refuses bad input before any host changes, naming the variable, and types -e values.

Runs the role's validate entry point (the first task of every entry point) with ansible-playbook
against local hosts: each bad setting must fail the play in its first task with a message that names
the variable. Good settings get past it and show the typed settings the role goes on with, also when
booleans and integers arrive as strings, as they do from `-e name=value`.
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
        tasks_from: validate
        public: true
      vars:
        etcd_cluster: main
    - ansible.builtin.debug:
        msg: >-
          PREFLIGHT PASSED {{ _etcd_conf.quota_backend_bytes }}
          backup_enabled={{ _etcd_conf.backup_enabled is boolean and not _etcd_conf.backup_enabled }}
          backup_keep={{ _etcd_conf.backup_keep is integer and _etcd_conf.backup_keep }}
          defrag_compact={{ _etcd_defrag_compact is boolean and _etcd_defrag_compact }}
          health_ratio={{ _etcd_health_max_quota_ratio is float and _etcd_health_max_quota_ratio }}
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


def run_preflight(tmp_path: Path, extra_vars: dict, inventory: dict | None = None) -> subprocess.CompletedProcess:
    defaults = {"etcd_archive_checksum": "sha256:" + "0" * 64, "etcd_pki_controller_dir": str(tmp_path)}
    return run_local_playbook(tmp_path, PLAYBOOK, inventory or INVENTORY, defaults | extra_vars)


BAD_INPUT = {
    "no members": (
        # The play runs on etcd_main, but cluster main is told to live in an empty group.
        {
            "topology_etcd_clusters": [
                {"name": "main", "group": "etcd_audit", "client_port": 2379, "peer_port": 2380, "metrics_port": 2381}
            ]
        },
        "topology_etcd_clusters[main].group: has no members",
    ),
    "election timeout under 5x heartbeat": (
        {"etcd_election_timeout": 400},
        "etcd_election_timeout: must be at least 5 x etcd_heartbeat_interval (100 ms)",
    ),
    "election timeout over 50000": (
        {"etcd_election_timeout": 60000},
        "etcd_election_timeout: must not exceed 50000 ms (got 60000)",
    ),
    "quota not a size": ({"etcd_quota_backend_bytes": "plenty"}, "etcd_quota_backend_bytes: must be a size"),
    "data dir clash on co-located hosts": (
        {
            "etcd_cluster_overrides": {"events": {"data_dir": "/var/lib/etcd/main"}},
            "topology_etcd_clusters": [
                {"name": "main", "group": "etcd_main", "client_port": 2379, "peer_port": 2380, "metrics_port": 2381},
                {
                    "name": "events",
                    "group": "etcd_main",
                    "client_port": 2382,
                    "peer_port": 2383,
                    "metrics_port": 2384,
                    "apiserver_resources": ["/events"],
                },
            ],
        },
        "etcd_cluster_overrides.events.data_dir: must differ from the data directory of cluster main",
    ),
    "override of an unknown cluster": (
        {"etcd_cluster_overrides": {"audit": {"quota_backend_bytes": "1GiB"}}},
        "etcd_cluster_overrides.audit: names no cluster of topology_etcd_clusters",
    ),
    "archive without a checksum": (
        {"etcd_archive_checksum": ""},
        "etcd_archive_checksum: is required (sha256:<64 hex digits> or sha512:<128 hex digits> or sha256:<URL of a "
        "checksum file>): the download of etcd_archive_url is verified against it",
    ),
    "package method without packages": (
        {"etcd_install_method": "package", "etcd_packages": []},
        "etcd_packages: install method package needs the distribution's packages",
    ),
    "backup keep zero": ({"etcd_backup_keep": "0"}, "etcd_backup_keep: must be a whole number of 1 or more (got 0)"),
    "defrag ratio above 1": (
        {"etcd_defrag_min_fragmentation": 1.5},
        "etcd_defrag_min_fragmentation: must be a number from 0 to 1 (got 1.5)",
    ),
    "relative PKI folder": (
        {"etcd_pki_controller_dir": "pki"},
        "etcd_pki_controller_dir: must be an absolute path on the controller (got 'pki')",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_is_rejected_naming_the_variable(tmp_path, case):
    extra_vars, message = BAD_INPUT[case]
    result = run_preflight(tmp_path, extra_vars)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Check the etcd inputs" in result.stdout
    assert message in " ".join(result.stdout.split()), result.stdout
    assert "PREFLIGHT PASSED" not in result.stdout


def test_a_choice_outside_the_argument_spec_is_refused(tmp_path):
    result = run_preflight(tmp_path, {"etcd_install_method": "docker"})
    assert result.returncode == 2, result.stdout + result.stderr
    assert "etcd_install_method" in result.stdout and "archive, package" in result.stdout, result.stdout
    assert "PREFLIGHT PASSED" not in result.stdout


def test_good_input_passes_and_warnings_are_shown(tmp_path):
    result = run_preflight(tmp_path, {"etcd_quota_backend_bytes": "16GiB"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PREFLIGHT PASSED 17179869184" in result.stdout
    assert "(item=etcd_quota_backend_bytes: 17179869184 bytes is above the suggested maximum of 8 GiB" in result.stdout


def test_extra_vars_as_strings_are_typed(tmp_path):
    # What `-e etcd_backup_enabled=false -e etcd_backup_keep=3 -e etcd_defrag_compact=true` hands over.
    strings = {
        "etcd_backup_enabled": "false",
        "etcd_backup_keep": "3",
        "etcd_defrag_compact": "true",
        "etcd_health_max_quota_ratio": "0.5",
        "etcd_heartbeat_interval": "100",
    }
    result = run_preflight(tmp_path, strings)
    assert result.returncode == 0, result.stdout + result.stderr
    line = " ".join(result.stdout.split())
    assert "backup_enabled=True backup_keep=3 defrag_compact=True health_ratio=0.5" in line, result.stdout


def test_even_member_count_warns(tmp_path):
    inventory = json.loads(json.dumps(INVENTORY))
    del inventory["all"]["children"]["etcd_main"]["hosts"]["cp3"]
    result = run_preflight(tmp_path, {}, inventory)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "topology_etcd_clusters[main].group: 2 members is an even number" in result.stdout
