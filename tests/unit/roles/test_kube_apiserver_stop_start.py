"""The kube_apiserver role's entry points stop and start (playbooks/etcd_restore.yml, docs/etcd-operations.md).

Run with ansible-playbook on the local host, the manifest folder under tmp_path: stop moves the static pod
manifest out of the kubelet's folder and waits for the secure port to close (a free port here), start puts it
back, each a no-op the second time; a host with no manifest changes nothing; a host where the manifest and a
copy set aside both exist is refused before anything moves. The etcd_ops scenario runs them inside a restore.
"""

from __future__ import annotations

import re
import socket
import sys

from local_playbook import run_local_playbook

INVENTORY = {
    "all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
        "hosts": {"cp1": {}},
    }
}
PLAY = """
- hosts: all
  gather_facts: false
  tasks:
    - name: Run the entry point
      ansible.builtin.include_role:
        name: aiplatform.cluster.kube_apiserver
        tasks_from: "{{ entry_point }}"
"""
RECAP = re.compile(r"^cp1\s+: ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=(\d+)", re.M)
CONTENT = "apiVersion: v1\nkind: Pod\n"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def host_with_manifest(tmp_path):
    """A control plane's files under tmp_path: the manifest in its folder; returns it and where stop sets it."""
    (tmp_path / "run").mkdir()
    manifest = tmp_path / "kubernetes" / "manifests" / "kube-apiserver.yaml"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(CONTENT, encoding="utf-8")
    return manifest, tmp_path / "kubernetes" / "kube-apiserver.stopped-for-etcd-restore.yaml"


def run(tmp_path, entry_point):
    extra = {
        "entry_point": entry_point,
        "kube_apiserver_manifest_dir": str(tmp_path / "kubernetes" / "manifests"),
        "kube_apiserver_secure_port": free_port(),
        "kube_apiserver_stop_timeout_s": 5,
    }
    result = run_local_playbook(tmp_path / "run", PLAY, INVENTORY, extra)
    counts = RECAP.search(result.stdout)
    assert counts, result.stdout[-3000:] + result.stderr[-2000:]
    return result, int(counts[1]), int(counts[2])


def test_stop_sets_the_manifest_aside_and_start_puts_it_back(tmp_path):
    manifest, stopped = host_with_manifest(tmp_path)
    assert run(tmp_path, "stop")[1:] == (1, 0)
    assert not manifest.exists() and stopped.read_text(encoding="utf-8") == CONTENT
    assert run(tmp_path, "stop")[1:] == (0, 0)
    assert run(tmp_path, "start")[1:] == (1, 0)
    assert manifest.read_text(encoding="utf-8") == CONTENT and not stopped.exists()
    assert run(tmp_path, "start")[1:] == (0, 0)


def test_a_host_without_a_manifest_changes_nothing(tmp_path):
    (tmp_path / "run").mkdir()
    assert run(tmp_path, "stop")[1:] == (0, 0)
    assert run(tmp_path, "start")[1:] == (0, 0)
    assert not (tmp_path / "kubernetes").exists()


def test_the_manifest_and_a_copy_set_aside_both_present_is_refused(tmp_path):
    manifest, stopped = host_with_manifest(tmp_path)
    stopped.write_text("older\n", encoding="utf-8")
    result, changed, failed = run(tmp_path, "stop")
    assert (changed, failed) == (0, 1)
    assert "both exist on cp1" in result.stdout
    assert manifest.read_text(encoding="utf-8") == CONTENT and stopped.read_text(encoding="utf-8") == "older\n"


def test_stop_waits_for_the_port_and_fails_while_it_stays_open(tmp_path):
    manifest = host_with_manifest(tmp_path)[0]
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        extra = {
            "entry_point": "stop",
            "kube_apiserver_manifest_dir": str(manifest.parent),
            "kube_apiserver_secure_port": listener.getsockname()[1],
            "kube_apiserver_stop_timeout_s": 2,
        }
        result = run_local_playbook(tmp_path / "run", PLAY, INVENTORY, extra)
    assert result.returncode != 0
    assert "Wait until the kube-apiserver's secure port is closed" in result.stdout
    assert RECAP.search(result.stdout)[2] == "1"
