# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Typed values whatever their source: a list given with ``-e name=a,b`` arrives as a string."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError


def as_list(value, name="value"):
    """A list as the argument spec reads one: a list stays, a string is split on commas, empty is []."""
    if value is None:
        return []
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise AnsibleFilterError(f"{name}: must be a list (got {value!r})")


class FilterModule:
    """Typed values."""

    def filters(self):
        return {"as_list": as_list}
