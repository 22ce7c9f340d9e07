# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""CIS Kubernetes Benchmark facts the roles' problem filters share (one place for each)."""

from __future__ import annotations

# CIS 1.2 / 4.2.12: the ECDHE AEAD suites for TLS 1.2 (TLS 1.3 suites are fixed by Go and always on).
CIS_CIPHER_SUITES = (
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
)
# TLS versions Go components accept as a minimum that CIS allows.
CIS_TLS_MIN_VERSIONS = ("VersionTLS12", "VersionTLS13")
