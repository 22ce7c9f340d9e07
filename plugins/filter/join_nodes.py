# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Rules of the join_nodes role's input (pure; types are in its argument specs)."""

from __future__ import annotations

from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import Problems


def join_nodes_problems(settings):
    """One message per problem in the join_nodes role's input (its variables, typed), each naming the variable."""
    problems = Problems()
    batch = settings.get("join_nodes_batch_size")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        problems.add("join_nodes_batch_size", "must be 1 or more", batch)
    pause = settings.get("join_nodes_pause_s")
    if isinstance(pause, bool) or not isinstance(pause, int) or pause < 0:
        problems.add("join_nodes_pause_s", "must be 0 or more", pause)
    report_dir = settings.get("join_nodes_report_dir")
    if not str(report_dir or "").startswith("/"):
        problems.add("join_nodes_report_dir", "must be an absolute path", report_dir)
    return problems.messages


class FilterModule:
    """join_nodes filters."""

    def filters(self):
        return {"join_nodes_problems": join_nodes_problems}
