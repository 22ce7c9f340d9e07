# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""URL filters over plugins/module_utils/urls.py (IPv6 literals in brackets)."""

from __future__ import annotations

from ansible_collections.aiplatform.cluster.plugins.module_utils.urls import host_port, join_url, url_host


class FilterModule:
    """URL building."""

    def filters(self):
        return {"url_host": url_host, "host_port": host_port, "join_url": join_url}
