"""Secrets are never made a second time: the encryption key and the etcd CA compared with the controller's
store (issue 13). Every message names the variable; no message shows a secret."""

from __future__ import annotations

import base64
import subprocess

import pytest

from ansible_collections.aiplatform.cluster.plugins.filter.secret_stores import (
    etcd_ca_problems,
    kube_apiserver_encryption_state,
)

KEY = "Q9x7TfZk2LmN4pRs6VwY8aBcDeFgHiJk"  # 32 characters, as the role makes them
OTHER = "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
STORE = "/home/op/.local/state/aiplatform/clusters/prod/kube-apiserver/encryption-key-secretbox"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def config(*keys: tuple[str, str], extra: str = "") -> str:
    """An encryption-config.yaml as the role's template writes it, slurped (base64)."""
    providers = "".join(
        f"      - {kind}:\n          keys:\n            - name: key{i}\n              secret: {b64(key)}\n"
        for i, (kind, key) in enumerate(keys, 1)
    )
    text = (
        "# Ansible managed\napiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n"
        f'  - resources: ["secrets"]\n    providers:\n{providers}{extra}      - identity: {{}}\n'
    )
    return b64(text)


def state(hosts, store="", adopt=False, provider="secretbox"):
    return kube_apiserver_encryption_state(hosts, provider, b64(store) if store else "", STORE, adopt)


def test_a_key_is_made_only_when_neither_the_hosts_nor_the_store_hold_one():
    assert state({"cp1": "", "cp2": None}) == {"errors": [], "action": "generate", "key": "", "name": "key1"}
    assert state({}, store=KEY) == {"errors": [], "action": "keep", "key": KEY, "name": "key1"}


def test_the_store_key_is_kept_when_the_hosts_hold_it_and_goes_to_a_new_control_plane():
    hosts = {"cp1": config(("secretbox", KEY)), "cp2": config(("secretbox", KEY)), "cp3": ""}
    assert state(hosts, store=KEY) == {"errors": [], "action": "keep", "key": KEY, "name": "key1"}
    # The lookup('password') files of earlier releases end with a newline.
    assert state(hosts, store=KEY + "\n") == {"errors": [], "action": "keep", "key": KEY, "name": "key1"}


def test_hosts_with_a_key_and_an_empty_store_stop_the_role_or_adopt_on_request():
    hosts = {"cp1": config(("secretbox", KEY)), "cp2": config(("secretbox", KEY))}
    refused = state(hosts)
    assert refused["action"] == "" and refused["key"] == ""
    [message] = refused["errors"]
    assert message.startswith(f"kube_apiserver_secrets_controller_dir: {STORE} does not exist, but the control "
                              "planes cp1, cp2 hold a secretbox encryption key (")  # fmt: skip
    assert "kube_apiserver_encryption_adopt_host_key: true" in message
    assert KEY not in message and b64(KEY) not in message
    assert state(hosts, adopt=True) == {"errors": [], "action": "adopt", "key": KEY, "name": "key1"}
    assert state(hosts, adopt="true") == {"errors": [], "action": "adopt", "key": KEY, "name": "key1"}  # -e form


def test_a_different_store_key_is_never_written_over_the_hosts_key():
    hosts = {"cp1": config(("secretbox", KEY))}
    for adopt in (False, True):
        [message] = state(hosts, store=OTHER, adopt=adopt)["errors"]
        assert message.startswith(f"kube_apiserver_secrets_controller_dir: {STORE} (fingerprint ")
        assert "is not the key the control planes cp1 encrypt with" in message
        assert KEY not in message and OTHER not in message


def test_control_planes_that_disagree_are_refused():
    [message] = state({"cp1": config(("secretbox", KEY)), "cp2": config(("secretbox", OTHER))}, store=KEY)["errors"]
    assert message.startswith("kube_apiserver_config_dir: the control planes hold different encryption keys")
    assert "cp1: secretbox " in message and "cp2: secretbox " in message


def test_a_provider_switch_or_a_second_key_would_drop_a_key_and_is_refused():
    [message] = state({"cp1": config(("secretbox", KEY))}, store=KEY, provider="aescbc")["errors"]
    assert message.startswith("kube_apiserver_encryption_provider: the control planes cp1 encrypt with a secretbox "
                              "key; switching to aescbc would drop")  # fmt: skip
    [message] = state({"cp1": config(("aescbc", OTHER), ("secretbox", KEY))}, store=KEY)["errors"]
    assert message.startswith("kube_apiserver_config_dir: the encryption-config.yaml of cp1 holds aescbc ")
    kms = "      - kms:\n          apiVersion: v2\n          name: vault\n"
    [message] = state({"cp1": config(("secretbox", KEY), extra=kms)}, store=KEY)["errors"]
    assert " and kms; this role writes exactly one secretbox key" in message


def test_an_unreadable_configuration_is_refused_not_overwritten():
    [message] = state({"cp2": b64("kind: Something\n")}, store=KEY)["errors"]
    assert message.startswith("kube_apiserver_config_dir: cp2 holds an encryption-config.yaml the role cannot read")


def test_a_key_the_role_did_not_make_is_not_adopted():
    binary = base64.b64encode(bytes(range(200, 232))).decode()
    text = b64(base64.b64decode(config(("secretbox", KEY))).decode().replace(b64(KEY), binary))
    [message] = state({"cp1": text}, adopt=True)["errors"]
    assert message.startswith("kube_apiserver_encryption_adopt_host_key: the key the control planes cp1 hold")


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """Two self-signed CAs made by openssl, with openssl's own SHA-256 fingerprints (an independent oracle)."""
    folder = tmp_path_factory.mktemp("ca")
    made = {}
    for name in ("a", "b"):
        cert = folder / f"{name}.crt"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", str(folder / f"{name}.key"), "-out", str(cert), "-subj", f"/CN=etcd-ca-{name}", "-days", "1"],
            check=True, capture_output=True,
        )  # fmt: skip
        printed = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-fingerprint", "-sha256"],
                                 check=True, capture_output=True, text=True).stdout  # fmt: skip
        made[name] = (b64(cert.read_text()), printed.strip().split("=", 1)[1])
    return made


def ca(hosts, store="", has_key=True):
    return etcd_ca_problems(hosts, store, has_key, "/st/etcd-pki", "/etc/etcd/pki/ca.crt")


def test_the_etcd_ca_agrees_or_is_new(certificates):
    a, _print = certificates["a"]
    assert ca({"e1": "", "e2": None}) == []
    assert ca({"e1": ""}, store=a) == []
    assert ca({"e1": a, "e2": a, "e3": ""}, store=a) == []


def test_members_with_a_ca_and_an_empty_store_stop_the_role(certificates):
    a, a_print = certificates["a"]
    assert ca({"e1": a, "e2": a, "e3": ""}) == [
        "etcd_pki_controller_dir: /st/etcd-pki has no etcd CA, but e1, e2 hold one at /etc/etcd/pki/ca.crt "
        f"(SHA-256 {a_print}); nothing is made or copied next to a CA in use (a second CA would mean reissuing "
        "every certificate): restore ca.crt and ca.key (and the certificates) into that folder from your "
        "backup, or point etcd_pki_controller_dir at the folder that has them"
    ]


def test_members_with_another_ca_stop_the_role(certificates):
    (a, a_print), (b, b_print) = certificates["a"], certificates["b"]
    assert ca({"e1": a, "e2": b}, store=a) == [
        f"etcd_pki_controller_dir: e2 hold an etcd CA at /etc/etcd/pki/ca.crt (SHA-256 {b_print}) that is not the "
        f"one in /st/etcd-pki ({a_print}); the role will not replace a running cluster's CA: point "
        "etcd_pki_controller_dir at the folder that has theirs"
    ]


def test_a_store_certificate_without_its_key_or_unreadable_is_refused(certificates):
    a, _print = certificates["a"]
    [message] = ca({"e1": a}, store=a, has_key=False)
    assert message.startswith("etcd_pki_controller_dir: /st/etcd-pki/ca.crt has no ca.key beside it")
    assert etcd_ca_problems({"e1": a}, a, None, "/st/etcd-pki", "/etc/etcd/pki/ca.crt") == []  # key not needed
    messages = ca({"e1": ""}, store=b64("garbage"))
    assert messages == [
        "etcd_pki_controller_dir: /st/etcd-pki/ca.crt is not a certificate: restore it from your backup"
    ]


def test_the_control_planes_copy_of_the_etcd_ca_names_the_kube_apiserver_variable(certificates):
    (a, _a_print), (b, b_print) = certificates["a"], certificates["b"]
    host_path = "/etc/kubernetes/pki/etcd/ca.crt"
    variable = "kube_apiserver_etcd_pki_controller_dir"
    assert etcd_ca_problems({"cp1": a}, a, None, "/st/etcd-pki", host_path, variable) == []
    [message] = etcd_ca_problems({"cp1": b, "cp2": ""}, a, None, "/st/etcd-pki", host_path, variable)
    assert message.startswith(f"kube_apiserver_etcd_pki_controller_dir: cp1 hold an etcd CA at {host_path} "
                              f"(SHA-256 {b_print}) that is not the one in /st/etcd-pki")  # fmt: skip
