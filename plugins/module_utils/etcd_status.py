# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Parse ``etcdctl -w json`` outputs (etcd 3.4 and 3.5) and summarise one cluster's status.

Pure functions, no I/O: the etcd_status module runs etcdctl and hands the outputs over; unit tests
feed real outputs captured from etcd 3.4.23 and 3.5.1.
"""

from __future__ import annotations

import json
import re

# etcdserverpb.AlarmType: etcdctl prints the number in JSON.
ALARM_NAMES = {0: "NONE", 1: "NOSPACE", 2: "CORRUPT"}
# etcd's own default when --quota-backend-bytes is 0.
DEFAULT_QUOTA_BYTES = 2 * 1024**3
# etcdctl endpoint status prints one such line on stderr per endpoint that did not answer.
_STATUS_FAILURE = re.compile(r"^Failed to get the status of endpoint (\S+) \((.*)\)\s*$", re.MULTILINE)


class EtcdOutputError(ValueError):
    """etcdctl printed something that is not the JSON it documents."""


def member_id_hex(value):
    """etcd shows member ids as lower-case hex (``etcdctl member list -w table``); JSON has decimals."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return format(int(value, 16 if not value.isdigit() else 10), "x")
    return format(int(value), "x")


def load_json(text, what):
    """The JSON document in ``text``; None when etcdctl printed nothing; EtcdOutputError when malformed."""
    if text is None or not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise EtcdOutputError(f"{what}: etcdctl printed malformed JSON ({exc}): {text.strip()[:200]}") from exc


def _expect(document, kind, what):
    if not isinstance(document, kind):
        raise EtcdOutputError(f"{what}: expected a JSON {kind.__name__}, got {type(document).__name__}")
    return document


def parse_member_list(text):
    """Members from ``member list -w json``: a list of dicts (empty when etcdctl printed nothing)."""
    document = load_json(text, "member list")
    if document is None:
        return []
    members = _expect(document, dict, "member list").get("members")
    members = _expect(members if members is not None else [], list, "member list: members")
    parsed = []
    for member in members:
        _expect(member, dict, "member list: member")
        parsed.append(
            {
                "id": member_id_hex(member.get("ID")),
                "name": member.get("name", ""),
                "peer_urls": list(member.get("peerURLs") or []),
                "client_urls": list(member.get("clientURLs") or []),
                "is_learner": bool(member.get("isLearner", False)),
                # A member added but never started has no name and no client URLs yet.
                "started": bool(member.get("name")),
            }
        )
    return sorted(parsed, key=lambda m: (m["name"] or "~", m["id"] or ""))


def parse_endpoint_status(text, stderr=""):
    """Per-endpoint status from ``endpoint status -w json``, plus the endpoints etcdctl reported on stderr
    as not answering (with their error). Returns a dict keyed by endpoint as etcdctl printed it."""
    document = load_json(text, "endpoint status")
    statuses = {}
    for entry in _expect(document if document is not None else [], list, "endpoint status"):
        _expect(entry, dict, "endpoint status: entry")
        status = _expect(entry.get("Status") or {}, dict, "endpoint status: Status")
        header = status.get("header") or {}
        statuses[entry.get("Endpoint")] = {
            "reachable": True,
            "error": None,
            "member_id": member_id_hex(header.get("member_id")),
            "cluster_id": member_id_hex(header.get("cluster_id")),
            "version": status.get("version"),
            "db_size": int(status.get("dbSize", 0)),
            # etcd before 3.4 does not report it; then the whole file counts as in use.
            "db_size_in_use": int(status.get("dbSizeInUse", status.get("dbSize", 0))),
            "leader_id": member_id_hex(status.get("leader")),
            "raft_index": int(status.get("raftIndex", 0)),
            "raft_term": int(status.get("raftTerm", 0)),
            "raft_applied_index": int(status.get("raftAppliedIndex", 0)),
            "revision": int(header.get("revision", 0)),
            "errors": [str(e).strip() for e in status.get("errors") or []],
        }
    for endpoint, error in _STATUS_FAILURE.findall(stderr or ""):
        statuses.setdefault(endpoint, {"reachable": False, "error": error})
    return statuses


def parse_endpoint_health(text):
    """Per-endpoint health from ``endpoint health -w json``: {endpoint: {healthy, error, took}}."""
    document = load_json(text, "endpoint health")
    health = {}
    for entry in _expect(document if document is not None else [], list, "endpoint health"):
        _expect(entry, dict, "endpoint health: entry")
        health[entry.get("endpoint")] = {
            "healthy": bool(entry.get("health", False)),
            "error": (entry.get("error") or "").strip() or None,
            "took": entry.get("took"),
        }
    return health


def parse_alarm_list(text):
    """Active alarms from ``alarm list -w json``: [{member_id, alarm}] (alarm as its name)."""
    document = load_json(text, "alarm list")
    if document is None:
        return []
    alarms = _expect(document, dict, "alarm list").get("alarms") or []
    parsed = []
    for alarm in _expect(alarms, list, "alarm list: alarms"):
        kind = alarm.get("alarm", 0)
        name = ALARM_NAMES.get(kind, str(kind)) if isinstance(kind, int) else str(kind)
        parsed.append({"member_id": member_id_hex(alarm.get("memberID")), "alarm": name})
    return parsed


def _normalise(endpoint):
    """Endpoints compare without scheme or trailing slash (etcdctl echoes what it was given)."""
    endpoint = str(endpoint or "")
    return endpoint.split("://", 1)[-1].rstrip("/")


def _alarm_only(error):
    return str(error or "").startswith("Active Alarm(s):")


def _ratio(numerator, denominator):
    return round(numerator / denominator, 4) if denominator else None


def _spread(values):
    return max(values) - min(values) if values else 0


def _endpoint_row(endpoint, status, probe, *, names, quota, by_url):
    row = {"endpoint": endpoint, "reachable": status["reachable"]}
    if status["reachable"]:
        db_size, in_use = status["db_size"], status["db_size_in_use"]
        row.update({k: v for k, v in status.items() if k != "reachable"})
        row["member_name"] = names.get(status["member_id"], "")
        row["is_leader"] = status["member_id"] is not None and status["member_id"] == status["leader_id"]
        # Share of the file that a defragmentation would give back.
        row["fragmentation"] = _ratio(db_size - in_use, db_size) or 0.0
        row["quota_ratio"] = _ratio(db_size, quota) if quota else None
    else:
        # Name a silent member from the client URLs that member list reported.
        member = by_url.get(_normalise(endpoint)) or {}
        row.update({"member_id": member.get("id"), "member_name": member.get("name", ""), "is_leader": False})
        row["errors"] = []
    row["healthy"] = bool(probe.get("healthy", False)) and status["reachable"]
    row["error"] = probe.get("error") or status.get("error") or (None if row["healthy"] else "unhealthy")
    row["took"] = probe.get("took")
    return row


def summarise(endpoints, members, statuses, health, alarms, *, quota_bytes=None, member_list_error=None):
    """One cluster's status as the etcd_status module returns it (see its RETURN documentation).

    ``endpoints`` are the client URLs asked; the other arguments are the parsed outputs. ``quota_bytes``
    is the cluster's --quota-backend-bytes (0: etcd's default of 2 GiB; None: unknown, no ratio).
    """
    names = {m["id"]: m["name"] for m in members}
    by_url = {_normalise(url): m for m in members for url in m["client_urls"]}
    by_name = {_normalise(k): v for k, v in statuses.items()}
    health_by_name = {_normalise(k): v for k, v in health.items()}
    quota = DEFAULT_QUOTA_BYTES if quota_bytes == 0 else quota_bytes

    rows = [
        _endpoint_row(
            endpoint,
            by_name.get(_normalise(endpoint)) or {"reachable": False, "error": "no answer"},
            health_by_name.get(_normalise(endpoint)) or {},
            names=names,
            quota=quota,
            by_url=by_url,
        )
        for endpoint in endpoints
    ]

    reachable = [r for r in rows if r["reachable"]]
    leader_ids = sorted({r["leader_id"] for r in reachable if r.get("leader_id") and r["leader_id"] != "0"})
    leader = None
    if len(leader_ids) == 1:
        leader_id = leader_ids[0]
        leader_row = next((r for r in reachable if r["member_id"] == leader_id), None)
        leader = {
            "id": leader_id,
            "name": names.get(leader_id, ""),
            "endpoint": leader_row["endpoint"] if leader_row else None,
        }

    voters = [m for m in members if not m["is_learner"]]
    healthy_ids = {r["member_id"] for r in rows if r["healthy"]}
    # A member that answers and fails its health probe only because of an alarm still votes
    # (etcd 3.5 fails `endpoint health` under NOSPACE): it counts as up, not as healthy.
    up_ids = {r["member_id"] for r in rows if r["healthy"] or (r["reachable"] and _alarm_only(r["error"]))}
    healthy_voters = sum(1 for m in voters if m["id"] in healthy_ids)
    up_voters = sum(1 for m in voters if m["id"] in up_ids)
    needed = len(voters) // 2 + 1 if voters else 0
    quorum = {
        "members": len(voters),
        "learners": len(members) - len(voters),
        "healthy": healthy_voters,
        "up": up_voters,
        "needed": needed,
        "ok": bool(voters) and up_voters >= needed,
    }

    for alarm in alarms:
        alarm["member_name"] = names.get(alarm["member_id"], "")

    drift = {
        "revision": _spread([r["revision"] for r in reachable]),
        "raft_index": _spread([r["raft_index"] for r in reachable]),
        "raft_applied_index": _spread([r["raft_applied_index"] for r in reachable]),
    }
    db_sizes = [r["db_size"] for r in reachable]
    db = {
        "quota_bytes": quota,
        "max_db_size": max(db_sizes) if db_sizes else 0,
        "max_db_size_in_use": max((r["db_size_in_use"] for r in reachable), default=0),
        "max_quota_ratio": _ratio(max(db_sizes), quota) if db_sizes and quota else None,
        "max_fragmentation": max((r["fragmentation"] for r in reachable), default=0.0),
    }

    problems = [f"{r['endpoint']}: {r['error']}" for r in rows if not r["healthy"]]
    problems += [f"alarm {a['alarm']} on member {a['member_name'] or a['member_id']}" for a in alarms]
    if reachable and leader is None:
        problems.append(f"no single leader (members report {leader_ids or 'none'})")
    if not voters:
        problems.append(f"member list unavailable: {member_list_error or 'no members'}")
    elif not quorum["ok"]:
        problems.append(f"quorum lost: {up_voters} of {len(voters)} voting members up, {needed} needed")
    cluster_ids = sorted({r["cluster_id"] for r in reachable if r.get("cluster_id")})
    if len(cluster_ids) > 1:
        problems.append(f"endpoints belong to different clusters: {cluster_ids}")

    return {
        "healthy": not problems,
        "problems": problems,
        "cluster_id": cluster_ids[0] if len(cluster_ids) == 1 else None,
        "versions": sorted({r["version"] for r in reachable if r.get("version")}),
        "members": members,
        "endpoints": rows,
        "leader": leader,
        "alarms": alarms,
        "quorum": quorum,
        "drift": drift,
        "db": db,
        "revision": max((r["revision"] for r in reachable), default=0),
    }
