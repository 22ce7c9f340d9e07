# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Filters that compare the secrets the hosts hold with the controller's stores before anything is made
(pure functions): kube-apiserver's encryption key and the etcd CA. Neither is ever made a second time
behind the user's back; every message names the variable and never shows a secret (fingerprints only)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import as_bool
from ansible_collections.aiplatform.cluster.plugins.module_utils.state_store import (
    certificate_fingerprint,
    fingerprint,
)

# Providers of an EncryptionConfiguration that hold keys (kms and identity hold none).
KEYED_PROVIDERS = ("aescbc", "aesgcm", "secretbox")


def _decode(content):
    """Text of a slurped file (base64), or None when there is none."""
    if not content:
        return None
    try:
        return base64.b64decode(content, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise AnsibleFilterError(f"not a slurped text file: {error}") from error


def _encryption_entries(text):
    """[(provider, key name, secret in base64)] of an EncryptionConfiguration, in order, and the other
    providers (kms...) that are not identity; raises ValueError when the text is not one."""
    document = yaml.safe_load(text)
    if not isinstance(document, dict) or document.get("kind") != "EncryptionConfiguration":
        raise ValueError("not an EncryptionConfiguration")
    entries, others = [], []
    for entry in document.get("resources") or []:
        for provider in (entry or {}).get("providers") or []:
            for kind, body in (provider or {}).items():
                if kind in KEYED_PROVIDERS:
                    for key in (body or {}).get("keys") or []:
                        item = (kind, str(key.get("name")), key.get("secret"))
                        if item not in entries:
                            entries.append(item)
                elif kind != "identity" and kind not in others:
                    others.append(kind)
    return entries, others


def _hosts(names):
    return ", ".join(sorted(names))


def _refused(message):
    return {"errors": [message], "action": "", "key": "", "name": ""}


def _described(entries):
    """Keys named by provider, name and fingerprint, never shown."""
    return ", ".join(f"{kind} {name} {fingerprint(secret)}" for kind, name, secret in entries) or "no key"


def _held_keys(host_configs):
    """control plane -> (entries, others) of the hosts that hold a configuration, and the messages for those
    whose file cannot be read."""
    held, errors = {}, []
    for host, content in sorted((host_configs or {}).items()):
        text = _decode(content)
        if text is None:
            continue
        try:
            held[host] = _encryption_entries(text)
        except (ValueError, yaml.YAMLError) as error:
            errors.append(
                f"kube_apiserver_config_dir: {host} holds an encryption-config.yaml the role cannot read ({error}); "
                "it would be overwritten with a new key: repair or move it away first"
            )
    return held, errors


def _agreed_key(held, provider):
    """(message, None) when the control planes disagree or hold what one rewrite would drop, else
    (None, (hosts, kind, name, secret)) for the one key they all hold."""
    sets = {}
    for host, (entries, others) in held.items():
        sets.setdefault((tuple(entries), tuple(others)), []).append(host)
    if len(sets) > 1:
        described = "; ".join(f"{_hosts(hosts)}: {_described(entries)}" for (entries, _others), hosts in sets.items())
        return (
            "kube_apiserver_config_dir: the control planes hold different encryption keys (sha256 fingerprints "
            f"of the base64 secrets: {described}); the role would make them one and some Secrets unreadable: "
            "make the files agree first (a key rotation left half done: finish it with "
            "playbooks/kube_apiserver_encryption_rotate.yml)"
        ), None
    (entries, others), hosts = next(iter(sets.items()))
    if others or len(entries) != 1:
        listed = _described(entries) if entries else ""
        return (
            f"kube_apiserver_config_dir: the encryption-config.yaml of {_hosts(hosts)} holds "
            f"{listed or 'no key'}{' and ' + ', '.join(others) if others else ''}; this role writes exactly one "
            f"{provider} key and would drop the others: keep that file (a key rotation in progress: finish it "
            "with playbooks/kube_apiserver_encryption_rotate.yml)"
        ), None
    kind, name, secret = entries[0]
    if kind != provider:
        return (
            f"kube_apiserver_encryption_provider: the control planes {_hosts(hosts)} encrypt with a {kind} key; "
            f"switching to {provider} would drop the key existing Secrets are encrypted with (set it back to {kind}; "
            "to change providers, rotate the key with playbooks/kube_apiserver_encryption_rotate.yml and "
            "kube_apiserver_encryption_rotate_provider)"
        ), None
    return None, (hosts, kind, name, secret)


def _with_store(agreed, stored, store_file, adopt, store_name):
    """The hosts' one key (``agreed``: hosts, kind, name, secret) against the store's key and its name."""
    hosts, kind, name, secret = agreed
    if stored:
        encoded = base64.b64encode(stored.encode("utf-8")).decode("ascii")
        if encoded != secret:
            return _refused(
                f"kube_apiserver_secrets_controller_dir: {store_file} (fingerprint {fingerprint(encoded)}) is not "
                f"the key the control planes {_hosts(hosts)} encrypt with ({fingerprint(secret)}); writing it would "
                "make every Secret unreadable: restore the controller's copy of that file from your backup, or move "
                "it away and set kube_apiserver_encryption_adopt_host_key: true to copy the hosts' key into the store"
            )
        if store_name and store_name != name:
            return _refused(
                f"kube_apiserver_secrets_controller_dir: {store_file}.name names the key {store_name}, the control "
                f"planes {_hosts(hosts)} name it {name} (the name is written into every encrypted Secret): restore "
                "that file from your backup, or write the hosts' name into it"
            )
        return {"errors": [], "action": "keep", "key": stored, "name": name}
    if not adopt:
        return _refused(
            f"kube_apiserver_secrets_controller_dir: {store_file} does not exist, but the control planes "
            f"{_hosts(hosts)} hold a {kind} encryption key ({fingerprint(secret)}); the role will not make a new "
            "one (every Secret would become unreadable): restore that file from your backup, or set "
            "kube_apiserver_encryption_adopt_host_key: true to copy the hosts' key into the store"
        )
    key = _printable_key(secret)
    if not key:
        return _refused(
            f"kube_apiserver_encryption_adopt_host_key: the key the control planes {_hosts(hosts)} hold "
            f"({fingerprint(str(secret))}) is not one this role made (printable characters); place it in "
            f"{store_file} yourself"
        )
    return {"errors": [], "action": "adopt", "key": key, "name": name}


def _printable_key(secret):
    """The key of a base64 secret when it is one this role made (printable, no surrounding blanks), else ''."""
    try:
        key = base64.b64decode(secret, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError, TypeError):
        return ""
    return key if key and key.isprintable() and key == key.strip() else ""


def _stored_text(content):
    text = _decode(content)
    return text.rstrip("\r\n") if text is not None else None


def kube_apiserver_encryption_state(  # noqa: PLR0917 - a filter's arguments are positional in Jinja
    host_configs, provider, store_key, store_file, adopt=False, store_name="", rotations=None
):
    """What to do with kube-apiserver's encryption key, from what the control planes and the controller hold.

    ``host_configs``: control plane -> its encryption-config.yaml as slurped (base64; '' or None when it has
    none); ``provider``: kube_apiserver_encryption_provider; ``store_key``: the controller's key file as
    slurped ('' when there is none) at ``store_file``; ``adopt``: kube_apiserver_encryption_adopt_host_key;
    ``store_name``: ``<store_file>.name`` as slurped ('' when absent: the key is named key1); ``rotations``:
    the store's ``encryption-key-*.new`` files (a key rotation in progress: refused, the rotation playbook
    finishes it). Returns ``{errors, action, key, name}``: action ``keep`` (the store's key, the hosts agree
    or hold none), ``adopt`` (the hosts' key goes into the empty store) or ``generate`` (neither holds one:
    make a key); ``key`` the key to write (empty for generate), ``name`` its name in the configuration. The
    hosts' configuration must hold exactly one key, of ``provider``: a second key or another provider would
    be dropped by the rewrite (playbooks/kube_apiserver_encryption_rotate.yml changes keys).
    """
    if rotations:
        return _refused(
            f"kube_apiserver_secrets_controller_dir: a key rotation is in progress ({', '.join(sorted(rotations))}); "
            "this role writes one key and would undo it: finish it with playbooks/kube_apiserver_encryption_rotate.yml "
            "(docs/kube-apiserver.md#rotating-the-encryption-key), then run this again"
        )
    stored = _stored_text(store_key)
    named = (_stored_text(store_name) or "").strip()
    held, errors = _held_keys(host_configs)
    if errors:
        return {"errors": errors, "action": "", "key": "", "name": ""}
    if not held:
        if stored:
            return {"errors": [], "action": "keep", "key": stored, "name": named or "key1"}
        return {"errors": [], "action": "generate", "key": "", "name": "key1"}
    message, agreed = _agreed_key(held, provider)
    if message:
        return _refused(message)
    return _with_store(agreed, stored, store_file, as_bool(adopt) is True, named)


# The rotation's steps in order (playbooks/kube_apiserver_encryption_rotate.yml): every control plane reads
# the new key, every one writes with it, every Secret is rewritten, the old key is dropped, the store commits.
ROTATION_STEPS = ("read", "write", "rewrite", "drop", "commit", "done")
# What a control plane's file holds at each stage of a rotation (old, new: the keys).
_STAGES = ("the old key alone", "read: old key first, new key second", "write: new key first, old key second",
           "the new key alone")  # fmt: skip
_KEY_NAME = re.compile(r"^[a-z0-9](?:[-a-z0-9]{0,38}[a-z0-9])?$")
_ROTATION_PROVIDERS = ("aescbc", "secretbox")


def _rotation_refused(errors):
    return {"errors": errors, "step": "", "make_key": False, "old": None, "new": None, "configs": {}, "stages": {},
            "files": {}}  # fmt: skip


def _rotation_request_errors(request, hosts):
    """Messages on the request itself and on the hosts the play covers (before any file is compared)."""
    errors = []
    cluster = str(request.get("cluster_name", ""))
    if str(request.get("confirm", "")) != cluster:
        errors.append(
            f"kube_apiserver_encryption_rotate_confirm: must repeat topology_cluster_name ({cluster}) to confirm "
            "the key rotation, which restarts every kube-apiserver and rewrites every Secret"
        )
    target = request.get("target_provider") or request.get("provider")
    if target not in _ROTATION_PROVIDERS:
        errors.append(f"kube_apiserver_encryption_rotate_provider: must be aescbc or secretbox (got {target!r})")
    name = str(request.get("key_name", ""))
    if not _KEY_NAME.match(name):
        errors.append(
            "kube_apiserver_encryption_rotate_key_name: must name the new key: 1 to 40 of a-z, 0-9 and '-', "
            f"starting and ending with a letter or digit, e.g. key2 (got {name!r})"
        )
    wild = [resource for resource in request.get("resources") or [] if "*" in str(resource)]
    if wild:
        errors.append(
            f"kube_apiserver_encryption_resources: the rotation rewrites each resource by name, and {', '.join(wild)} "
            "is a wildcard: list the resources explicitly"
        )
    if request.get("kubeconfig_exists") is False:
        errors.append(
            f"kube_apiserver_encryption_rotate_kubeconfig: {request.get('kubeconfig', '')} does not exist on the "
            "controller: the rotation rewrites the Secrets and waits for each restarted kube-apiserver with it"
        )
    missing = sorted(set(request.get("control_planes") or []) - set(hosts))
    if missing:
        errors.append(
            f"kube_apiserver_encryption_rotate_confirm: the rotation must run on every control plane, and "
            f"{_hosts(missing)} are not in this play (--limit, or unreachable): a kube-apiserver without the new key "
            "cannot read the Secrets the others write with it"
        )
    bare = sorted(host for host, state in hosts.items() if not state.get("manifest"))
    if bare:
        errors.append(
            f"kube_apiserver_manifest_dir: {_hosts(bare)} hold no kube-apiserver static pod manifest (nor one set "
            "aside): the rotation restarts each kube-apiserver by moving its manifest aside and back"
        )
    return errors


def _rotation_hosts(hosts):
    """host -> (entries, applied) and the messages for hosts whose file is missing, unreadable or not only keys."""
    held, errors = {}, []
    for host, state in sorted(hosts.items()):
        text = _decode(state.get("config"))
        if text is None:
            errors.append(
                f"kube_apiserver_config_dir: {host} holds no encryption-config.yaml: run playbooks/kube_apiserver.yml "
                "first, then the rotation"
            )
            continue
        try:
            entries, others = _encryption_entries(text)
        except (ValueError, yaml.YAMLError) as error:
            errors.append(f"kube_apiserver_config_dir: {host} holds an encryption-config.yaml the role cannot read "
                          f"({error}): repair it first")  # fmt: skip
            continue
        if others:
            errors.append(f"kube_apiserver_config_dir: {host} uses {', '.join(others)}: this rotation handles "
                          "aescbc and secretbox keys only")  # fmt: skip
            continue
        marker = _decode(state.get("applied")) or ""
        applied = marker.strip() == hashlib.sha256(text.encode("utf-8")).hexdigest()
        held[host] = (entries, applied)
    return held, errors


def _store_text(files, name):
    return _stored_text(files.get(name)) if name in files else None


def _rotation_step(stages, applied):
    """The first step to run from each host's stage (0-3) and whether its kube-apiserver runs that file, or
    None when the hosts are further apart than the rotation ever leaves them."""
    low, high = min(stages.values()), max(stages.values())
    if high - low > 1:
        return None
    if low != high:
        return ("read", "write", "drop")[high - 1]
    if low == 0:
        return "read"
    if all(applied.values()):
        return ("write", "rewrite", "commit")[low - 1]
    return ("read", "write", "drop")[low - 1]


def _key(provider, name, key):
    return {"provider": provider, "name": name, "key": key}


def _entry(key):
    return (key["provider"], key["name"], base64.b64encode(key["key"].encode("utf-8")).decode("ascii"))


def _stage_errors(held, old, new, store_dir):
    """host -> stage (0-3) and the messages for hosts whose keys are none of the rotation's stages."""
    expected = [[_entry(old)], [_entry(old), _entry(new)], [_entry(new), _entry(old)], [_entry(new)]]
    stages, errors = {}, []
    for host, (entries, _applied) in sorted(held.items()):
        if entries in expected:
            stages[host] = expected.index(entries)
            continue
        renamed = [name for kind, name, secret in entries if (kind, secret) == (new["provider"], _entry(new)[2])]
        if renamed and renamed[0] != new["name"]:
            errors.append(
                f"kube_apiserver_encryption_rotate_key_name: the rotation in progress names the new key "
                f"{renamed[0]} on {host} (not {new['name']}): run it again with "
                f"kube_apiserver_encryption_rotate_key_name={renamed[0]}"
            )
            continue
        errors.append(
            f"kube_apiserver_config_dir: {host} holds {_described(entries)}, none of the stages of the rotation from "
            f"{_described([_entry(old)])} to {_described([_entry(new)])} (the keys in {store_dir}): repair it by hand"
        )
    return stages, errors


def _rotation_start(held, files, names, request):
    """No rotation in progress: done already, or the start (every host on the store's key alone)."""
    provider, target, key_name = names["provider"], names["target_provider"], names["key_name"]
    current, target_key = _store_text(files, names["current"]), _store_text(files, names["target"])
    current_name = (_store_text(files, names["current_name"]) or "").strip() or "key1"
    target_name = (_store_text(files, names["target_name"]) or "").strip() or "key1"
    store_dir = request.get("store_dir", "")
    # Done: the store's current key carries the name a rotation's commit wrote (key1, the name of a key the
    # role made, is never the end of a rotation).
    done = target_key and names["target_name"] in files and target_name == key_name
    if done and all(entries == [_entry(_key(target, key_name, target_key))] for entries, _applied in held.values()):
        return {"step": "done", "make_key": False, "old": None, "new": _key(target, key_name, target_key)}, []
    if current is None:
        return None, [f"kube_apiserver_secrets_controller_dir: {store_dir}/{names['current']} does not exist: the "
                      "rotation starts from the store's key (kube_apiserver_encryption_provider names it); restore "
                      "it from your backup"]  # fmt: skip
    old = _key(provider, current_name, current)
    errors = []
    if key_name == current_name and provider == target:
        errors.append(f"kube_apiserver_encryption_rotate_key_name: the current key is already named {key_name}: "
                      "choose a name not used before (the name is written into every encrypted Secret)")  # fmt: skip
    wrong = sorted(host for host, (entries, _applied) in held.items() if entries != [_entry(old)])
    if wrong:
        described = "; ".join(f"{host}: {_described(held[host][0])}" for host in wrong)
        errors.append(
            f"kube_apiserver_config_dir: to start a rotation every control plane must hold the store's key alone "
            f"({_described([_entry(old)])}), and {described}: run playbooks/kube_apiserver.yml or repair them first"
        )
    if target != provider and target_key is not None:
        errors.append(f"kube_apiserver_secrets_controller_dir: {store_dir}/{names['target']} exists ({target} key "
                      f"{fingerprint(target_key)}): move it away before rotating to {target}")  # fmt: skip
    if f"encryption-key-{target}.retired-{key_name}" in files:
        errors.append(f"kube_apiserver_encryption_rotate_key_name: {key_name} was used before (encryption-key-"
                      f"{target}.retired-{key_name} in {store_dir}): choose a new name")  # fmt: skip
    retired = _store_text(files, names["retired"])
    if retired is not None and retired != current:
        errors.append(f"kube_apiserver_secrets_controller_dir: {store_dir}/{names['retired']} holds another key "
                      f"({fingerprint(retired)}) than the current one: move it away")  # fmt: skip
    return {"step": "read", "make_key": True, "old": old, "new": _key(target, key_name, "")}, errors


def _rotation_committed(held, current, new, names, store_dir):
    """The store's commit ran (the new key is the current one): every host must hold the new key alone."""
    wrong = sorted(host for host, (entries, _applied) in held.items() if entries != [_entry(new)])
    if wrong:
        return None, [f"kube_apiserver_config_dir: {store_dir} already holds the new key as the current one, but "
                      f"{_hosts(wrong)} do not hold it alone: repair them by hand"]  # fmt: skip
    old = _key(names["provider"], "", current) if current is not None and current != new["key"] else None
    return {"step": "commit", "make_key": False, "old": old, "new": new}, []


def _rotation_progress(held, files, names, request):
    """A rotation in progress (the store's .new key): each host's stage and the step to continue with."""
    store_dir = request.get("store_dir", "")
    new = _key(names["target_provider"], names["key_name"], _store_text(files, names["new"]))
    current, retired = _store_text(files, names["current"]), _store_text(files, names["retired"])
    if _store_text(files, names["target"]) == new["key"]:
        return _rotation_committed(held, current, new, names, store_dir)
    errors = []
    if current is None:
        errors.append(f"kube_apiserver_secrets_controller_dir: {store_dir}/{names['current']} does not exist while "
                      "a rotation is in progress: restore it from your backup (old Secrets need it)")  # fmt: skip
    elif retired is not None and retired != current:
        errors.append(f"kube_apiserver_secrets_controller_dir: {store_dir}/{names['retired']} holds another key "
                      f"({fingerprint(retired)}) than the current one: move it away")  # fmt: skip
    old = _key(names["provider"], (_store_text(files, names["current_name"]) or "").strip() or "key1", current or "")
    if (old["provider"], old["name"]) == (new["provider"], new["name"]):
        errors.append(f"kube_apiserver_encryption_rotate_key_name: {new['name']} is the current key's name: give "
                      "the rotation in progress the name it was started with")  # fmt: skip
    if errors:
        return None, errors
    stages, errors = _stage_errors(held, old, new, store_dir)
    step = _rotation_step(stages, {host: applied for host, (_entries, applied) in held.items()}) if stages else None
    if step is None and not errors:
        described = "; ".join(f"{host}: {_STAGES[stage]}" for host, stage in sorted(stages.items()))
        errors.append(f"kube_apiserver_config_dir: the control planes are further apart than the rotation ever "
                      f"leaves them ({described}): repair them by hand")  # fmt: skip
    if errors:
        return None, errors
    return {"step": step, "make_key": False, "old": old, "new": new, "stages": stages}, []


def kube_apiserver_rotation_state(hosts, store_files, request):
    """Where a rotation of kube-apiserver's encryption key stands, read from the control planes and the store.

    ``hosts``: control plane -> {config: its encryption-config.yaml as slurped ('' when absent), applied: its
    encryption-config.yaml.applied as slurped (the sha256 of the file its kube-apiserver was restarted with),
    manifest: whether its static pod manifest (or the copy set aside) exists}; ``store_files``: file name ->
    content as slurped, for the store's encryption-key-* files; ``request``: {provider
    (kube_apiserver_encryption_provider), target_provider (kube_apiserver_encryption_rotate_provider, '' for
    the same), key_name, confirm, cluster_name (topology_cluster_name), store_dir, control_planes (every host of
    the control plane group), resources (kube_apiserver_encryption_resources), kubeconfig and kubeconfig_exists
    (kube_apiserver_encryption_rotate_kubeconfig)}.

    Returns {errors, step, make_key, old, new, configs, stages, files}: ``step`` the first step to run (read,
    write, rewrite, drop, commit, or done: nothing to do); ``make_key`` when the new key is to be made; ``old``
    and ``new`` {provider, name, key} (secrets); ``configs`` the keys each phase writes (read: old then new,
    write: new then old, drop: new); ``files`` the store's file names. Messages name the variable and show
    keys by fingerprint only.
    """
    request = dict(request or {})
    hosts = dict(hosts or {})
    files = {str(name): content for name, content in (store_files or {}).items()}
    errors = _rotation_request_errors(request, hosts)
    if errors:
        return _rotation_refused(errors)
    provider = request["provider"]
    target = request.get("target_provider") or provider
    names = {
        "provider": provider,
        "target_provider": target,
        "key_name": request["key_name"],
        "current": f"encryption-key-{provider}",
        "current_name": f"encryption-key-{provider}.name",
        "target": f"encryption-key-{target}",
        "target_name": f"encryption-key-{target}.name",
        "new": f"encryption-key-{target}.new",
    }
    current_name = (_store_text(files, names["current_name"]) or "").strip() or "key1"
    names["retired"] = f"encryption-key-{provider}.retired-{current_name}"
    others = sorted(name for name in files if name.endswith(".new") and name != names["new"])
    if others:
        other = others[0][len("encryption-key-") : -len(".new")]
        return _rotation_refused([
            f"kube_apiserver_encryption_rotate_provider: a rotation to {other} is in progress ({others[0]} in "
            f"{request.get('store_dir', '')}): finish it with kube_apiserver_encryption_rotate_provider={other}"
        ])  # fmt: skip
    held, errors = _rotation_hosts(hosts)
    if errors:
        return _rotation_refused(errors)
    if names["new"] in files:
        plan, errors = _rotation_progress(held, files, names, request)
    else:
        plan, errors = _rotation_start(held, files, names, request)
    if errors:
        return _rotation_refused(errors)
    old, new = plan["old"], plan["new"]
    configs = {"read": [old, new], "write": [new, old], "drop": [new]} if old and old.get("name") else {"drop": [new]}
    return {
        "errors": [],
        "step": plan["step"],
        "make_key": plan["make_key"],
        "old": old,
        "new": new,
        "configs": configs,
        "stages": plan.get("stages", {}),
        "files": {key: value for key, value in names.items() if key not in ("provider", "target_provider", "key_name")},
    }


def etcd_ca_problems(  # noqa: PLR0917 - a filter's arguments are positional in Jinja
    host_certificates, store_certificate, store_has_key, store_dir, host_path, variable="etcd_pki_controller_dir"
):
    """Messages when the members hold an etcd CA the controller's store does not (the role would make a
    second CA and reissue every certificate).

    ``host_certificates``: member -> its CA certificate as slurped (base64; '' or None when it has none);
    ``store_certificate``: the store's ``ca.crt`` as slurped ('' when absent), ``store_has_key``: whether
    ``ca.key`` is there (None: not needed, not checked); ``store_dir``: the store, ``variable`` the variable
    that names it (etcd_pki_controller_dir, or kube_apiserver_etcd_pki_controller_dir for the copies on the
    control planes); ``host_path``: the CA file on the hosts.
    """
    held = {}
    for host, content in sorted((host_certificates or {}).items()):
        text = _decode(content)
        if text is not None:
            held.setdefault(certificate_fingerprint(text) or "unreadable", []).append(host)
    stored_text = _decode(store_certificate)
    stored = certificate_fingerprint(stored_text) if stored_text is not None else None
    errors = []
    if stored_text is not None and stored is None:
        errors.append(f"{variable}: {store_dir}/ca.crt is not a certificate: restore it from your backup")
    if stored and store_has_key is not None and as_bool(store_has_key) is not True:
        errors.append(
            f"{variable}: {store_dir}/ca.crt has no ca.key beside it; the role cannot sign with it "
            "and will not make a new CA: restore ca.key from your backup"
        )
    foreign = {print_: hosts for print_, hosts in held.items() if print_ != stored}
    for print_, hosts in sorted(foreign.items()):
        if stored is None:
            errors.append(
                f"{variable}: {store_dir} has no etcd CA, but {_hosts(hosts)} hold one at {host_path} "
                f"(SHA-256 {print_}); nothing is made or copied next to a CA in use (a second CA would mean "
                "reissuing every certificate): restore ca.crt and ca.key (and the certificates) into that folder "
                f"from your backup, or point {variable} at the folder that has them"
            )
        else:
            errors.append(
                f"{variable}: {_hosts(hosts)} hold an etcd CA at {host_path} (SHA-256 {print_}) that "
                f"is not the one in {store_dir} ({stored}); the role will not replace a running cluster's CA: "
                f"point {variable} at the folder that has theirs"
            )
    return errors


class FilterModule:
    def filters(self):
        return {
            "kube_apiserver_encryption_state": kube_apiserver_encryption_state,
            "kube_apiserver_rotation_state": kube_apiserver_rotation_state,
            "etcd_ca_problems": etcd_ca_problems,
        }
