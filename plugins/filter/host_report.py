# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Filters that turn gathered facts into the host report (pure functions, no I/O)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

# The inventory groups the roles read (docs/inventory.md), in the order the report shows them.
CONTRACT_GROUPS = ("etcd_main", "etcd_events", "kube_control_plane", "kube_node", "gpu")

REPORT_COLUMNS = (
    ("host", "host"),
    ("groups", "groups"),
    ("address", "address"),
    ("os", "os"),
    ("kernel", "kernel"),
    ("cpus", "cpus"),
    ("memory_mb", "memory MiB"),
    ("service_mgr", "init"),
)


def host_summary(facts, hostname, group_names, contract_groups=CONTRACT_GROUPS):
    """Summarise one host's facts: the fields the host report shows.

    ``facts`` is the host's ``ansible_facts`` (gathered with at least the default subset),
    ``group_names`` the host's groups; only groups in ``contract_groups`` are reported.
    """
    if not isinstance(facts, dict):
        raise AnsibleFilterError(f"host_summary: facts for {hostname} must be a dict, got {type(facts).__name__}")
    if not isinstance(group_names, (list, tuple)):
        raise AnsibleFilterError(f"host_summary: group_names for {hostname} must be a list")
    groups = [g for g in contract_groups if g in group_names]
    distribution = " ".join(str(p) for p in (facts.get("distribution"), facts.get("distribution_version")) if p)
    return {
        "host": str(hostname),
        "groups": groups,
        "address": (facts.get("default_ipv4") or {}).get("address", ""),
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


def group_counts(summaries, contract_groups=CONTRACT_GROUPS):
    """Count hosts per contract group: {group: n}, every contract group present."""
    counts = {group: 0 for group in contract_groups}
    for summary in summaries:
        for group in summary.get("groups", []):
            if group in counts:
                counts[group] += 1
    return counts


class FilterModule:
    """Host report filters."""

    def filters(self):
        return {
            "host_summary": host_summary,
            "host_report_table": host_report_table,
            "group_counts": group_counts,
        }
