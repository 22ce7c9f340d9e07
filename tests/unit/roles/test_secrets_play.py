"""kube-apiserver's encryption key is never made behind the user's back (issue 13): the whole role runs
against two local "control planes" whose files all live under tmp_path, with the controller's store in
another folder there.

A key is made once when neither side holds one (0600 in the store, the same on both hosts, a second run
changes nothing); a fresh store next to hosts that hold a key stops the role in its check, before any
change, naming the variable; kube_apiserver_encryption_adopt_host_key copies the hosts' key into the empty
store and the hosts' files stay as they were; a different key in the store is refused even then.
The etcd role's CA check runs on local "members" the same way: a member's CA the store lacks stops it.
"""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
from pathlib import Path

import yaml
from local_playbook import run_local_playbook

PLAY = """
- hosts: kube_control_plane
  gather_facts: false
  roles:
    - role: aiplatform.cluster.topology
  tasks:
    - ansible.builtin.include_role:
        name: aiplatform.cluster.kube_apiserver
"""
HOSTS = ("cp1", "cp2")
CHECK_TASK = "Refuse to make an encryption key the control planes do not have"


def make_ca(folder: Path, name: str) -> str:
    """A self-signed CA (ca.crt, ca.key) in ``folder`` made by openssl; its SHA-256 fingerprint as openssl prints it."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(folder / "ca.key"), "-out", str(folder / "ca.crt"), "-subj", f"/CN={name}", "-days", "3650"],
        check=True, capture_output=True,
    )  # fmt: skip
    printed = subprocess.run(["openssl", "x509", "-in", str(folder / "ca.crt"), "-noout", "-fingerprint", "-sha256"],
                             check=True, capture_output=True, text=True).stdout  # fmt: skip
    return printed.strip().split("=", 1)[1]


def host_vars(root: Path, index: int) -> dict:
    base = root / f"cp{index}"
    return {
        "etcd_address": f"10.0.0.{index}",
        "kube_apiserver_advertise_address": f"10.0.0.{index}",
        "kube_apiserver_pki_dir": str(base / "pki"),
        "kube_apiserver_config_dir": str(base / "apiserver"),
        "kube_apiserver_kubeadm_dir": str(base / "kubeadm"),
        "topology_kubeadm_patches_dir": str(base / "kubeadm" / "patches"),
        "kube_apiserver_manifest_dir": str(base / "manifests"),
        "kube_apiserver_apf_dir": str(base / "apf"),
        "kube_apiserver_audit_log_path": str(base / "audit" / "audit.log"),
    }


def run(root: Path, store: Path, **extra):
    hosts = {name: host_vars(root, i) for i, name in enumerate(HOSTS, 1)}
    inventory = {
        "all": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
            "children": {"etcd_main": {"hosts": hosts}, "kube_control_plane": {"hosts": hosts}},
        }
    }
    etcd_pki = root / "etcd-pki"
    if not etcd_pki.is_dir():
        # What the etcd role would have made: a CA (the client files' content does not matter here).
        etcd_pki.mkdir(parents=True)
        make_ca(etcd_pki, "etcd-ca")
        for name in ("apiserver-etcd-client.crt", "apiserver-etcd-client.key"):
            (etcd_pki / name).write_text(f"{name}\n", encoding="utf-8")
    variables = {
        "kube_apiserver_profile": "development",
        "etcd_pki_controller_dir": str(etcd_pki),
        "kube_apiserver_secrets_controller_dir": str(store),
        "topology_state_dir": str(root / "unused-state"),
    } | extra
    (root / "play").mkdir(exist_ok=True)
    return run_local_playbook(root / "play", PLAY, inventory, variables)


def recap(result) -> dict:
    found = re.findall(r"(cp\d) +: ok=(\d+) +changed=(\d+)", result.stdout)
    return {host: (int(ok), int(changed)) for host, ok, changed in found}


def secret_on(root: Path, host: str) -> str:
    config = yaml.safe_load((root / host / "apiserver" / "encryption-config.yaml").read_text(encoding="utf-8"))
    return config["resources"][0]["providers"][0]["secretbox"]["keys"][0]["secret"]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_key_is_made_once_and_never_again_behind_the_users_back(tmp_path):
    store = tmp_path / "store"
    first = run(tmp_path, store)
    assert first.returncode == 0, first.stdout[-4000:]
    key_file = store / "encryption-key-secretbox"
    key = key_file.read_text(encoding="utf-8")
    assert len(key) == 32 and key.isalnum()
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert [base64.b64decode(secret_on(tmp_path, h)).decode() for h in HOSTS] == [key, key]
    assert key not in first.stdout + first.stderr

    again = run(tmp_path, store)
    assert again.returncode == 0, again.stdout[-4000:]
    assert all(changed == 0 for _ok, changed in recap(again).values()), again.stdout[-3000:]

    # A controller without the store (a fresh clone, a CI runner, another operator): stopped, nothing changed.
    files = {h: digest(tmp_path / h / "apiserver" / "encryption-config.yaml") for h in HOSTS}
    fresh = tmp_path / "fresh-store"
    refused = run(tmp_path, fresh)
    output = " ".join((refused.stdout + refused.stderr).split())
    assert refused.returncode == 2, output[-3000:]
    failed_task = re.findall(r"TASK \[([^\]]+)\]", refused.stdout[: refused.stdout.index("fatal:")])[-1]
    assert failed_task.endswith(CHECK_TASK), failed_task
    assert (
        f"kube_apiserver_secrets_controller_dir: {fresh}/encryption-key-secretbox does not exist, but the control "
        "planes cp1, cp2 hold a secretbox encryption key (" in output
    ), output[-3000:]
    assert "kube_apiserver_encryption_adopt_host_key: true" in output
    assert key not in output and base64.b64encode(key.encode()).decode() not in output
    assert all(changed == 0 for _ok, changed in recap(refused).values()), refused.stdout[-3000:]
    assert not fresh.exists()
    assert {h: digest(tmp_path / h / "apiserver" / "encryption-config.yaml") for h in HOSTS} == files

    # Adopting the hosts' key into the empty store: the same key, the hosts' files untouched.
    adopted = run(tmp_path, fresh, kube_apiserver_encryption_adopt_host_key=True)
    assert adopted.returncode == 0, adopted.stdout[-4000:]
    assert (fresh / "encryption-key-secretbox").read_text(encoding="utf-8") == key
    assert (fresh / "encryption-key-secretbox").stat().st_mode & 0o777 == 0o600
    assert {h: digest(tmp_path / h / "apiserver" / "encryption-config.yaml") for h in HOSTS} == files

    # Another key in the store is never written over the hosts' key, adopt or not.
    other = tmp_path / "other-store"
    other.mkdir()
    (other / "encryption-key-secretbox").write_text("x" * 32, encoding="utf-8")
    differs = run(tmp_path, other, kube_apiserver_encryption_adopt_host_key=True)
    output = " ".join((differs.stdout + differs.stderr).split())
    assert differs.returncode == 2, output[-3000:]
    assert f"kube_apiserver_secrets_controller_dir: {other}/encryption-key-secretbox (fingerprint " in output
    assert "is not the key the control planes cp1, cp2 encrypt with" in output
    assert {h: digest(tmp_path / h / "apiserver" / "encryption-config.yaml") for h in HOSTS} == files

    # Another etcd store (another cluster's CA) is never copied over the control planes' etcd CA.
    other_etcd = tmp_path / "other-etcd-pki"
    other_etcd.mkdir()
    other_print = make_ca(other_etcd, "another-etcd-ca")
    held_print = subprocess.run(
        ["openssl", "x509", "-in", str(tmp_path / "cp1/pki/etcd/ca.crt"), "-noout", "-fingerprint", "-sha256"],
        check=True, capture_output=True, text=True,
    ).stdout.strip().split("=", 1)[1]  # fmt: skip
    copies = {h: digest(tmp_path / h / "pki" / "etcd" / "ca.crt") for h in HOSTS}
    foreign = run(tmp_path, store, etcd_pki_controller_dir=str(other_etcd))
    output = " ".join((foreign.stdout + foreign.stderr).split())
    assert foreign.returncode == 2, output[-3000:]
    assert (
        f"kube_apiserver_etcd_pki_controller_dir: cp1, cp2 hold an etcd CA at {tmp_path}/cp1/pki/etcd/ca.crt "
        f"(SHA-256 {held_print}) that is not the one in {other_etcd} ({other_print})" in output
    ), output[-3000:]
    assert all(changed == 0 for _ok, changed in recap(foreign).values()), foreign.stdout[-3000:]
    assert {h: digest(tmp_path / h / "pki" / "etcd" / "ca.crt") for h in HOSTS} == copies


CA_PLAY = """
- hosts: etcd_main
  gather_facts: false
  roles:
    - role: aiplatform.cluster.topology
  tasks:
    - ansible.builtin.include_role:
        name: aiplatform.cluster.etcd
        tasks_from: "{{ item }}"
        public: true
      loop: [validate, settings, ca_check]
    - ansible.builtin.debug:
        msg: CA CHECK PASSED
      run_once: true
"""


def test_etcd_never_makes_a_ca_next_to_the_one_the_members_hold(tmp_path):
    pki = {h: tmp_path / h / "pki" for h in ("e1", "e2", "e3")}
    pki["e1"].mkdir(parents=True)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(tmp_path / "ca.key"), "-out", str(pki["e1"] / "ca.crt"), "-subj", "/CN=etcd-ca",
         "-days", "3650"],
        check=True, capture_output=True,
    )  # fmt: skip
    printed = subprocess.run(["openssl", "x509", "-in", str(pki["e1"] / "ca.crt"), "-noout", "-fingerprint", "-sha256"],
                             check=True, capture_output=True, text=True).stdout.strip().split("=", 1)[1]  # fmt: skip
    hosts = {h: {"etcd_address": f"10.0.0.{i}", "etcd_pki_dir": str(pki[h])} for i, h in enumerate(pki, 1)}
    inventory = {
        "all": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
            "children": {"etcd_main": {"hosts": hosts}},
        }
    }
    store = tmp_path / "fresh-etcd-pki"
    extra = {"etcd_archive_checksum": "sha256:" + "0" * 64, "etcd_pki_controller_dir": str(store)}
    result = run_local_playbook(tmp_path, CA_PLAY, inventory, extra, args=("--check",))
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2, output[-3000:]
    assert (
        f"etcd_pki_controller_dir: {store} has no etcd CA, but e1 hold one at {pki['e1']}/ca.crt (SHA-256 {printed}); "
        "nothing is made or copied next to a CA in use (a second CA would mean reissuing every certificate)" in output
    ), output[-3000:]
    assert "CA CHECK PASSED" not in output
    assert not store.exists()

    # The store that has it: the check passes (e2 and e3 get it later from the store).
    store.mkdir()
    (store / "ca.crt").write_bytes((pki["e1"] / "ca.crt").read_bytes())
    (store / "ca.key").write_bytes((tmp_path / "ca.key").read_bytes())
    result = run_local_playbook(tmp_path, CA_PLAY, inventory, extra, args=("--check",))
    assert result.returncode == 0, result.stdout[-3000:]
    assert "CA CHECK PASSED" in result.stdout
