# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Health verdict, report and defragmentation plan on statuses built from real etcdctl outputs."""

from __future__ import annotations

import copy
import json
import pathlib

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.cluster.plugins.filter.cluster_ops import (
    etcd_defrag_plan,
    etcd_health_lines,
    etcd_health_verdict,
)
from ansible_collections.aiplatform.cluster.plugins.module_utils.etcd_status import (
    parse_alarm_list,
    parse_endpoint_health,
    parse_endpoint_status,
    parse_member_list,
    summarise,
)

FIXTURES = pathlib.Path(__file__).parents[1] / "module_utils" / "fixtures" / "etcd"
MEMBERS = ["m1", "m2", "m3"]


def status_of(version, case, quota_bytes=8 * 1024**3):
    def read(name):
        return (FIXTURES / version / case / name).read_text()

    meta = json.loads(read("meta.json"))
    return summarise(
        meta["endpoints"],
        parse_member_list(read("member_list.stdout")),
        parse_endpoint_status(read("endpoint_status.stdout"), read("endpoint_status.stderr")),
        parse_endpoint_health(read("endpoint_health.stdout")),
        parse_alarm_list(read("alarm_list.stdout")),
        quota_bytes=quota_bytes,
    )


@pytest.mark.parametrize("version", ["3.4.23", "3.5.1"])
def test_healthy_cluster_passes(version):
    status = status_of(version, "healthy")
    assert etcd_health_verdict(status, MEMBERS) == {"ok": True, "problems": []}


def test_unexpected_members_fail():
    verdict = etcd_health_verdict(status_of("3.5.1", "healthy"), ["m1", "m2", "m4"])
    assert not verdict["ok"]
    assert verdict["problems"] == ["members ['m1', 'm2', 'm3'] differ from the inventory's ['m1', 'm2', 'm4']"]


def test_quota_ratio_limit():
    status = status_of("3.5.1", "healthy", quota_bytes=30000)
    verdict = etcd_health_verdict(status, MEMBERS, max_quota_ratio=0.5)
    assert not verdict["ok"]
    assert verdict["problems"][0].startswith("database at ") and "of the quota (limit 50%)" in verdict["problems"][0]


def test_drift_limits():
    status = copy.deepcopy(status_of("3.5.1", "healthy"))
    status["drift"] = {"revision": 101, "raft_index": 1001, "raft_applied_index": 0}
    verdict = etcd_health_verdict(status, MEMBERS)
    assert verdict["problems"] == [
        "revision drift 101 between members (limit 100)",
        "raft index drift 1001 between members (limit 1000)",
    ]
    assert etcd_health_verdict(status, MEMBERS, 0.8, 200, 2000)["ok"]


def test_module_problems_carry_over():
    verdict = etcd_health_verdict(status_of("3.5.1", "member_down"), MEMBERS)
    assert not verdict["ok"]
    assert "context deadline exceeded" in verdict["problems"][0]


def test_report_lines():
    status = status_of("3.5.1", "member_down")
    lines = etcd_health_lines(status, "main", etcd_health_verdict(status, MEMBERS))
    assert lines[0] == "## etcd cluster main: UNHEALTHY"
    assert any(line.startswith("- quorum: 2 of 3 voting members up (2 healthy), 2 needed") for line in lines)
    rows = [line for line in lines if line.startswith("| m") and not line.startswith("| member")]
    assert len(rows) == 3
    assert [row.split(" | ")[0] for row in rows if " | NO | " in row] == ["| m3"]
    assert lines[-2] == "Problems:"


def test_report_of_nospace_names_the_alarm():
    status = status_of("3.5.1", "nospace", quota_bytes=256 * 1024)
    lines = etcd_health_lines(status, "main", etcd_health_verdict(status, MEMBERS))
    assert any(line.startswith("- alarms: NOSPACE on m") for line in lines)
    assert any("of quota 256.0 KiB" in line for line in lines)


def test_defrag_plan_leader_last_and_threshold():
    status = status_of("3.5.1", "healthy")
    plan = etcd_defrag_plan(status, 0.2, 0)
    assert [p["is_leader"] for p in plan] == [False, False, True]
    # The healthy 3.5.1 members have 4 KiB of 20 KiB free (20%): at the threshold.
    assert all(p["defrag"] for p in plan)
    skipped = etcd_defrag_plan(status, 0.2, 16 * 1024**2)
    assert not any(p["defrag"] for p in skipped)
    assert all(p["reason"].startswith("below threshold") for p in skipped)


def test_defrag_plan_defragments_everyone_under_nospace():
    plan = etcd_defrag_plan(status_of("3.5.1", "nospace", quota_bytes=256 * 1024), 0.9, 10**9)
    assert all(p["defrag"] and p["reason"] == "NOSPACE alarm active" for p in plan)
    assert plan[-1]["is_leader"]


def test_defrag_plan_refuses_a_member_down():
    with pytest.raises(AnsibleFilterError, match="members do not answer"):
        etcd_defrag_plan(status_of("3.5.1", "member_down"))


def test_filters_reject_other_input():
    for function in (etcd_health_verdict, etcd_defrag_plan):
        with pytest.raises(AnsibleFilterError, match=r"expects the result of aiplatform\.cluster\.etcd_status"):
            function({"msg": "no"}, MEMBERS) if function is etcd_health_verdict else function({})
