"""The node roles take every boolean, integer and list as a string too (the form `-e name=value` gives).

Runs the roles with ansible-playbook on a local host whose inventory groups are renamed in the topology
contract: the preflight picks its profiles from the contract, runs on a fixture root (tests/tools/
preflight_fixture_root.py) and honours string forms of its inputs (node_preflight_fail_hosts=false used to
fail the play with "Conditional result (True) was derived from value of type 'str'").
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from local_playbook import run_local_playbook
from preflight_fixture_root import BROKEN_FAILURES, build_root

# The contract with renamed groups: nothing in the roles may name kube_node or gpu.
CONTRACT = {
    "topology_groups": {"control_plane": "masters", "nodes": "workers", "gpu": "accel", "monitoring": "observers"},
    "topology_etcd_clusters": [
        {"name": "main", "group": "store_a", "client_port": 2379, "peer_port": 2380, "metrics_port": 2381},
        {"name": "events", "group": "store_b", "client_port": 2382, "peer_port": 2383, "metrics_port": 2384},
    ],
}
INVENTORY = {
    "all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
        "children": {"workers": {"children": {"accel": {"hosts": {"n1": {}}}}}},
    }
}
PREFLIGHT_PLAY = """
- hosts: all
  gather_facts: false
  roles:
    - role: aiplatform.cluster.node_preflight
"""


def preflight_vars(root: Path, tmp_path: Path, **strings) -> dict:
    """Every input of node_preflight that is not a string, given as one."""
    return {
        **CONTRACT,
        "topology_report_dir": str(tmp_path / "reports"),
        "node_preflight_root": str(root),
        "node_preflight_search_path": str(root / "bin"),
        "node_preflight_exclude": "cri.socket",
        "node_preflight_include": "",
        "node_preflight_ignore": "gpu.persistence_mode,swap.off",
        "node_preflight_fresh_host_checks": "ports.free, kubelet.leftover_files",
        "node_preflight_command_timeout": "5",
        "node_preflight_write_reports": "true",
        "node_preflight_fail_hosts": "true",
        "node_preflight_require_ssd": "false",
        "node_preflight_admitted_marker": "",
        "node_preflight_textfile_dir": "",
        "node_preflight_settings": {
            "gpu_count": 8,
            "kernel_log_source": "file",
            "kernel_log_path": "/var/log/kern.log",
            "euid": 0,
        },
        **strings,
    }


def test_preflight_profiles_from_the_contract_and_string_inputs(tmp_path):
    root = tmp_path / "root"
    build_root(root)
    result = run_local_playbook(tmp_path, PREFLIGHT_PLAY, INVENTORY, preflight_vars(root, tmp_path))
    assert result.returncode == 0, result.stdout[-3000:]
    reports = tmp_path / "reports" / "preflight"
    report = json.loads((reports / "n1.json").read_text())
    assert report["profiles"] == ["gpu", "nodes"]
    assert report["summary"]["ok"] is True
    assert json.loads((reports / "summary.json").read_text())["passed"] == ["n1"]
    assert (reports / "junit.xml").is_file()
    assert (reports / "summary.md").read_text().startswith("# Node preflight")
    results = {r["id"]: r for r in report["results"]}
    assert results["gpu.count"]["observed"] == 8
    # The runtime's folder is the containerd role's, the kubelet's the kubelet role's (their defaults).
    assert sorted(results["resources.disk_space"]["observed"]) == ["/var/lib/containerd", "/var/lib/kubelet"]


@pytest.mark.parametrize(("fail_hosts", "returncode"), [("false", 0), ("true", 2)])
def test_preflight_fail_hosts_as_a_string(tmp_path, fail_hosts, returncode):
    root = tmp_path / "root"
    build_root(root, broken=True)
    extra = preflight_vars(root, tmp_path, node_preflight_fail_hosts=fail_hosts)
    result = run_local_playbook(tmp_path, PREFLIGHT_PLAY, INVENTORY, extra)
    assert result.returncode == returncode, result.stdout[-3000:]
    assert "Conditional result" not in result.stdout
    summary = json.loads((tmp_path / "reports" / "preflight" / "summary.json").read_text())
    assert summary["failed"] == {"n1": BROKEN_FAILURES}


def test_preflight_rejects_an_unknown_profile_naming_the_variable(tmp_path):
    root = tmp_path / "root"
    build_root(root)
    extra = preflight_vars(root, tmp_path, node_preflight_profiles="nodes,gpu_worker")
    result = run_local_playbook(tmp_path, PREFLIGHT_PLAY, INVENTORY, extra)
    assert result.returncode == 2
    assert "node_preflight_profiles: must be among control_plane, nodes, gpu, etcd, monitoring" in result.stdout


RUNTIME_PLAY = """
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: aiplatform.cluster.containerd
        tasks_from: preflight.yml
    - ansible.builtin.include_role:
        name: aiplatform.cluster.containerd
        tasks_from: paths.yml
        public: true
    - ansible.builtin.copy:
        content: "{{ _containerd_dfdaemon_config | to_json }}"
        dest: "{{ dfdaemon_out }}"
        mode: "0644"
    - ansible.builtin.include_role:
        name: aiplatform.cluster.kubelet
        tasks_from: preflight.yml
    - ansible.builtin.include_role:
        name: aiplatform.cluster.join_nodes
        tasks_from: validate.yml
    - ansible.builtin.copy:
        content: "{{ containerd_paths | to_json }}"
        dest: "{{ paths_out }}"
        mode: "0644"
"""


@pytest.mark.parametrize("stargz", ["false", "true"])
def test_runtime_roles_take_string_inputs(tmp_path, stargz):
    extra = {
        **CONTRACT,
        "topology_report_dir": str(tmp_path / "reports"),
        "containerd_stargz_enabled": stargz,
        "containerd_dragonfly_enabled": "false",
        "containerd_dragonfly_proxy_port": "65002",
        "containerd_dragonfly_disk_gc_threshold_percent": "70",
        "dfdaemon_out": str(tmp_path / "dfdaemon.json"),
        "containerd_stargz_prefetch": "true",
        "containerd_max_concurrent_downloads": "3",
        "containerd_dragonfly_schedulers": "",
        "containerd_packages": "containerd,runc",
        "kubelet_max_pods": "110",
        "kubelet_system_reserved_fraction": "0.3",
        "kubelet_image_gc_high_threshold_percent": "85",
        "kubelet_image_gc_low_threshold_percent": "75",
        "kubelet_max_parallel_image_pulls": "5",
        "kubelet_pod_pids_limit": "16384",
        "kubelet_cluster_dns": "10.96.0.10",
        "join_nodes_batch_size": "1",
        "join_nodes_pause_s": "0",
        "paths_out": str(tmp_path / "paths.json"),
    }
    result = run_local_playbook(tmp_path, RUNTIME_PLAY, INVENTORY, extra)
    assert result.returncode == 0, result.stdout[-3000:]
    paths = json.loads((tmp_path / "paths.json").read_text())
    expected = (
        ["/var/lib/containerd", "/var/lib/containerd-stargz-grpc"] if stargz == "true" else ["/var/lib/containerd"]
    )
    assert paths["data_dirs"] == expected
    dfdaemon = json.loads((tmp_path / "dfdaemon.json").read_text())
    assert dfdaemon["proxy"]["tcpListen"]["port"] == 65002
    assert dfdaemon["storage"]["diskGCThresholdPercent"] == 70


def test_runtime_problems_name_the_variable(tmp_path):
    extra = {**CONTRACT, "containerd_max_concurrent_downloads": "0", "join_nodes_batch_size": "0"}
    result = run_local_playbook(tmp_path, RUNTIME_PLAY, INVENTORY, extra)
    assert result.returncode == 2
    assert "containerd_max_concurrent_downloads: must be 1 or more" in result.stdout
