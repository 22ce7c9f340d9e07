# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Filters for API Priority and Fairness (the logic is in module_utils/apf.py, shared with kube_apiserver_problems)."""

from __future__ import annotations

from ansible_collections.aiplatform.cluster.plugins.module_utils.apf import apf_objects, apf_problems


class FilterModule:
    """API Priority and Fairness filters."""

    def filters(self):
        return {"apf_objects": apf_objects, "apf_problems": apf_problems}
