# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""The files the node_preflight module keeps on the host in the same call as the checks: the admission
mark, the site Python checks it is given, the node exporter textfile. Small, check-mode aware helpers:
each says whether it changed (or, in check mode, would change) the host."""

from __future__ import annotations

import os
import stat
import tempfile

DIR_MODE = 0o755
FILE_MODE = 0o644


def under_root(root, path):
    """``path`` under the checks' root ("/" on real hosts, a fixture tree in tests)."""
    return path if root in ("/", "", None) else root.rstrip("/") + "/" + path.lstrip("/")


def ensure_dir(path, mode=DIR_MODE, check_mode=False):
    """Create ``path`` and its missing parents with ``mode``, and give an existing ``path`` that mode.
    True when something changed (or would)."""
    changed = False
    if not os.path.isdir(path):
        changed = True
        if not check_mode:
            missing = []
            folder = path
            while folder and not os.path.isdir(folder):
                missing.append(folder)
                folder = os.path.dirname(folder.rstrip("/"))
            os.makedirs(path, exist_ok=True)
            for created in missing:
                os.chmod(created, mode)
        return changed
    if stat.S_IMODE(os.stat(path).st_mode) != mode:
        changed = True
        if not check_mode:
            os.chmod(path, mode)
    return changed


def put_file(path, text, mode=FILE_MODE, check_mode=False):
    """Write ``text`` to ``path`` (atomically: a temporary file in the same folder, then a rename) unless it
    already holds exactly that with ``mode``. True when the file changed (or would). The folder must exist
    (or, in check mode, may be missing)."""
    data = text.encode("utf-8")
    try:
        with open(path, "rb") as handle:
            same = handle.read() == data and stat.S_IMODE(os.fstat(handle.fileno()).st_mode) == mode
    except (FileNotFoundError, NotADirectoryError):
        same = False
    if same:
        return False
    if not check_mode:
        handle, scratch = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".preflight-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.chmod(scratch, mode)
            os.replace(scratch, path)
        except BaseException:
            if os.path.exists(scratch):
                os.unlink(scratch)
            raise
    return True


def marker_text(fresh_host_checks):
    """What the admission mark says (a person finds it on the host)."""
    return f"passed aiplatform.cluster node_preflight; delete this file to run {', '.join(fresh_host_checks)} again\n"


def install_files(folder, files, check_mode=False):
    """Write ``files`` (relative path -> text) under ``folder``; True when any changed (or would)."""
    changed = ensure_dir(folder, check_mode=check_mode)
    for name in sorted(files):
        relative = os.path.normpath(name)
        if relative.startswith("..") or os.path.isabs(relative):
            raise ValueError(f"{name}: must be a path inside the folder")
        target = os.path.join(folder, relative)
        changed |= ensure_dir(os.path.dirname(target), check_mode=check_mode)
        changed |= put_file(target, files[name], check_mode=check_mode)
    return changed
