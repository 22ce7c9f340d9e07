# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""A host's address from its variables, the rule every role uses: an explicit variable, else its facts."""

from __future__ import annotations


def host_address(host_vars, override=None):
    """``host_vars[override]`` when set, else the default IPv4 address of the host's gathered facts; None if neither.

    ``override`` names the role variable that pins the address (``etcd_address``, ``monitoring_address``).
    """
    host_vars = host_vars or {}
    if override and host_vars.get(override):
        return str(host_vars[override])
    facts = host_vars.get("ansible_facts") or {}
    address = (facts.get("default_ipv4") or {}).get("address")
    return str(address) if address else None
