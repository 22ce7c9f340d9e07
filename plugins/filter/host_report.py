# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Filters that turn gathered facts into the host report (pure functions, no I/O)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.cluster.plugins.module_utils.addresses import host_address
from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import Problems

REPORT_COLUMNS = (
    ("host", "host"),
    ("parts", "parts"),
    ("address", "address"),
    ("os", "os"),
    ("kernel", "kernel"),
    ("cpus", "cpus"),
    ("memory_mb", "memory MiB"),
    ("service_mgr", "init"),
)


def part_label(part):
    """The name a topology part has in the report: the part, or etcd:<cluster> for an etcd cluster."""
    return f"etcd:{part['cluster']}" if part.get("cluster") else str(part["part"])


def _labels(parts):
    if not isinstance(parts, (list, tuple)) or not all(
        isinstance(p, dict) and "part" in p and "group" in p for p in parts
    ):
        raise AnsibleFilterError("host_report: parts must be the topology_parts list ({part, group[, cluster]})")
    return [(part_label(p), p["group"]) for p in parts]


def host_summary(facts, hostname, group_names, parts):
    """Summarise one host's facts: the fields the host report shows.

    ``facts`` is the host's ``ansible_facts`` (gathered with at least the default subset),
    ``group_names`` the host's groups, ``parts`` the topology contract's parts (the topology_parts filter):
    the host's parts are those whose group it is in, in the contract's order.
    """
    if not isinstance(facts, dict):
        raise AnsibleFilterError(f"host_summary: facts for {hostname} must be a dict, got {type(facts).__name__}")
    if not isinstance(group_names, (list, tuple)):
        raise AnsibleFilterError(f"host_summary: group_names for {hostname} must be a list")
    labels = [label for label, group in _labels(parts) if group in group_names]
    distribution = " ".join(str(p) for p in (facts.get("distribution"), facts.get("distribution_version")) if p)
    return {
        "host": str(hostname),
        "parts": labels,
        "address": host_address({"ansible_facts": facts}) or "",
        "os": distribution,
        "kernel": facts.get("kernel", ""),
        "cpus": facts.get("processor_vcpus") or facts.get("processor_count") or 0,
        "memory_mb": facts.get("memtotal_mb", 0),
        "service_mgr": facts.get("service_mgr", ""),
    }


def host_report_table(summaries):
    """Render host summaries as a Markdown table (a list of lines), sorted by host name."""
    if not isinstance(summaries, (list, tuple)):
        raise AnsibleFilterError("host_report_table: expects a list of host summaries")
    header = [title for _key, title in REPORT_COLUMNS]
    rows = []
    for summary in sorted(summaries, key=lambda s: str(s.get("host", ""))):
        row = []
        for key, _title in REPORT_COLUMNS:
            value = summary.get(key, "")
            if isinstance(value, (list, tuple)):
                value = ",".join(str(v) for v in value) or "-"
            row.append(str(value) if value != "" else "-")
        rows.append(row)
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells):
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

    return [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows]


def part_counts(summaries, parts):
    """Count hosts per topology part (etcd per cluster): {label: n}, every part present, in contract order."""
    counts = {label: 0 for label, _group in _labels(parts)}
    for summary in summaries:
        for label in summary.get("parts", []):
            if label in counts:
                counts[label] += 1
    return counts


def host_report_problems(settings):
    """One message per problem in the host_report role's input (its variables, typed)."""
    problems = Problems()
    report_dir = settings.get("host_report_dir")
    if settings.get("host_report_write_files") and not str(report_dir or "").startswith("/"):
        problems.add("host_report_dir", "must be an absolute path when host_report_write_files", report_dir)
    return problems.messages


class FilterModule:
    """Host report filters."""

    def filters(self):
        return {
            "host_summary": host_summary,
            "host_report_table": host_report_table,
            "part_counts": part_counts,
            "host_report_problems": host_report_problems,
        }
