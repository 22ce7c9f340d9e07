# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""The one rule for a download's checksum (``<algorithm>:<hex>`` or ``<algorithm>:<URL of a checksum file>``)."""

from __future__ import annotations

import re

from ansible_collections.aiplatform.cluster.plugins.module_utils.urls import url_problem

# Algorithms accepted, with the length of their hex digest: a shorter value is a prefix, not a checksum.
HEX_LENGTHS = {"sha256": 64, "sha512": 128}
_HEX = re.compile(r"^[0-9a-fA-F]+$")


def checksum_problem(value, allow_url=True):
    """Why ``value`` is not a full checksum, or None.

    ``value`` is ``sha256:<64 hex digits>`` or ``sha512:<128 hex digits>``; with ``allow_url`` also
    ``sha256:<http(s) URL of a checksum file>`` (what ansible.builtin.get_url verifies itself). A copy from
    the controller has nothing to fetch a checksum file with: its callers pass ``allow_url=False``.
    """
    forms = " or ".join(f"{name}:<{length} hex digits>" for name, length in HEX_LENGTHS.items())
    if allow_url:
        forms += " or sha256:<URL of a checksum file>"
    text = str(value or "").strip() if not isinstance(value, bool) else ""
    algorithm, _sep, digest = text.partition(":")
    algorithm = algorithm.lower()
    if not text:
        problem = f"is required ({forms})"
    elif algorithm not in HEX_LENGTHS or not digest:
        problem = f"must name its algorithm ({forms})"
    elif "://" in digest:
        problem = _url_form_problem(digest, allow_url, forms)
    elif not _HEX.match(digest):
        problem = f"must be hexadecimal digits after '{algorithm}:' ({forms})"
    elif len(digest) != HEX_LENGTHS[algorithm]:
        problem = (
            f"has {len(digest)} hex digits; a {algorithm} digest has {HEX_LENGTHS[algorithm]} (a prefix is no checksum)"
        )
    else:
        problem = None
    return problem


def _url_form_problem(url, allow_url, forms):
    if not allow_url:
        return f"must be the digest itself here, not a URL ({forms})"
    problem = url_problem(url)
    return f"names a checksum file URL that {problem}" if problem else None
