"""The rotation of kube-apiserver's encryption key (issue 13): where it stands, read from the control planes'
files and the controller's store (filter kube_apiserver_rotation_state), every stage and every refusal; no
message shows a key. Also the converge's side: the key's name kept, a rotation in progress refused."""

from __future__ import annotations

import base64
import hashlib

import pytest

from ansible_collections.aiplatform.cluster.plugins.filter.secret_stores import (
    kube_apiserver_encryption_state,
    kube_apiserver_rotation_state,
)

OLD = "Q9x7TfZk2LmN4pRs6VwY8aBcDeFgHiJk"
NEW = "n3W7kEyn3W7kEyn3W7kEyn3W7kEyAbCd"
STRAY = "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
STORE = "/st/kube-apiserver"
SECRETS = [OLD, NEW, STRAY] + [base64.b64encode(k.encode()).decode() for k in (OLD, NEW, STRAY)]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def text(*entries: tuple[str, str, str]) -> str:
    """An encryption-config.yaml as the role's template writes it: (provider, name, key) in order."""
    providers, previous = "", None
    for kind, name, key in entries:
        if kind != previous:
            providers += f"      - {kind}:\n          keys:\n"
        providers += f"            - name: {name}\n              secret: {b64(key)}\n"
        previous = kind
    return (
        "# Ansible managed\napiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n"
        f'  - resources: ["secrets"]\n    providers:\n{providers}      - identity: {{}}\n'
    )


def host(*entries, applied=True, manifest=True):
    """A control plane: its file, the sha256 its kube-apiserver runs (that file's when applied), its manifest."""
    config = text(*entries) if entries else ""
    marker = hashlib.sha256(config.encode()).hexdigest() + "\n" if applied and config else ""
    return {"config": b64(config) if config else "", "applied": b64(marker) if marker else "", "manifest": manifest}


OLD_E = ("secretbox", "key1", OLD)
NEW_E = ("secretbox", "key2", NEW)
STAGE = {0: [OLD_E], 1: [OLD_E, NEW_E], 2: [NEW_E, OLD_E], 3: [NEW_E]}


def request(**changes):
    return {
        "provider": "secretbox",
        "target_provider": "",
        "key_name": "key2",
        "confirm": "prod",
        "cluster_name": "prod",
        "store_dir": STORE,
        "control_planes": ["cp1", "cp2", "cp3"],
        "resources": ["secrets"],
        "kubeconfig": "/st/admin.conf",
        "kubeconfig_exists": True,
    } | changes


def store(**files):
    """The store's files as slurped: current=..., name=..., new=..., or a file name through _files."""
    names = {"current": "encryption-key-secretbox", "name": "encryption-key-secretbox.name",
             "new": "encryption-key-secretbox.new"}  # fmt: skip
    out = {names.get(key, key): b64(value) for key, value in files.items() if key != "_files"}
    out.update({name: b64(value) for name, value in files.get("_files", {}).items()})
    return out


def rotation(stages, files=None, applied=None, **changes):
    hosts = {f"cp{i}": host(*STAGE[s], applied=(applied or {}).get(f"cp{i}", True)) for i, s in enumerate(stages, 1)}
    result = kube_apiserver_rotation_state(hosts, files if files is not None else store(current=OLD, new=NEW),
                                           request(**changes))  # fmt: skip
    for message in result["errors"]:
        assert not any(secret in message for secret in SECRETS), message
    return result


def test_the_start_makes_a_key_and_reads_first():
    result = rotation([0, 0, 0], store(current=OLD))
    assert result["errors"] == [] and result["step"] == "read" and result["make_key"] is True
    assert result["old"] == {"provider": "secretbox", "name": "key1", "key": OLD}
    assert result["new"] == {"provider": "secretbox", "name": "key2", "key": ""}
    assert result["files"]["new"] == "encryption-key-secretbox.new"
    assert result["files"]["retired"] == "encryption-key-secretbox.retired-key1"


@pytest.mark.parametrize(
    ("stages", "applied", "step"),
    [
        ([0, 0, 0], {}, "read"),
        ([1, 0, 0], {}, "read"),
        ([1, 1, 1], {"cp3": False}, "read"),  # cp3's file was written, its kube-apiserver never restarted
        ([1, 1, 1], {}, "write"),
        ([2, 1, 1], {}, "write"),
        ([2, 2, 2], {"cp1": False}, "write"),
        ([2, 2, 2], {}, "rewrite"),
        ([3, 2, 2], {}, "drop"),  # a host drops only after the rewrite: the rewrite is not run again
        ([3, 3, 3], {"cp2": False}, "drop"),
        ([3, 3, 3], {}, "commit"),
    ],
)
def test_a_rerun_goes_on_where_the_rotation_stopped(stages, applied, step):
    result = rotation(stages, applied=applied)
    assert result["errors"] == [] and result["step"] == step and result["make_key"] is False
    assert result["stages"] == {f"cp{i}": s for i, s in enumerate(stages, 1)}
    old = {"provider": "secretbox", "name": "key1", "key": OLD}
    new = {"provider": "secretbox", "name": "key2", "key": NEW}
    assert result["configs"] == {"read": [old, new], "write": [new, old], "drop": [new]}


def test_a_half_done_commit_finishes_and_a_done_rotation_does_nothing():
    half = rotation([3, 3, 3], store(current=NEW, new=NEW))
    assert (half["errors"], half["step"], half["old"]) == ([], "commit", None)
    done = rotation([3, 3, 3], store(current=NEW, name="key2"))
    assert (done["errors"], done["step"], done["make_key"]) == ([], "done", False)
    # A new rotation from key2 then starts again.
    again = rotation([3, 3, 3], store(current=NEW, name="key2"), key_name="key3")
    assert again["step"] == "read" and again["old"]["name"] == "key2"


def test_hosts_further_apart_than_the_rotation_leaves_them_are_refused():
    for stages in ([0, 2, 2], [1, 3, 3], [0, 1, 3]):
        [message] = rotation(stages)["errors"]
        assert message.startswith("kube_apiserver_config_dir: the control planes are further apart than the rotation")


def test_hosts_holding_other_keys_or_no_file_are_refused():
    hosts = {"cp1": host(*STAGE[1]), "cp2": host(OLD_E, ("secretbox", "key2", STRAY)), "cp3": host()}
    errors = kube_apiserver_rotation_state(hosts, store(current=OLD, new=NEW), request())["errors"]
    assert errors[0].startswith("kube_apiserver_config_dir: cp3 holds no encryption-config.yaml")
    hosts["cp3"] = host(*STAGE[1])
    [message] = kube_apiserver_rotation_state(hosts, store(current=OLD, new=NEW), request())["errors"]
    assert message.startswith("kube_apiserver_config_dir: cp2 holds secretbox key1 ")
    assert "none of the stages of the rotation" in message and STRAY not in message and b64(STRAY) not in message
    # The new key under another name: the rotation was started with that name.
    hosts["cp2"] = host(OLD_E, ("secretbox", "next", NEW))
    [message] = kube_apiserver_rotation_state(hosts, store(current=OLD, new=NEW), request())["errors"]
    assert "kube_apiserver_encryption_rotate_key_name=next" in message


def test_the_request_is_checked_first():
    errors = rotation([0, 0, 0], store(current=OLD), confirm="staging", key_name="Key 2", target_provider="kms",
                      resources=["secrets", "*.apps"], kubeconfig_exists=False)["errors"]  # fmt: skip
    assert [e.split(":", 1)[0] for e in errors] == [
        "kube_apiserver_encryption_rotate_confirm",
        "kube_apiserver_encryption_rotate_provider",
        "kube_apiserver_encryption_rotate_key_name",
        "kube_apiserver_encryption_resources",
        "kube_apiserver_encryption_rotate_kubeconfig",
    ]
    assert "must repeat topology_cluster_name (prod)" in errors[0]


def test_every_control_plane_in_the_play_with_a_manifest():
    hosts = {"cp1": host(OLD_E), "cp2": host(OLD_E, manifest=False)}
    errors = kube_apiserver_rotation_state(hosts, store(current=OLD), request())["errors"]
    assert errors[0].startswith("kube_apiserver_encryption_rotate_confirm: the rotation must run on every control "
                                "plane, and cp3 are not in this play")  # fmt: skip
    assert errors[1].startswith("kube_apiserver_manifest_dir: cp2 hold no kube-apiserver static pod manifest")


def test_the_start_needs_the_store_key_on_every_host_and_a_new_name():
    [message] = rotation([0, 0, 0], store())["errors"]
    assert message == (f"kube_apiserver_secrets_controller_dir: {STORE}/encryption-key-secretbox does not exist: the "
                       "rotation starts from the store's key (kube_apiserver_encryption_provider names it); restore "
                       "it from your backup")  # fmt: skip
    [message] = rotation([0, 0, 0], store(current=OLD), key_name="key1")["errors"]
    assert message.startswith("kube_apiserver_encryption_rotate_key_name: the current key is already named key1")
    [message] = rotation([0, 0, 1], store(current=OLD))["errors"]
    assert message.startswith("kube_apiserver_config_dir: to start a rotation every control plane must hold the "
                              "store's key alone (secretbox key1 ")  # fmt: skip
    assert "cp3: secretbox key1 " in message
    used = store(current=OLD, _files={"encryption-key-secretbox.retired-key2": STRAY})
    [message] = rotation([0, 0, 0], used)["errors"]
    assert message.startswith("kube_apiserver_encryption_rotate_key_name: key2 was used before")
    clash = store(current=OLD, _files={"encryption-key-secretbox.retired-key1": STRAY})
    [message] = rotation([0, 0, 0], clash)["errors"]
    assert message.startswith(f"kube_apiserver_secrets_controller_dir: {STORE}/encryption-key-secretbox.retired-key1 "
                              "holds another key")  # fmt: skip


def test_a_rotation_in_progress_needs_the_current_key_and_one_target():
    [message] = rotation([1, 1, 1], store(new=NEW))["errors"]
    assert message.startswith(f"kube_apiserver_secrets_controller_dir: {STORE}/encryption-key-secretbox does not "
                              "exist while a rotation is in progress")  # fmt: skip
    other = store(current=OLD, new=NEW, _files={"encryption-key-aescbc.new": STRAY})
    [message] = rotation([1, 1, 1], other)["errors"]
    assert message.startswith("kube_apiserver_encryption_rotate_provider: a rotation to aescbc is in progress")
    assert "kube_apiserver_encryption_rotate_provider=aescbc" in message


def test_a_provider_switch_rotates_to_the_other_provider():
    aes_new = ("aescbc", "key2", NEW)
    files = {"encryption-key-secretbox": b64(OLD)}
    hosts = {f"cp{i}": host(OLD_E) for i in (1, 2, 3)}
    start = kube_apiserver_rotation_state(hosts, files, request(target_provider="aescbc"))
    assert start["step"] == "read" and start["files"]["new"] == "encryption-key-aescbc.new"
    files["encryption-key-aescbc.new"] = b64(NEW)
    hosts = {f"cp{i}": host(OLD_E, aes_new) for i in (1, 2, 3)}
    assert kube_apiserver_rotation_state(hosts, files, request(target_provider="aescbc"))["step"] == "write"
    hosts = {f"cp{i}": host(aes_new) for i in (1, 2, 3)}
    assert kube_apiserver_rotation_state(hosts, files, request(target_provider="aescbc"))["step"] == "commit"
    done = {"encryption-key-aescbc": b64(NEW), "encryption-key-aescbc.name": b64("key2")}
    assert kube_apiserver_rotation_state(hosts, done, request(target_provider="aescbc"))["step"] == "done"
    # An aescbc key of earlier days in the store is not overwritten.
    hosts = {f"cp{i}": host(OLD_E) for i in (1, 2, 3)}
    stale = {"encryption-key-secretbox": b64(OLD), "encryption-key-aescbc": b64(STRAY)}
    [message] = kube_apiserver_rotation_state(hosts, stale, request(target_provider="aescbc"))["errors"]
    assert message.startswith(f"kube_apiserver_secrets_controller_dir: {STORE}/encryption-key-aescbc exists")


def converge(hosts, stored=OLD, name="", rotations=None):
    configs = {h: b64(text(*entries)) for h, entries in hosts.items()}
    return kube_apiserver_encryption_state(configs, "secretbox", b64(stored), f"{STORE}/encryption-key-secretbox",
                                           False, b64(name) if name else "", rotations)  # fmt: skip


def test_the_converge_keeps_the_key_name_and_refuses_a_rotation_in_progress():
    assert converge({"cp1": [NEW_E]}, NEW, "key2") == {"errors": [], "action": "keep", "key": NEW, "name": "key2"}
    assert converge({"cp1": [NEW_E]}, NEW)["name"] == "key2"  # no name file: the hosts' name
    assert (
        kube_apiserver_encryption_state({"cp1": ""}, "secretbox", b64(NEW), "f", False, b64("key2\n"))["name"] == "key2"
    )
    [message] = converge({"cp1": [OLD_E]}, OLD, "key2")["errors"]
    assert message.startswith(f"kube_apiserver_secrets_controller_dir: {STORE}/encryption-key-secretbox.name names "
                              "the key key2, the control planes cp1 name it key1")  # fmt: skip
    [message] = converge({"cp1": [OLD_E]}, rotations=[f"{STORE}/encryption-key-secretbox.new"])["errors"]
    assert message.startswith("kube_apiserver_secrets_controller_dir: a key rotation is in progress")
    assert "playbooks/kube_apiserver_encryption_rotate.yml" in message
    [message] = converge({"cp1": [OLD_E, NEW_E]})["errors"]
    assert "finish it with playbooks/kube_apiserver_encryption_rotate.yml" in message


def test_files_the_rotation_cannot_handle_are_refused():
    kms = host(OLD_E)
    kms["config"] = b64(
        text(OLD_E).replace("      - identity: {}\n", "      - kms:\n          name: vault\n      - identity: {}\n")
    )
    hosts = {
        "cp1": kms,
        "cp2": {"config": b64("kind: Something\n"), "applied": "", "manifest": True},
        "cp3": host(OLD_E),
    }
    errors = kube_apiserver_rotation_state(hosts, store(current=OLD), request())["errors"]
    assert errors[0] == "kube_apiserver_config_dir: cp1 uses kms: this rotation handles aescbc and secretbox keys only"
    assert errors[1].startswith("kube_apiserver_config_dir: cp2 holds an encryption-config.yaml the role cannot read")


def test_a_store_in_an_impossible_state_is_refused():
    # The commit made the new key current, but a host still holds the old one.
    [message] = rotation([3, 3, 2], store(current=NEW, new=NEW))["errors"]
    assert message == (f"kube_apiserver_config_dir: {STORE} already holds the new key as the current one, but cp3 "
                       "do not hold it alone: repair them by hand")  # fmt: skip
    # A retired file of the current key's name that holds another key: the commit could not keep the old key.
    clash = store(current=OLD, new=NEW, _files={"encryption-key-secretbox.retired-key1": STRAY})
    [message] = rotation([2, 2, 2], clash)["errors"]
    assert message.startswith(f"kube_apiserver_secrets_controller_dir: {STORE}/encryption-key-secretbox.retired-key1 "
                              "holds another key")  # fmt: skip
    # The current key's name asked for the rotation in progress.
    [message] = rotation([1, 1, 1], key_name="key1")["errors"]
    assert message.startswith("kube_apiserver_encryption_rotate_key_name: key1 is the current key's name")
