# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Read kernel parameters from /proc/sys without changing them: value, presence and writability."""

from __future__ import annotations

import os


def sysctl_path(name, root="/proc/sys"):
    """``net.ipv4.ip_forward`` -> ``/proc/sys/net/ipv4/ip_forward`` (a ``/`` in a name stays a dot)."""
    return os.path.join(root, *name.split("."))


def probe(names, root="/proc/sys"):
    """``{name: {present, value, writable}}`` for each name.

    ``value`` is the file's content with runs of whitespace reduced to one space (as sysctl prints
    vectors such as ``ip_local_port_range``), ``None`` when absent or unreadable. ``writable`` is what
    access(2) says for the caller: false on a read-only /proc/sys (an unprivileged container) and for
    entries the kernel makes read-only in this namespace (``nf_conntrack_max`` outside the initial one).
    """
    result = {}
    for name in names:
        path = sysctl_path(name, root)
        entry = {"present": os.path.isfile(path), "value": None, "writable": False}
        if entry["present"]:
            try:
                with open(path, encoding="utf-8") as handle:
                    entry["value"] = " ".join(handle.read().split())
            except OSError:
                entry["value"] = None
            entry["writable"] = os.access(path, os.W_OK)
        result[name] = entry
    return result
