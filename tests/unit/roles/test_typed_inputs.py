"""Values given with -e arrive as strings: node_os, node_exporter and monitoring take them typed.

Each role's validate entry point runs on a local host with every boolean, integer and list given as
`-e name=value` gives it (a string), then the typed internal values the tasks and templates use are
compared with what the strings mean, written literally here. A role that used a raw value would fail
the check ("Conditional result ... derived from value of type 'str'") or show the string.
"""

from __future__ import annotations

import json
import sys

import pytest
from local_playbook import run_local_playbook

PLAYBOOK = """
- hosts: all
  # node_exporter's argument spec reads the default address from the facts.
  gather_facts: true
  gather_subset: [min, network]
  tasks:
    - ansible.builtin.include_role:
        name: "aiplatform.cluster.{{ role }}"
        tasks_from: validate
        public: true
    - ansible.builtin.copy:
        content: "{{ shown | to_json }}"
        dest: "{{ typed_file }}"
        mode: "0644"
      vars:
        shown: "{{ dict(names | zip(names | map('extract', vars))) }}"
"""
INVENTORY = {
    "all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
        "children": {
            # An IPv6 address: the remote-write URL must bracket it.
            "monitoring": {"hosts": {"mon1": {"monitoring_address": "fd00::9"}}},
            "kube_control_plane": {"hosts": {"mon1": {}}},
        },
    }
}
# role: (the strings -e would give, the typed internal values they must become)
CASES = {
    "node_os": (
        {
            "node_os_env_swapoff": "false",
            "node_os_env_load_modules": "false",
            "node_os_env_adjust_clock": "no",
            "node_os_env_limits_ok": "true",
            "node_os_kernel_modules": "overlay,br_netfilter",
            "node_os_chrony_servers": "ntp1.example.net, 10.0.0.1",
            "node_os_chrony_allow": "10.0.0.0/8",
            "node_os_env_sysctl_writable": "net.*",
            "node_os_chrony_wait_s": "30",
            "node_os_chrony_makestep_limit": "-1",
            "node_os_chrony_makestep_threshold": "0.5",
            "node_os_chrony_local_stratum": "0",
            "node_os_pid_max": "4194304",
        },
        {
            "_node_os_env_swapoff": False,
            "_node_os_env_load_modules": False,
            "_node_os_env_adjust_clock": False,
            "_node_os_env_limits_ok": True,
            "_node_os_kernel_modules": ["overlay", "br_netfilter"],
            "_node_os_chrony_servers": ["ntp1.example.net", "10.0.0.1"],
            "_node_os_chrony_allow": ["10.0.0.0/8"],
            "_node_os_env_sysctl_writable": ["net.*"],
            "_node_os_chrony_wait_s": 30,
            "_node_os_chrony_makestep_limit": -1,
            "_node_os_chrony_makestep_threshold": 0.5,
            "_node_os_chrony_local_stratum": 0,
            # somaxconn from the host's part (control_plane), pid_max from its string.
            "_node_os_wanted": {"net.core.somaxconn": "32768", "kernel.pid_max": "4194304"},
        },
    ),
    "node_exporter": (
        {
            "node_exporter_tls": "false",
            "node_exporter_tls_client_auth": "False",
            "node_exporter_port": "9101",
            "node_exporter_pki_days": "30",
            "node_exporter_collectors": "cpu,meminfo",
            "node_exporter_packages": "prometheus-node-exporter",
        },
        {
            "_node_exporter_tls": False,
            "_node_exporter_tls_client_auth": False,
            "_node_exporter_port": 9101,
            "_node_exporter_pki_days": 30,
            "_node_exporter_collectors": ["cpu", "meminfo"],
            "_node_exporter_packages": ["prometheus-node-exporter"],
        },
    ),
    "monitoring": (
        {
            "monitoring_collector_shards": "3",
            "monitoring_collector_port": "9095",
            "monitoring_storage_port": "9090",
            "monitoring_alertmanager_port": "9093",
            "monitoring_pki_days": "90",
            "monitoring_neigh_gc_thresh3": "2048",
            "monitoring_packages": "prometheus,prometheus-alertmanager",
            "monitoring_alertmanager_group_by": "alertname,job",
        },
        {
            "_monitoring_collector_shards": 3,
            "_monitoring_collector_port": 9095,
            "_monitoring_storage_port": 9090,
            "_monitoring_alertmanager_port": 9093,
            "_monitoring_pki_days": 90,
            "_monitoring_neigh_gc_thresh3": 2048,
            "_monitoring_packages": ["prometheus", "prometheus-alertmanager"],
            "_monitoring_alertmanager_group_by": ["alertname", "job"],
            "_monitoring_shard_placement": {"mon1": [0, 1, 2]},
            "_monitoring_write_url": "http://[fd00::9]:9090/api/v1/write",
        },
    ),
}


@pytest.mark.parametrize("role", sorted(CASES))
def test_string_values_from_the_command_line_arrive_typed(tmp_path, role):
    strings, expected = CASES[role]
    names = sorted(expected)
    typed_file = tmp_path / "typed.json"
    extra = {"role": role, "names": names, "typed_file": str(typed_file), **strings}
    result = run_local_playbook(tmp_path, PLAYBOOK, INVENTORY, extra)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    got = json.loads(typed_file.read_text(encoding="utf-8"))
    for name, value in expected.items():
        if name == "_node_os_wanted":
            assert {key: got[name][key] for key in value} == value
        else:
            assert got[name] == value, name
            assert type(got[name]) is type(value), name
