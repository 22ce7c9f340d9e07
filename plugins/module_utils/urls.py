# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""URLs from a host and a port: the one place that puts IPv6 literals in brackets (RFC 3986)."""

from __future__ import annotations

import ipaddress


def url_host(host):
    """``host`` as the host part of a URL: an IPv6 literal in brackets, anything else as given."""
    text = str(host).strip()
    if text.startswith("[") and text.endswith("]"):
        return text
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return text
    return f"[{text}]" if address.version == 6 else text


def host_port(host, port):
    """``host:port`` with an IPv6 literal in brackets (dial addresses, URL authorities)."""
    return f"{url_host(host)}:{int(port)}"


def join_url(scheme, host, port, path=""):
    """``scheme://host:port/path`` with an IPv6 literal in brackets."""
    if path and not str(path).startswith("/"):
        path = "/" + str(path)
    return f"{scheme}://{host_port(host, port)}{path}"


def url_problem(value, schemes=("https", "http")):
    """Why ``value`` is not an absolute URL with one of ``schemes`` and a host, or None."""
    text = str(value or "").strip() if not isinstance(value, bool) else ""
    scheme, sep, rest = text.partition("://")
    if not sep or not scheme:
        return f"must be an absolute URL with a scheme ({' or '.join(s + '://' for s in schemes)})"
    if scheme.lower() not in schemes:
        return f"must use {' or '.join(s + '://' for s in schemes)}, not {scheme}://"
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    if not host or any(c.isspace() for c in text):
        return "must name a host after the scheme and contain no spaces"
    return None
