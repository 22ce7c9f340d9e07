"""etcd certificate lifetimes and renewal in a converge (issue 13), on three local "members" whose files live
under tmp_path, with the controller's store in another folder there: the role's CA check and PKI tasks for
real (community.crypto, no mocks).

Leaf certificates last etcd_cert_validity_days and the CA etcd_ca_validity_days; a second run changes
nothing, nor does a changed lifetime; a certificate that expires within etcd_cert_renew_before_days is
reissued (the same key, the same CA) and copied to its member, and nothing else is; a CA that expires within the
window stops the role before any certificate is made, pointing at the CA rotation in the docs.
"""

from __future__ import annotations

import datetime
import hashlib
import subprocess
import sys
from pathlib import Path

from local_playbook import run_local_playbook

PLAY = """
- hosts: etcd_main
  gather_facts: true
  gather_subset: [min]
  roles:
    - role: aiplatform.cluster.topology
  tasks:
    - ansible.builtin.include_role:
        name: aiplatform.cluster.etcd
        tasks_from: "{{ item }}"
        public: true
      loop: [validate, settings, ca_check, pki]
"""
HOSTS = ("e1", "e2", "e3")
ANSIBLE = Path(sys.executable).with_name("ansible")


def run(root: Path, store: Path, *args: str, **extra):
    hosts = {h: {"etcd_address": f"10.0.0.{i}", "etcd_pki_dir": str(root / h / "pki")} for i, h in enumerate(HOSTS, 1)}
    inventory = {
        "all": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
            "children": {"etcd_main": {"hosts": hosts}},
        }
    }
    variables = {
        "etcd_archive_checksum": "sha256:" + "0" * 64,
        "etcd_pki_controller_dir": str(store),
        "etcd_user": "root",
    } | extra
    (root / "play").mkdir(exist_ok=True)
    return run_local_playbook(root / "play", PLAY, inventory, variables, args=args)


def openssl(*args: str) -> str:
    return subprocess.run(["openssl", *args], check=True, capture_output=True, text=True).stdout.strip()


def not_after(path: Path) -> datetime.datetime:
    text = openssl("x509", "-in", str(path), "-noout", "-enddate").split("=", 1)[1]
    return datetime.datetime.strptime(text, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=datetime.UTC)


def days_left(path: Path) -> float:
    return (not_after(path) - datetime.datetime.now(datetime.UTC)).total_seconds() / 86400


def serial(path: Path) -> str:
    return openssl("x509", "-in", str(path), "-noout", "-serial")


def member_files(root: Path) -> dict:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for h in HOSTS
        for p in sorted((root / h / "pki").iterdir())
    }


def flat(result) -> str:
    return " ".join((result.stdout + result.stderr).split())


def test_lifetimes_and_a_renewal_within_the_window_in_a_converge(tmp_path):
    store = tmp_path / "store"
    first = run(tmp_path, store)
    assert first.returncode == 0, first.stdout[-4000:]
    assert 3649 < days_left(store / "ca.crt") <= 3650
    for name in ("members/e1/main-server", "members/e2/main-peer", "ops-client", "apiserver-etcd-client"):
        assert 364 < days_left(store / f"{name}.crt") <= 365, name
    # The members hold what the store has; the CA verifies every one.
    assert (tmp_path / "e2" / "pki" / "main-peer.crt").read_bytes() == (store / "members/e2/main-peer.crt").read_bytes()
    openssl("verify", "-CAfile", str(store / "ca.crt"), str(tmp_path / "e2" / "pki" / "main-peer.crt"))

    # A second run changes nothing, not even with other lifetimes (reissuing would restart every member).
    before = member_files(tmp_path)
    store_before = {p.name: serial(p) for p in store.rglob("*.crt")}
    again = run(tmp_path, store, etcd_cert_validity_days=90, etcd_cert_renew_before_days=10)
    assert again.returncode == 0, again.stdout[-4000:]
    assert "changed=0" in again.stdout and "changed=1" not in again.stdout, again.stdout[-3000:]
    assert "Reissuing" not in again.stdout
    assert member_files(tmp_path) == before
    assert {p.name: serial(p) for p in store.rglob("*.crt")} == store_before

    # e2's peer certificate now expires in 10 days (signed again from its request, as the role signs).
    peer = store / "members/e2/main-peer"
    old_key = peer.with_suffix(".key").read_bytes()
    signed = subprocess.run(
        [str(ANSIBLE), "localhost", "-c", "local", "-m", "community.crypto.x509_certificate", "-a",
         f"path={peer}.crt csr_path={peer}.csr provider=ownca ownca_path={store}/ca.crt "
         f"ownca_privatekey_path={store}/ca.key ownca_not_after=+10d force=true"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert signed.returncode == 0, signed.stdout + signed.stderr
    short_serial = serial(peer.with_suffix(".crt"))
    assert 9 < days_left(peer.with_suffix(".crt")) <= 10

    # Check mode shows it and changes nothing.
    checked = run(tmp_path, store, "--check")
    assert checked.returncode == 0, checked.stdout[-4000:]
    assert "Reissuing members/e2/main-peer (the same keys, the same CA)" in flat(checked)
    assert serial(peer.with_suffix(".crt")) == short_serial

    renewed = run(tmp_path, store)
    assert renewed.returncode == 0, renewed.stdout[-4000:]
    assert "Reissuing members/e2/main-peer (the same keys, the same CA)" in flat(renewed)
    assert serial(peer.with_suffix(".crt")) != short_serial
    assert 364 < days_left(peer.with_suffix(".crt")) <= 365
    assert (
        peer.with_suffix(".key").read_bytes() == old_key
    )  # the same key: no member pairs a new certificate with an old key
    openssl("verify", "-CAfile", str(store / "ca.crt"), str(peer.with_suffix(".crt")))
    after = member_files(tmp_path)
    changed = sorted(name for name in after if after[name] != before[name])
    assert changed == ["e2/pki/main-peer.crt"], changed
    assert (tmp_path / "e2" / "pki" / "main-peer.crt").read_bytes() == peer.with_suffix(".crt").read_bytes()

    settled = run(tmp_path, store)
    assert settled.returncode == 0 and "changed=0" in settled.stdout and "changed=1" not in settled.stdout


def test_a_ca_expiring_within_the_window_stops_the_role(tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
            str(store / "ca.key"), "-out", str(store / "ca.crt"), "-subj", "/CN=etcd-ca", "-days", "20")  # fmt: skip
    result = run(tmp_path, store)
    assert result.returncode == 2, result.stdout[-3000:]
    output = flat(result)
    assert f"etcd_cert_renew_before_days: the etcd CA {store}/ca.crt expires at " in output, output[-3000:]
    assert (
        "(19 days left), within the renewal window of 30 days. The role renews certificates from the CA, not the CA "
        'itself: rotate it first, as docs/etcd-operations.md "Rotating the etcd CA" describes.' in output
    ), output[-3000:]
    assert not (store / "ops-client.crt").exists() and not (tmp_path / "e1" / "pki").exists()

    # A window shorter than what the CA has left: the role goes on.
    result = run(tmp_path, store, etcd_cert_renew_before_days=7, etcd_cert_validity_days=15, etcd_ca_validity_days=20)
    assert result.returncode == 0, result.stdout[-3000:]
    assert 14 < days_left(store / "ops-client.crt") <= 15
