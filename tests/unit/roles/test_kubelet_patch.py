"""The kubelet role's KubeletConfiguration as kubeadm's `kubeletconfiguration` patch (docs/kubeadm.md).

Runs the kubelet role with ansible-playbook on the local host, its paths under tmp_path and a recording fake
kubeadm: the patch validates against the KubeletConfiguration schema (tests/tools/kube_schemas.py) and holds the
role's settings; before the node has joined the role also writes config.yaml and calls no kubeadm; on a joined
node (kubeadm's kubelet kubeconfig present) it leaves config.yaml to kubeadm and applies a changed patch with
`kubeadm upgrade node phase kubelet-config --patches`, and nothing on a second run.
"""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import kube_schemas
import yaml
from local_playbook import run_local_playbook

ROOT = Path(__file__).resolve().parents[3]
VERSION = yaml.safe_load((ROOT / "roles/kube_apiserver/defaults/main.yml").read_text(encoding="utf-8"))[
    "kube_apiserver_kubernetes_version"
]
# Written out from roles/kubelet/vars/main.yml (the patch's name is kubeadm's target plus the patch type).
PATCH = "kubeletconfiguration+merge.yaml"
INVENTORY = {
    "all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
        "hosts": {"n1": {}},
    }
}
PLAY = """
- hosts: all
  gather_facts: false
  roles:
    - role: aiplatform.cluster.kubelet
"""
KUBEADM_WRITTEN = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
FAKE_KUBEADM = """#!/bin/sh
echo "$*" >> "$(dirname "$0")/calls"
"""


def setup(tmp_path, *, joined):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kubeadm").write_text(FAKE_KUBEADM, encoding="utf-8")
    (bin_dir / "kubeadm").chmod(0o755)
    kubeconfig = tmp_path / "kubelet.conf"
    if joined:
        kubeconfig.write_text("apiVersion: v1\nkind: Config\n", encoding="utf-8")
        # What kubeadm wrote at the join (a new file: 0644).
        (tmp_path / "kubelet").mkdir()
        (tmp_path / "kubelet" / "config.yaml").write_text(KUBEADM_WRITTEN, encoding="utf-8")
        (tmp_path / "kubelet" / "config.yaml").chmod(0o644)
    return {
        "kube_binaries_bin_dir": str(bin_dir),
        "kubelet_config_path": str(tmp_path / "kubelet" / "config.yaml"),
        "topology_kubeadm_patches_dir": str(tmp_path / "patches"),
        "_kubelet_kubeconfig": str(kubeconfig),
    }


def run(tmp_path, extra):
    json_callback = {"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"}
    result = run_local_playbook(tmp_path, PLAY, INVENTORY, extra, env=json_callback)
    assert result.returncode == 0, result.stdout[-3000:]
    return json.loads(result.stdout)["stats"]["n1"]


def kubeadm_calls(tmp_path):
    calls = tmp_path / "bin" / "calls"
    return calls.read_text(encoding="utf-8").splitlines() if calls.exists() else []


def test_the_patch_holds_the_role_settings_and_validates(tmp_path):
    settings = {"kubelet_max_pods": 120, "kubelet_config_extra": {"cpuManagerPolicy": "static"}}
    extra = setup(tmp_path, joined=False) | settings
    run(tmp_path, extra)
    patch_file = tmp_path / "patches" / PATCH
    assert stat.S_IMODE(patch_file.stat().st_mode) == 0o600
    patch = yaml.safe_load(patch_file.read_text(encoding="utf-8"))
    assert kube_schemas.validate(patch, VERSION) == "schema"
    assert patch["kind"] == "KubeletConfiguration"
    assert patch["maxPods"] == 120 and patch["cpuManagerPolicy"] == "static"
    assert patch["readOnlyPort"] == 0 and patch["authentication"]["anonymous"]["enabled"] is False
    assert set(patch["systemReserved"]) >= {"cpu", "memory"} and set(patch["kubeReserved"]) >= {"cpu", "memory"}
    # Not joined: the role writes config.yaml itself (the same settings) and calls no kubeadm.
    assert yaml.safe_load((tmp_path / "kubelet" / "config.yaml").read_text(encoding="utf-8")) == patch
    assert kubeadm_calls(tmp_path) == []


def test_the_schema_refuses_a_patch_with_a_wrong_type(tmp_path):
    run(tmp_path, setup(tmp_path, joined=False))
    patch = yaml.safe_load((tmp_path / "patches" / PATCH).read_text(encoding="utf-8"))
    for broken in (patch | {"maxPods": "many"}, patch | {"noSuchField": True}):
        try:
            kube_schemas.validate(broken, VERSION)
        except kube_schemas.jsonschema.ValidationError:
            continue
        raise AssertionError(f"validated: {broken}")


def test_a_joined_node_gets_a_changed_patch_through_kubeadm_once(tmp_path):
    extra = setup(tmp_path, joined=True)
    first = run(tmp_path, extra)
    assert first["changed"] > 0
    patches = str(tmp_path / "patches")
    assert kubeadm_calls(tmp_path) == [f"upgrade node phase kubelet-config --patches {patches}"]
    # kubeadm owns config.yaml once the node has joined: its content is left alone, its mode made 0600.
    written = tmp_path / "kubelet" / "config.yaml"
    assert written.read_text(encoding="utf-8") == KUBEADM_WRITTEN
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    second = run(tmp_path, extra)
    assert second["changed"] == 0
    assert len(kubeadm_calls(tmp_path)) == 1
    run(tmp_path, extra | {"kubelet_max_pods": 90})
    assert kubeadm_calls(tmp_path)[1:] == [f"upgrade node phase kubelet-config --patches {patches}"]
    assert yaml.safe_load((tmp_path / "patches" / PATCH).read_text(encoding="utf-8"))["maxPods"] == 90
