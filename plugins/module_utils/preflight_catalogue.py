# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""The built-in catalogue: importing the check modules registers their checks."""

from __future__ import annotations

from ansible_collections.aiplatform.cluster.plugins.module_utils import (
    preflight_checks_fabric,
    preflight_checks_gpu,
    preflight_checks_gpu_perf,
    preflight_checks_host,
    preflight_checks_kubeadm,
    preflight_checks_node,
)
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_core import REGISTRY

CHECK_MODULES = (
    preflight_checks_node,
    preflight_checks_host,
    preflight_checks_gpu,
    preflight_checks_fabric,
    preflight_checks_gpu_perf,
    preflight_checks_kubeadm,
)


def catalogue():
    """A copy of the registry of built-in checks, by id."""
    return dict(REGISTRY)
