# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Filters that compare the secrets the hosts hold with the controller's stores before anything is made
(pure functions): kube-apiserver's encryption key and the etcd CA. Neither is ever made a second time
behind the user's back; every message names the variable and never shows a secret (fingerprints only)."""

from __future__ import annotations

import base64
import binascii

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


def _encryption_keys(text):
    """[(provider, secret in base64)] of an EncryptionConfiguration, in order, and the other providers
    (kms...) that are not identity; raises ValueError when the text is not one."""
    document = yaml.safe_load(text)
    if not isinstance(document, dict) or document.get("kind") != "EncryptionConfiguration":
        raise ValueError("not an EncryptionConfiguration")
    keys, others = [], []
    for entry in document.get("resources") or []:
        for provider in (entry or {}).get("providers") or []:
            for kind, body in (provider or {}).items():
                if kind in KEYED_PROVIDERS:
                    for key in (body or {}).get("keys") or []:
                        if (kind, key.get("secret")) not in keys:
                            keys.append((kind, key.get("secret")))
                elif kind != "identity" and kind not in others:
                    others.append(kind)
    return keys, others


def _hosts(names):
    return ", ".join(sorted(names))


def _refused(message):
    return {"errors": [message], "action": "", "key": ""}


def _held_keys(host_configs):
    """control plane -> (keys, others) of the hosts that hold a configuration, and the messages for those
    whose file cannot be read."""
    held, errors = {}, []
    for host, content in sorted((host_configs or {}).items()):
        text = _decode(content)
        if text is None:
            continue
        try:
            held[host] = _encryption_keys(text)
        except (ValueError, yaml.YAMLError) as error:
            errors.append(
                f"kube_apiserver_config_dir: {host} holds an encryption-config.yaml the role cannot read ({error}); "
                "it would be overwritten with a new key: repair or move it away first"
            )
    return held, errors


def _agreed_key(held, provider):
    """(message, None) when the control planes disagree or hold what one rewrite would drop, else
    (None, (hosts, kind, secret)) for the one key they all hold."""
    sets = {}
    for host, (keys, others) in held.items():
        sets.setdefault((tuple(keys), tuple(others)), []).append(host)
    if len(sets) > 1:
        described = "; ".join(
            f"{_hosts(hosts)}: " + (", ".join(f"{kind} {fingerprint(secret)}" for kind, secret in keys) or "no key")
            for (keys, _others), hosts in sets.items()
        )
        return (
            "kube_apiserver_config_dir: the control planes hold different encryption keys (sha256 fingerprints "
            f"of the base64 secrets: {described}); the role would make them one and some Secrets unreadable: "
            "make the files agree first"
        ), None
    (keys, others), hosts = next(iter(sets.items()))
    if others or len(keys) != 1:
        listed = ", ".join(f"{kind} {fingerprint(secret)}" for kind, secret in keys)
        return (
            f"kube_apiserver_config_dir: the encryption-config.yaml of {_hosts(hosts)} holds "
            f"{listed or 'no key'}{' and ' + ', '.join(others) if others else ''}; this role writes exactly one "
            f"{provider} key and would drop the others (key rotation is not done by this role yet): keep that file"
        ), None
    kind, secret = keys[0]
    if kind != provider:
        return (
            f"kube_apiserver_encryption_provider: the control planes {_hosts(hosts)} encrypt with a {kind} key; "
            f"switching to {provider} would drop the key existing Secrets are encrypted with (set it back to {kind}; "
            "changing providers needs a key rotation, not done by this role yet)"
        ), None
    return None, (hosts, kind, secret)


def _with_store(agreed, stored, store_file, adopt):
    """The hosts' one key (``agreed``: hosts, kind, secret) against the store's."""
    hosts, kind, secret = agreed
    if stored:
        encoded = base64.b64encode(stored.encode("utf-8")).decode("ascii")
        if encoded == secret:
            return {"errors": [], "action": "keep", "key": stored}
        return _refused(
            f"kube_apiserver_secrets_controller_dir: {store_file} (fingerprint {fingerprint(encoded)}) is not the "
            f"key the control planes {_hosts(hosts)} encrypt with ({fingerprint(secret)}); writing it would make "
            "every Secret unreadable: restore the controller's copy of that file from your backup, or move it away "
            "and set kube_apiserver_encryption_adopt_host_key: true to copy the hosts' key into the store"
        )
    if not adopt:
        return _refused(
            f"kube_apiserver_secrets_controller_dir: {store_file} does not exist, but the control planes "
            f"{_hosts(hosts)} hold a {kind} encryption key ({fingerprint(secret)}); the role will not make a new "
            "one (every Secret would become unreadable): restore that file from your backup, or set "
            "kube_apiserver_encryption_adopt_host_key: true to copy the hosts' key into the store"
        )
    try:
        key = base64.b64decode(secret, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError, TypeError):
        key = ""
    if not key or not key.isprintable() or key != key.strip():
        return _refused(
            f"kube_apiserver_encryption_adopt_host_key: the key the control planes {_hosts(hosts)} hold "
            f"({fingerprint(str(secret))}) is not one this role made (printable characters); place it in "
            f"{store_file} yourself"
        )
    return {"errors": [], "action": "adopt", "key": key}


def kube_apiserver_encryption_state(host_configs, provider, store_key, store_file, adopt=False):
    """What to do with kube-apiserver's encryption key, from what the control planes and the controller hold.

    ``host_configs``: control plane -> its encryption-config.yaml as slurped (base64; '' or None when it has
    none); ``provider``: kube_apiserver_encryption_provider; ``store_key``: the controller's key file as
    slurped ('' when there is none) at ``store_file``; ``adopt``: kube_apiserver_encryption_adopt_host_key.
    Returns ``{errors, action, key}``: action ``keep`` (the store's key, the hosts agree or hold none),
    ``adopt`` (the hosts' key goes into the empty store) or ``generate`` (neither holds one: make a key);
    ``key`` the key to write (empty for generate). The hosts' configuration must hold exactly one key, of
    ``provider``: a second key or another provider would be dropped by the rewrite (rotation is not done here).
    """
    stored = _decode(store_key)
    stored = stored.rstrip("\r\n") if stored is not None else None
    held, errors = _held_keys(host_configs)
    if errors:
        return {"errors": errors, "action": "", "key": ""}
    if not held:
        return {"errors": [], "action": "keep" if stored else "generate", "key": stored or ""}
    message, agreed = _agreed_key(held, provider)
    if message:
        return _refused(message)
    return _with_store(agreed, stored, store_file, as_bool(adopt) is True)


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
            "etcd_ca_problems": etcd_ca_problems,
        }
