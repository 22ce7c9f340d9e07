"""kubeadm is looked for where the kube_binaries role installs it: the roles that run it repeat that role's
kube_binaries_bin_dir default (for plays without it), and the two must not drift apart."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]


def defaults(role):
    return yaml.safe_load((ROOT / "roles" / role / "defaults/main.yml").read_text(encoding="utf-8"))


def test_the_kubeadm_path_follows_the_kube_binaries_folder():
    folder = defaults("kube_binaries")["kube_binaries_bin_dir"]
    expected = "{{ kube_binaries_bin_dir | default('" + folder + "') }}/kubeadm"
    assert defaults("kubeadm_control_plane")["kubeadm_control_plane_kubeadm"] == expected
    assert defaults("join_nodes")["join_nodes_kubeadm"] == expected
