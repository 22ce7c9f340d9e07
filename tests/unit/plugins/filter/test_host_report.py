"""Unit tests for the host report filters."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.cluster.plugins.filter.host_report import (
    FilterModule,
    host_report_problems,
    host_report_table,
    host_summary,
    part_counts,
)

FACTS = {
    "distribution": "Debian",
    "distribution_version": "12.7",
    "kernel": "6.1.0-25-amd64",
    "processor_vcpus": 64,
    "memtotal_mb": 515000,
    "service_mgr": "systemd",
    "default_ipv4": {"address": "10.0.0.5"},
}
# The contract's parts as topology_parts returns them, written out (renamed groups, a third etcd cluster).
PARTS = [
    {"part": "control_plane", "group": "masters"},
    {"part": "nodes", "group": "workers"},
    {"part": "gpu", "group": "gpu_pool"},
    {"part": "monitoring", "group": "observers"},
    {"part": "etcd", "group": "etcd_a", "cluster": "main"},
    {"part": "etcd", "group": "etcd_b", "cluster": "events"},
    {"part": "etcd", "group": "etcd_c", "cluster": "leases"},
]


def test_summary_keeps_only_contract_parts_in_contract_order():
    summary = host_summary(FACTS, "gpu7", ["ungrouped_extra", "gpu_pool", "workers", "rack12", "etcd_c"], PARTS)
    assert summary == {
        "host": "gpu7",
        "parts": ["nodes", "gpu", "etcd:leases"],
        "address": "10.0.0.5",
        "os": "Debian 12.7",
        "kernel": "6.1.0-25-amd64",
        "cpus": 64,
        "memory_mb": 515000,
        "service_mgr": "systemd",
    }


def test_summary_shows_monitoring_and_each_etcd_cluster():
    summary = host_summary(FACTS, "ev1", ["etcd_b", "observers", "etcd_a"], PARTS)
    assert summary["parts"] == ["monitoring", "etcd:main", "etcd:events"]


def test_summary_tolerates_missing_facts():
    summary = host_summary({"processor_count": 2}, "bare", [], PARTS)
    assert summary["address"] == ""
    assert summary["os"] == ""
    assert summary["cpus"] == 2
    assert summary["parts"] == []


@pytest.mark.parametrize(
    ("facts", "groups", "parts"), [("not a dict", [], PARTS), (FACTS, "gpu", PARTS), (FACTS, [], ["gpu"])]
)
def test_summary_rejects_bad_input(facts, groups, parts):
    with pytest.raises(AnsibleFilterError, match="host_"):
        host_summary(facts, "h", groups, parts)


def test_table_is_sorted_aligned_and_marks_empty_cells():
    rows = [
        host_summary(FACTS, "zeta", ["etcd_a"], PARTS),
        host_summary({}, "a", [], PARTS),
    ]
    lines = host_report_table(rows)
    assert lines[0].startswith("| host ")
    assert set(lines[1]) <= {"|", "-"}
    assert lines[2].startswith("| a    | -")
    assert lines[3].startswith("| zeta | etcd:main")
    assert len({len(line) for line in lines}) == 1


def test_table_rejects_non_list():
    with pytest.raises(AnsibleFilterError):
        host_report_table({"host": "x"})


def test_part_counts_lists_every_part():
    rows = [host_summary(FACTS, f"cp{i}", ["etcd_a", "masters"], PARTS) for i in range(3)]
    rows.append(host_summary(FACTS, "gpu1", ["workers", "gpu_pool"], PARTS))
    assert part_counts(rows, PARTS) == {
        "control_plane": 3,
        "nodes": 1,
        "gpu": 1,
        "monitoring": 0,
        "etcd:main": 3,
        "etcd:events": 0,
        "etcd:leases": 0,
    }


def test_problems_name_the_variable():
    assert host_report_problems({"host_report_dir": "/tmp/r", "host_report_write_files": True}) == []
    assert host_report_problems({"host_report_dir": "reports", "host_report_write_files": False}) == []
    (message,) = host_report_problems({"host_report_dir": "reports", "host_report_write_files": True})
    assert message.startswith("host_report_dir: must be an absolute path")


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"host_summary", "host_report_table", "part_counts", "host_report_problems"}
