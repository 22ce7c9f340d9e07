# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""etcd_status parsers and summary on real etcdctl outputs (fixtures/etcd/README.md says how each was made)."""

from __future__ import annotations

import json
import pathlib

import pytest

from ansible_collections.aiplatform.cluster.plugins.module_utils.etcd_status import (
    EtcdOutputError,
    member_id_hex,
    parse_alarm_list,
    parse_endpoint_health,
    parse_endpoint_status,
    parse_member_list,
    summarise,
)

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "etcd"
VERSIONS = ("3.4.23", "3.5.1")


def read(version, case, name):
    return (FIXTURES / version / case / name).read_text()


def status_of(version, case, quota_bytes=None):
    """What the module computes from one captured case."""
    meta = json.loads(read(version, case, "meta.json"))
    members = parse_member_list(read(version, case, "member_list.stdout"))
    statuses = parse_endpoint_status(
        read(version, case, "endpoint_status.stdout"), read(version, case, "endpoint_status.stderr")
    )
    health = parse_endpoint_health(read(version, case, "endpoint_health.stdout"))
    alarms = parse_alarm_list(read(version, case, "alarm_list.stdout"))
    return meta, summarise(meta["endpoints"], members, statuses, health, alarms, quota_bytes=quota_bytes)


@pytest.mark.parametrize("version", VERSIONS)
def test_healthy_cluster(version):
    meta, status = status_of(version, "healthy", quota_bytes=8 * 1024**3)
    assert status["healthy"], status["problems"]
    assert status["problems"] == []
    assert [m["name"] for m in status["members"]] == ["m1", "m2", "m3"]
    assert all(m["client_urls"] and m["peer_urls"] and not m["is_learner"] for m in status["members"])
    assert status["quorum"] == {"members": 3, "learners": 0, "healthy": 3, "up": 3, "needed": 2, "ok": True}
    assert status["versions"] == [version]
    assert [e["endpoint"] for e in status["endpoints"]] == meta["endpoints"]
    assert all(e["healthy"] and e["reachable"] and e["error"] is None for e in status["endpoints"])
    assert sum(e["is_leader"] for e in status["endpoints"]) == 1
    leader_row = next(e for e in status["endpoints"] if e["is_leader"])
    assert status["leader"] == {
        "id": leader_row["member_id"],
        "name": leader_row["member_name"],
        "endpoint": leader_row["endpoint"],
    }
    assert status["alarms"] == []
    # Five keys were written: revision 6 everywhere once applied.
    assert status["revision"] == 6
    assert status["drift"]["revision"] == 0
    for row in status["endpoints"]:
        assert row["db_size"] >= row["db_size_in_use"] > 0
        assert row["raft_applied_index"] <= row["raft_index"]
        assert 0 <= row["fragmentation"] < 1
        assert row["quota_ratio"] == round(row["db_size"] / (8 * 1024**3), 4)
    assert status["db"]["max_db_size"] == max(e["db_size"] for e in status["endpoints"])


@pytest.mark.parametrize("version", VERSIONS)
def test_member_ids_are_hex_and_match_between_commands(version):
    _meta, status = status_of(version, "healthy")
    ids = {m["id"] for m in status["members"]}
    assert ids == {e["member_id"] for e in status["endpoints"]}
    assert all(int(i, 16) > 0 for i in ids)
    assert status["cluster_id"] is not None


@pytest.mark.parametrize("version", VERSIONS)
def test_member_down(version):
    meta, status = status_of(version, "member_down")
    down = meta["endpoints"][2]
    assert not status["healthy"]
    row = next(e for e in status["endpoints"] if e["endpoint"] == down)
    assert not row["reachable"] and not row["healthy"]
    # Named from member list's client URLs although it does not answer.
    assert row["member_name"] == "m3" and row["member_id"] is not None
    assert "deadline exceeded" in row["error"]
    assert [e["healthy"] for e in status["endpoints"]] == [True, True, False]
    assert status["quorum"] == {"members": 3, "learners": 0, "healthy": 2, "up": 2, "needed": 2, "ok": True}
    assert status["leader"] is not None
    assert any(p.startswith(down) for p in status["problems"])


@pytest.mark.parametrize("version", VERSIONS)
def test_nospace_alarm(version):
    _meta, status = status_of(version, "nospace", quota_bytes=256 * 1024)
    assert not status["healthy"]
    assert [a["alarm"] for a in status["alarms"]] == ["NOSPACE"]
    assert status["alarms"][0]["member_name"] in {"m1", "m2", "m3"}
    assert any("alarm NOSPACE" in p for p in status["problems"])
    # The database has outgrown the quota.
    assert status["db"]["max_quota_ratio"] > 1
    # Every member reports the alarm in its status on both versions.
    assert all(any("alarm:NOSPACE" in x for x in e["errors"]) for e in status["endpoints"])
    # etcd 3.5 fails `endpoint health` while the alarm is active; 3.4 still answers healthy,
    # so the alarm list is what makes a 3.4 cluster unhealthy.
    endpoints_healthy = version.startswith("3.4")
    assert all(e["healthy"] is endpoints_healthy for e in status["endpoints"])
    if not endpoints_healthy:
        assert all("NOSPACE" in e["error"] for e in status["endpoints"])
    # The members still vote: quorum holds, so a defragmentation can run member by member.
    assert status["quorum"]["up"] == 3 and status["quorum"]["ok"]
    assert status["quorum"]["healthy"] == (3 if endpoints_healthy else 0)


@pytest.mark.parametrize("version", VERSIONS)
def test_learner_not_started(version):
    members = parse_member_list(read(version, "learner", "member_list.stdout"))
    learners = [m for m in members if m["is_learner"]]
    assert len(members) == 4 and len(learners) == 1
    assert learners[0]["started"] is False and learners[0]["name"] == "" and learners[0]["client_urls"] == []
    # A learner is not a voter: 3 healthy voters of 3 keep quorum.
    _meta, healthy = status_of(version, "healthy")
    status = summarise([], members, {}, {}, [])
    assert status["quorum"]["members"] == 3 and status["quorum"]["learners"] == 1
    assert healthy["quorum"]["learners"] == 0


@pytest.mark.parametrize("version", VERSIONS)
def test_nothing_answers(version):
    meta, status = status_of(version, "all_down")
    assert all(json.loads(read(version, "all_down", "meta.json"))[c]["rc"] == 1 for c in ("member_list", "alarm_list"))
    assert status["members"] == []
    statuses = parse_endpoint_status(
        read(version, "all_down", "endpoint_status.stdout"), read(version, "all_down", "endpoint_status.stderr")
    )
    assert sorted(statuses) == sorted(meta["endpoints"])
    assert not any(s["reachable"] for s in statuses.values())
    assert not status["healthy"] and status["leader"] is None
    assert any("member list unavailable" in p for p in status["problems"])


def test_empty_output_is_no_data():
    empty = (FIXTURES / "synthetic" / "empty.stdout").read_text()
    assert parse_member_list(empty) == []
    assert parse_endpoint_status(empty) == {}
    assert parse_endpoint_health(empty) == {}
    assert parse_alarm_list(empty) == []


@pytest.mark.parametrize("name", ["truncated_endpoint_status.stdout", "not_json.stdout"])
@pytest.mark.parametrize("parser", [parse_member_list, parse_endpoint_status, parse_endpoint_health, parse_alarm_list])
def test_malformed_output_is_an_error(name, parser):
    with pytest.raises(EtcdOutputError, match="malformed JSON"):
        parser((FIXTURES / "synthetic" / name).read_text())


def test_wrong_shape_is_an_error():
    with pytest.raises(EtcdOutputError, match="expected a JSON list"):
        parse_member_list((FIXTURES / "synthetic" / "wrong_shape_member_list.stdout").read_text())
    with pytest.raises(EtcdOutputError, match="expected a JSON list"):
        parse_endpoint_status(read("3.5.1", "healthy", "member_list.stdout"))


def test_alarm_list_without_alarms_on_34_and_35():
    for version in VERSIONS:
        assert parse_alarm_list(read(version, "healthy", "alarm_list.stdout")) == []


def test_member_id_hex():
    assert member_id_hex(1254986252977349751) == "116a9b590eb6a477"
    assert member_id_hex("116a9b590eb6a477") == "116a9b590eb6a477"
    assert member_id_hex(None) is None


def test_two_leaders_is_unhealthy():
    _meta, status = status_of("3.5.1", "healthy")
    statuses = parse_endpoint_status(read("3.5.1", "healthy", "endpoint_status.stdout"))
    first = next(iter(statuses.values()))
    first["leader_id"] = "1"
    health = parse_endpoint_health(read("3.5.1", "healthy", "endpoint_health.stdout"))
    split = summarise(list(statuses), status["members"], statuses, health, [])
    assert split["leader"] is None and not split["healthy"]
    assert any("no single leader" in p for p in split["problems"])


def test_quota_zero_means_etcd_default():
    _meta, status = status_of("3.5.1", "healthy", quota_bytes=0)
    assert status["db"]["quota_bytes"] == 2 * 1024**3
    _meta, status = status_of("3.5.1", "healthy")
    assert status["db"]["quota_bytes"] is None and status["db"]["max_quota_ratio"] is None
