# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Cross-field rules of the node_preflight role (pure; types are in its argument spec)."""

from __future__ import annotations

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_core import PROFILES
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_custom import declarative_checks
from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import Problems


def node_preflight_problems(settings):
    """One message per problem in the role's input (its variables, typed), each naming the variable."""
    problems = Problems()
    get = settings.get
    unknown = [name for name in get("node_preflight_profiles") or [] if name not in PROFILES]
    if unknown:
        problems.add(
            "node_preflight_profiles",
            f"must be among {', '.join(PROFILES)} (the topology parts and gpu_burnin)",
            unknown,
        )
    report_dir = get("node_preflight_report_dir")
    if get("node_preflight_write_reports") and not str(report_dir or "").startswith("/"):
        problems.add(
            "node_preflight_report_dir", "must be an absolute path when node_preflight_write_reports", report_dir
        )
    source = get("node_preflight_site_checks_src") or ""
    if source and not source.startswith("/"):
        problems.add("node_preflight_site_checks_src", "must be empty or an absolute path", source)
    timeout = get("node_preflight_command_timeout")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        problems.add("node_preflight_command_timeout", "must be a number of seconds above 0", timeout)
    for index, spec in enumerate(get("node_preflight_custom_checks") or []):
        try:
            declarative_checks([spec])
        except (ValueError, AttributeError) as exc:
            problems.add(f"node_preflight_custom_checks[{index}]", str(exc))
    return problems.messages


class FilterModule:
    """node_preflight filters."""

    def filters(self):
        return {"node_preflight_problems": node_preflight_problems}
