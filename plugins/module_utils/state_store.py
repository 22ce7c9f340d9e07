# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Controller-side secret stores (CA keys, the encryption key): where they may live, and how the secrets
on the hosts are compared with them without ever printing a secret."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re

from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import as_bool

_PEM_CERTIFICATE = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)


def git_work_tree(path):
    """The top folder of the git work tree that ``path`` (a controller path, existing or not) lies in, or ''.

    A folder holding ``.git`` (a folder, or a file as in a linked work tree or a submodule) makes a work
    tree; the walk starts at ``path`` itself and goes up to the root.
    """
    current = os.path.abspath(os.path.expanduser(str(path)))
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return ""
        current = parent


def store_problem(variable, path, work_tree, allow_in_git):
    """The message for a secret store ``variable`` at ``path`` inside the git work tree ``work_tree`` ('' when
    none), or None when the store may live there."""
    if not work_tree or allow_in_git:
        return None
    return (
        f"{variable}: {path} is inside the git work tree {work_tree}, where secrets get committed with the "
        "inventory; keep it out of version control (the default is a folder under topology_state_dir), or set "
        "topology_state_allow_in_git: true to keep it there anyway"
    )


def stores_problems(stores, allow_in_git):
    """One message per secret store inside a git work tree. ``stores``: [{variable, path, work_tree}] (the
    work tree found by the lookup aiplatform.cluster.git_work_tree); ``allow_in_git``
    (topology_state_allow_in_git, a bool or its string form from -e) lets them all be there."""
    allow = as_bool(allow_in_git) is True
    messages = []
    for store in stores or []:
        message = store_problem(store.get("variable"), store.get("path"), store.get("work_tree"), allow)
        if message:
            messages.append(message)
    return messages


def fingerprint(data):
    """A short SHA-256 fingerprint (16 hex digits) of text or bytes: names a secret without showing it."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:16]


def certificate_fingerprint(pem):
    """SHA-256 fingerprint of the first certificate in ``pem``, as ``openssl x509 -fingerprint -sha256``
    prints it (colon-separated upper-case hex), or None when ``pem`` holds no readable certificate."""
    match = _PEM_CERTIFICATE.search(pem or "")
    if not match:
        return None
    try:
        der = base64.b64decode("".join(match.group(1).split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))
