# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Helm chart values the add-on roles build: the deep merge of a role's ``*_values_extra`` and the value
keys a pinned chart does not have (its key list: tests/tools/chart_keys.py). Pure functions."""

from __future__ import annotations

# Keys whose content is the user's (labels, selectors, pod fields): anything below them is accepted.
FREE_FORM = frozenset(
    ("labels", "annotations", "nodeSelector", "resources", "tolerations", "affinity", "env", "args", "securityContext")
)


def merge(base, extra):
    """``extra`` merged over ``base``: dicts key by key, anything else replaced."""
    merged = dict(base)
    for key, value in (extra or {}).items():
        merged[key] = (
            merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
        )
    return merged


def _paths(value, prefix=""):
    for key, child in value.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        yield path, key
        if isinstance(child, dict) and key not in FREE_FORM:
            yield from _paths(child, path)


def unknown_value_keys(values, known_keys):
    """Dotted paths of ``values`` the chart does not know (``known_keys``: tests/tools/chart_keys.py's list).

    A path is known when listed, or when it lies under a key whose content is the user's (FREE_FORM)
    or under a listed key the chart treats as one value (a listed key with nothing listed below it)."""
    known = set(known_keys)
    parents = {key.rsplit(".", 1)[0] for key in known if "." in key}
    unknown = []
    for path, _key in _paths(values):
        if path in known:
            continue
        parts = path.split(".")
        prefixes = [".".join(parts[:end]) for end in range(1, len(parts))]
        if any(p in known and (p not in parents or p.rsplit(".", 1)[-1] in FREE_FORM) for p in prefixes):
            continue
        unknown.append(path)
    # Only the outermost unknown path of a branch.
    return sorted(p for p in unknown if not any(p.startswith(q + ".") for q in unknown))
