"""Unit tests for the host report filters."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.cluster.plugins.filter.host_report import (
    FilterModule,
    group_counts,
    host_report_table,
    host_summary,
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


def test_summary_keeps_only_contract_groups_in_contract_order():
    summary = host_summary(FACTS, "gpu7", ["ungrouped_extra", "gpu", "kube_node", "rack12"])
    assert summary["groups"] == ["kube_node", "gpu"]
    assert summary == {
        "host": "gpu7",
        "groups": ["kube_node", "gpu"],
        "address": "10.0.0.5",
        "os": "Debian 12.7",
        "kernel": "6.1.0-25-amd64",
        "cpus": 64,
        "memory_mb": 515000,
        "service_mgr": "systemd",
    }


def test_summary_tolerates_missing_facts():
    summary = host_summary({"processor_count": 2}, "bare", [])
    assert summary["address"] == ""
    assert summary["os"] == ""
    assert summary["cpus"] == 2
    assert summary["groups"] == []


def test_summary_honours_custom_groups():
    assert host_summary(FACTS, "h", ["b", "a"], ["a", "b"])["groups"] == ["a", "b"]


@pytest.mark.parametrize(("facts", "groups"), [("not a dict", []), (FACTS, "gpu")])
def test_summary_rejects_bad_input(facts, groups):
    with pytest.raises(AnsibleFilterError, match="host_summary"):
        host_summary(facts, "h", groups)


def test_table_is_sorted_aligned_and_marks_empty_cells():
    rows = [
        host_summary(FACTS, "zeta", ["etcd_main"]),
        host_summary({}, "a", []),
    ]
    lines = host_report_table(rows)
    assert lines[0].startswith("| host ")
    assert set(lines[1]) <= {"|", "-"}
    assert lines[2].startswith("| a    | -")
    assert lines[3].startswith("| zeta | etcd_main")
    assert len({len(line) for line in lines}) == 1


def test_table_rejects_non_list():
    with pytest.raises(AnsibleFilterError):
        host_report_table({"host": "x"})


def test_group_counts_lists_every_group():
    rows = [host_summary(FACTS, f"cp{i}", ["etcd_main", "kube_control_plane"]) for i in range(3)]
    rows.append(host_summary(FACTS, "gpu1", ["kube_node", "gpu"]))
    assert group_counts(rows) == {"etcd_main": 3, "etcd_events": 0, "kube_control_plane": 3, "kube_node": 1, "gpu": 1}


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"host_summary", "host_report_table", "group_counts"}
