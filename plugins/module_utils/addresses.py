# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""A host's address from its variables, the rule every role uses: an explicit variable, else its facts."""

from __future__ import annotations

import ipaddress


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


def ip_problem(value):
    """Why ``value`` is not a single IP address a certificate or a listener can carry, or None.

    A DNS name is refused (an IP SAN needs the literal); so are 0.0.0.0 and :: (no host has them).
    """
    text = str(value or "").strip() if not isinstance(value, bool) else ""
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return "must be an IP address (a DNS name cannot go into the certificate's IP SANs)"
    if address.is_unspecified:
        return "must be the host's own address, not the unspecified address"
    return None
