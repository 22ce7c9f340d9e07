# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Filters of the kube_eventer role: its webhook sink option and its input checks (pure functions)."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import Problems

LEVELS = ("Normal", "Warning")
_HEADER = re.compile(r"^[A-Za-z0-9-]+$")
_KIND = re.compile(r"^[A-Z][A-Za-z0-9]*$")


def kube_eventer_sink(settings):
    """The --sink value: ``webhook:<url>?level=...&method=POST[&namespaces=..][&kinds=..][&header=k=v]...``
    (kube-eventer sinks/webhook/webhook.go reads its options from the URL's query: ``?`` starts them,
    ``&`` when the webhook URL has a query of its own)."""
    options = [f"level={settings['kube_eventer_level']}", "method=POST"]
    if settings.get("kube_eventer_namespaces"):
        options.append("namespaces=" + ",".join(settings["kube_eventer_namespaces"]))
    if settings.get("kube_eventer_kinds"):
        options.append("kinds=" + ",".join(settings["kube_eventer_kinds"]))
    for name, value in sorted((settings.get("kube_eventer_headers") or {}).items()):
        options.append(f"header={name}={quote(str(value), safe='/;+')}")
    url = settings["kube_eventer_webhook_url"]
    return f"webhook:{url}{'&' if '?' in url else '?'}" + "&".join(options)


def kube_eventer_problems(settings):
    """One message per problem in the kube_eventer role's input, each naming its variable."""
    problems = Problems()
    enabled = problems.boolean("kube_eventer_enabled", settings.get("kube_eventer_enabled"))
    if not enabled:
        return problems.messages
    url = settings.get("kube_eventer_webhook_url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
        problems.add("kube_eventer_webhook_url", "must be an http:// or https:// URL (required when enabled)", url)
    if settings.get("kube_eventer_level") not in LEVELS:
        problems.add("kube_eventer_level", f"must be one of {', '.join(LEVELS)}", settings.get("kube_eventer_level"))
    for name in ("kube_eventer_namespaces", "kube_eventer_kinds"):
        value = settings.get(name)
        if not isinstance(value, list) or any(not isinstance(v, str) or not v or "," in v or "&" in v for v in value):
            problems.add(name, "must be a list of names (no ',' or '&')", value)
    kinds = settings.get("kube_eventer_kinds")
    if isinstance(kinds, list) and any(isinstance(k, str) and k and not _KIND.match(k) for k in kinds):
        problems.add("kube_eventer_kinds", "kinds are CamelCase (Node, Pod...)", kinds)
    headers = settings.get("kube_eventer_headers")
    if not isinstance(headers, dict) or any(not _HEADER.match(str(k)) or "&" in str(v) for k, v in headers.items()):
        problems.add("kube_eventer_headers", "must map header names (A-Z, 0-9, -) to values without '&'", headers)
    return problems.messages


class FilterModule:
    def filters(self):
        return {"kube_eventer_sink": kube_eventer_sink, "kube_eventer_problems": kube_eventer_problems}
