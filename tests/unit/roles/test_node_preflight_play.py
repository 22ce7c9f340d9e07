"""The node_preflight role as a play runs it, one task per host: local hosts on fixture roots
(tests/tools/preflight_fixture_root.py).

- Each host's paths come from the roles that own them, for that host (containerd's stargz folder on the
  host that enables it, the etcd data folder on the etcd member), though those roles are included once.
- The admission mark: check mode on a fresh host reports the change and writes nothing on the host; the
  first run marks it (changed); the next run and check mode report nothing to change and leave out the
  fresh-host checks. The report files are written every time, check mode included.
- node_preflight_fail_hosts: the failing host fails, the reports still cover both hosts, and the hosts are
  sorted into node_preflight_passed / node_preflight_failed either way.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from local_playbook import run_local_playbook
from preflight_fixture_root import BROKEN_FAILURES, build_root

PLAY = """
- hosts: all
  gather_facts: false
  roles:
    - role: aiplatform.cluster.node_preflight

- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.copy:
        content: "{{ {'passed': groups['node_preflight_passed'] | default([]) | sort,
                      'failed': groups['node_preflight_failed'] | default([]) | sort} | to_json }}"
        dest: "{{ groups_out }}"
        mode: "0644"
"""
JSON_CALLBACK = {"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"}


def host_vars(root: Path, **more) -> dict:
    params = build_root(root, hostname=root.name)
    return {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "node_preflight_root": params["root"],
        "node_preflight_search_path": params["search_path"],
        "node_preflight_settings": params["settings"],
        **more,
    }


def common(tmp_path: Path) -> dict:
    return {
        "topology_report_dir": str(tmp_path / "reports"),
        "groups_out": str(tmp_path / "groups.json"),
        "node_preflight_exclude": ["cri.socket", "disk.etcd_fdatasync"],
        "node_preflight_require_ssd": False,
    }


def report(tmp_path: Path, host: str) -> dict:
    return json.loads((tmp_path / "reports" / "preflight" / f"{host}.json").read_text())


def by_id(data: dict) -> dict:
    return {r["id"]: r for r in data["results"]}


def stats(proc) -> dict:
    assert proc.returncode in (0, 2), proc.stderr[-3000:]
    return json.loads(proc.stdout[proc.stdout.index("{") :])["stats"]


def test_each_host_gets_the_paths_of_its_own_settings(tmp_path):
    hosts = {
        "plain": host_vars(tmp_path / "plain"),
        "stargz": host_vars(tmp_path / "stargz", containerd_stargz_enabled=True),
        "member": host_vars(tmp_path / "member"),
    }
    inventory = {"all": {"children": {"kube_node": {"hosts": hosts}, "etcd_main": {"hosts": {"member": {}}}}}}
    proc = run_local_playbook(tmp_path, PLAY, inventory, common(tmp_path))
    assert proc.returncode == 0, proc.stdout[-3000:]
    disks = {host: sorted(by_id(report(tmp_path, host))["resources.disk_space"]["observed"]) for host in hosts}
    assert disks == {
        "plain": ["/var/lib/containerd", "/var/lib/kubelet"],
        "stargz": ["/var/lib/containerd", "/var/lib/containerd-stargz-grpc", "/var/lib/kubelet"],
        "member": ["/var/lib/containerd", "/var/lib/etcd/main", "/var/lib/kubelet"],
    }
    assert report(tmp_path, "member")["profiles"] == ["etcd", "nodes"]
    assert report(tmp_path, "plain")["profiles"] == ["nodes"]


def test_admission_mark_check_mode_and_idempotence(tmp_path):
    inventory = {"all": {"children": {"kube_node": {"hosts": {"n1": host_vars(tmp_path / "n1")}}}}}
    marker = tmp_path / "n1" / "var/lib/aiplatform/preflight-admitted"
    prom = tmp_path / "n1" / "var/lib/prometheus/node-exporter/aiplatform_preflight.prom"
    extra = common(tmp_path)

    fresh_check = stats(run_local_playbook(tmp_path, PLAY, inventory, extra, args=("--check",), env=JSON_CALLBACK))
    assert fresh_check["n1"]["changed"] == 1
    assert fresh_check["n1"]["failures"] == 0
    assert not marker.exists() and not prom.exists()
    # The reports are this run's output: written in check mode too.
    assert "ports.free" in by_id(report(tmp_path, "n1"))

    first = stats(run_local_playbook(tmp_path, PLAY, inventory, extra, args=(), env=JSON_CALLBACK))
    assert first["n1"]["changed"] == 1
    assert marker.is_file() and prom.is_file()

    for args in ((), ("--check",)):
        again = stats(run_local_playbook(tmp_path, PLAY, inventory, extra, args=args, env=JSON_CALLBACK))
        assert again["n1"]["changed"] == 0, args
        assert again["n1"]["failures"] == 0, args
        results = by_id(report(tmp_path, "n1"))
        assert "ports.free" not in results and "kubelet.leftover_files" not in results


@pytest.mark.parametrize(("fail_hosts", "returncode"), [(True, 2), (False, 0)])
def test_failing_host_reported_and_sorted(tmp_path, fail_hosts, returncode):
    broken = host_vars(tmp_path / "broken")
    build_root(tmp_path / "broken", broken=True, hostname="broken")
    hosts = {"healthy": host_vars(tmp_path / "healthy"), "broken": broken}
    inventory = {"all": {"children": {"kube_node": {"children": {"gpu": {"hosts": hosts}}}}}}
    extra = {**common(tmp_path), "node_preflight_fail_hosts": fail_hosts}
    proc = run_local_playbook(tmp_path, PLAY, inventory, extra, args=(), env=JSON_CALLBACK)
    assert proc.returncode == returncode, proc.stdout[-3000:]
    counts = stats(proc)
    assert (counts["healthy"]["failures"], counts["broken"]["failures"]) == (0, 1 if fail_hosts else 0)
    folder = tmp_path / "reports" / "preflight"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["passed"] == ["healthy"]
    assert summary["failed"] == {"broken": BROKEN_FAILURES}
    assert (folder / "junit.xml").read_text().count("<failure ") == len(BROKEN_FAILURES)
    assert "| broken  | FAIL " in (folder / "summary.md").read_text()
    assert json.loads((tmp_path / "groups.json").read_text()) == {"passed": ["healthy"], "failed": ["broken"]}
    if fail_hosts:
        messages = [
            host_result.get("msg", "")
            for play in json.loads(proc.stdout[proc.stdout.index("{") :])["plays"]
            for task in play["tasks"]
            for host_result in task["hosts"].values()
        ]
        assert (
            f"preflight failed on broken: {', '.join(BROKEN_FAILURES)} (see {folder}/broken.json; the ignore option"
            " turns named failures into warnings)"
        ) in messages
