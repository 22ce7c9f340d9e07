# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Judge and present an etcd_status result for the operations playbooks (pure functions, no I/O)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError


def _require_status(status, name):
    if not isinstance(status, dict) or "endpoints" not in status or "quorum" not in status:
        raise AnsibleFilterError(f"{name}: expects the result of aiplatform.cluster.etcd_status")


def etcd_health_verdict(status, expected_members, max_quota_ratio=0.8, max_revision_drift=100, max_raft_drift=1000):
    """The health playbook's verdict: the module's problems plus the playbook's limits.

    ``expected_members`` are the member names the inventory expects (the cluster group's hosts).
    Returns {"ok": bool, "problems": [str]}.
    """
    _require_status(status, "etcd_health_verdict")
    problems = list(status.get("problems") or [])
    names = sorted(m.get("name") or m.get("id") for m in status.get("members") or [])
    if status.get("members") and names != sorted(expected_members):
        problems.append(f"members {names} differ from the inventory's {sorted(expected_members)}")
    ratio = (status.get("db") or {}).get("max_quota_ratio")
    if ratio is not None and ratio > max_quota_ratio:
        problems.append(f"database at {ratio:.0%} of the quota (limit {max_quota_ratio:.0%})")
    drift = status.get("drift") or {}
    if drift.get("revision", 0) > max_revision_drift:
        problems.append(f"revision drift {drift['revision']} between members (limit {max_revision_drift})")
    if drift.get("raft_index", 0) > max_raft_drift:
        problems.append(f"raft index drift {drift['raft_index']} between members (limit {max_raft_drift})")
    return {"ok": not problems, "problems": problems}


def _size(value):
    value = float(value or 0)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"  # pragma: no cover - the loop always returns


def etcd_health_lines(status, cluster, verdict):
    """A readable Markdown report of one cluster (a list of lines)."""
    _require_status(status, "etcd_health_lines")
    quorum, drift, db = status["quorum"], status.get("drift") or {}, status.get("db") or {}
    leader = status.get("leader") or {}
    lines = [
        f"## etcd cluster {cluster}: {'HEALTHY' if verdict['ok'] else 'UNHEALTHY'}",
        "",
        f"- leader: {leader.get('name') or leader.get('id') or 'none'}",
        f"- quorum: {quorum['up']} of {quorum['members']} voting members up ({quorum['healthy']} healthy),"
        f" {quorum['needed']} needed; learners: {quorum['learners']}",
        f"- revision: {status.get('revision', 0)}; drift between members: revision {drift.get('revision', 0)},"
        f" raft index {drift.get('raft_index', 0)}",
        f"- database: largest {_size(db.get('max_db_size'))}"
        + (f" of quota {_size(db['quota_bytes'])} ({db['max_quota_ratio']:.1%})" if db.get("quota_bytes") else ""),
        "- alarms: "
        + (", ".join(f"{a['alarm']} on {a['member_name'] or a['member_id']}" for a in status["alarms"]) or "none"),
        "",
        "| member | endpoint | healthy | leader | version | db size | in use | revision | raft index | error |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in status["endpoints"]:
        lines.append(
            f"| {row.get('member_name') or '-'} | {row['endpoint']} | {'yes' if row['healthy'] else 'NO'}"
            f" | {'yes' if row.get('is_leader') else ''} | {row.get('version') or '-'}"
            f" | {_size(row.get('db_size')) if row['reachable'] else '-'}"
            f" | {_size(row.get('db_size_in_use')) if row['reachable'] else '-'}"
            f" | {row.get('revision', '-')} | {row.get('raft_index', '-')} | {row.get('error') or ''} |"
        )
    if verdict["problems"]:
        lines += ["", "Problems:"] + [f"- {p}" for p in verdict["problems"]]
    return lines


def etcd_defrag_plan(status, min_fragmentation=0.2, min_free_bytes=0):
    """The order in which to defragment members: followers first, the leader last.

    A member is defragmented when its free share (fragmentation) is at least ``min_fragmentation``
    and the bytes a defragmentation would free are at least ``min_free_bytes``; otherwise skipped.
    While a NOSPACE alarm is active every member is defragmented: they all hold the same data, and
    the alarm is only disarmed once every file has shrunk. Returns a list of
    {endpoint, member_name, is_leader, fragmentation, free_bytes, defrag, reason}.
    """
    _require_status(status, "etcd_defrag_plan")
    unreachable = [r["endpoint"] for r in status["endpoints"] if not r["reachable"]]
    if unreachable:
        raise AnsibleFilterError(f"etcd_defrag_plan: members do not answer: {', '.join(unreachable)}")
    nospace = any(a.get("alarm") == "NOSPACE" for a in status.get("alarms") or [])
    plan = []
    for row in status["endpoints"]:
        free = row["db_size"] - row["db_size_in_use"]
        wanted = row["fragmentation"] >= min_fragmentation and free >= min_free_bytes
        if nospace:
            reason = "NOSPACE alarm active"
        elif wanted:
            reason = f"{row['fragmentation']:.0%} free (threshold {min_fragmentation:.0%})"
        else:
            reason = f"below threshold: {row['fragmentation']:.0%} free, {free} bytes"
        plan.append(
            {
                "endpoint": row["endpoint"],
                "member_name": row.get("member_name", ""),
                "is_leader": bool(row.get("is_leader")),
                "fragmentation": row["fragmentation"],
                "free_bytes": free,
                "defrag": wanted or nospace,
                "reason": reason,
            }
        )
    # Defragmenting blocks a member for a moment: the leader goes last so that it moves at most once.
    return sorted(plan, key=lambda p: (p["is_leader"], p["member_name"], p["endpoint"]))


class FilterModule:
    """Filters for the etcd operations playbooks."""

    def filters(self):
        return {
            "etcd_health_verdict": etcd_health_verdict,
            "etcd_health_lines": etcd_health_lines,
            "etcd_defrag_plan": etcd_defrag_plan,
        }
