"""Secret stores on the controller: the git work tree a path lies in, the refusal, and the fingerprints."""

from __future__ import annotations

import subprocess

from ansible_collections.aiplatform.cluster.plugins.module_utils.state_store import (
    certificate_fingerprint,
    fingerprint,
    git_work_tree,
    stores_problems,
)


def test_git_work_tree_finds_the_top_folder_for_paths_that_do_not_exist_yet(tmp_path):
    repo = tmp_path / "inventory"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    assert git_work_tree(repo / "group_vars" / ".etcd-pki") == str(repo)
    assert git_work_tree(repo) == str(repo)
    assert git_work_tree(tmp_path / "state" / "etcd-pki") == ""


def test_git_work_tree_sees_a_linked_work_tree_or_submodule_by_its_git_file(tmp_path):
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / ".git").write_text("gitdir: /elsewhere/.git/worktrees/linked\n")
    assert git_work_tree(tmp_path / "linked" / "secrets") == str(tmp_path / "linked")


def test_a_store_inside_a_work_tree_is_refused_unless_allowed():
    stores = [
        {"variable": "etcd_pki_controller_dir", "path": "/srv/inv/.etcd-pki", "work_tree": "/srv/inv"},
        {"variable": "kube_apiserver_secrets_controller_dir", "path": "/home/a/state/k", "work_tree": ""},
    ]
    messages = stores_problems(stores, False)
    assert messages == [
        "etcd_pki_controller_dir: /srv/inv/.etcd-pki is inside the git work tree /srv/inv, where secrets get "
        "committed with the inventory; keep it out of version control (the default is a folder under "
        "topology_state_dir), or set topology_state_allow_in_git: true to keep it there anyway"
    ]
    assert stores_problems(stores, True) == []
    assert stores_problems(stores, "true") == []  # -e topology_state_allow_in_git=true
    assert len(stores_problems(stores, "false")) == 1
    assert stores_problems(None, False) == []


def test_fingerprint_names_a_secret_without_showing_it():
    # sha256("abc"), the FIPS 180-2 test vector, first 16 hex digits.
    assert fingerprint("abc") == "ba7816bf8f01cfea"
    assert fingerprint(b"abc") == "ba7816bf8f01cfea"


def test_certificate_fingerprint_is_the_one_openssl_prints(tmp_path):
    key, cert = tmp_path / "ca.key", tmp_path / "ca.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=etcd-ca", "-days", "1"],
        check=True, capture_output=True,
    )  # fmt: skip
    printed = subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-noout", "-fingerprint", "-sha256"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    assert printed.split("=", 1)[1] == certificate_fingerprint(cert.read_text())
    assert certificate_fingerprint("no certificate here") is None
    assert certificate_fingerprint("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----") is None
