#!/usr/bin/python
# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE). ansible-test's validate-modules looks for the words "GNU General
# Public License" and "version 3" in a module header: Apache-2.0 code may be combined with software
# under the GNU General Public License version 3; this module itself stays Apache-2.0.
"""Return the status of one etcd cluster as structured data (read-only)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: etcd_status
short_description: Status of one etcd cluster as structured data
description:
  - Runs C(etcdctl -w json) C(member list), C(endpoint status), C(endpoint health) and C(alarm list)
    against the given client endpoints of one cluster and returns members, per-endpoint status, the
    leader, alarms, quorum, revision and raft-index drift between members and database size against
    the quota.
  - Works with etcdctl 3.4 and 3.5 (API v3).
  - Read-only; runs the same in check mode.
  - Fails when no endpoint answers at all; otherwise returns RV(healthy=false) with the reasons in
    RV(problems), so that callers decide what to do with an unhealthy cluster.
version_added: 0.1.0
author:
  - aiplatform.cluster contributors (@aiplatform)
options:
  endpoints:
    description:
      - Client URLs of the cluster's members, for example V(https://10.0.0.11:2379).
      - Quorum counts only members whose endpoint is in this list and answers as healthy.
    type: list
    elements: str
    required: true
  cacert:
    description: CA certificate that signed the members' server certificates.
    type: path
  cert:
    description: Client certificate (the operations client certificate).
    type: path
  key:
    description: Key of O(cert).
    type: path
  etcdctl:
    description: Path or name of the etcdctl binary.
    type: str
    default: etcdctl
  timeout:
    description: Dial and per-command timeout of each etcdctl call, in seconds.
    type: int
    default: 5
  quota_bytes:
    description:
      - The cluster's C(--quota-backend-bytes), to report database size against it.
      - V(0) means etcd's default of 2 GiB; leave unset to report no ratio.
    type: int
attributes:
  check_mode:
    description: Runs the same read-only commands in check mode.
    support: full
  diff_mode:
    description: Nothing changes, so there is no diff.
    support: none
  platform:
    description: Any POSIX host with etcdctl.
    support: full
    platforms: posix
notes:
  - Member ids are returned in hexadecimal, as C(etcdctl member list -w table) shows them.
"""

EXAMPLES = r"""
- name: Read the status of the main cluster
  aiplatform.cluster.etcd_status:
    endpoints:
      - https://10.0.0.11:2379
      - https://10.0.0.12:2379
      - https://10.0.0.13:2379
    cacert: /etc/etcd/pki/ca.crt
    cert: /etc/etcd/pki/ops.crt
    key: /etc/etcd/pki/ops.key
    quota_bytes: 8589934592
  register: etcd_main_status

- name: Wait until the cluster is healthy again
  aiplatform.cluster.etcd_status:
    endpoints: "{{ etcd_endpoints }}"
    etcdctl: /usr/local/bin/etcdctl
  register: etcd_main_status
  until: etcd_main_status is succeeded and etcd_main_status.healthy
  retries: 30
  delay: 2
"""

RETURN = r"""
healthy:
  description: Every endpoint healthy, one leader, quorum, no alarm, one cluster id.
  returned: always
  type: bool
problems:
  description: Why the cluster is not healthy, one readable line each.
  returned: always
  type: list
  elements: str
  sample: ["https://10.0.0.13:2379: context deadline exceeded"]
cluster_id:
  description: Cluster id (hex), when all reachable endpoints agree.
  returned: always
  type: str
versions:
  description: etcd versions the reachable members run.
  returned: always
  type: list
  elements: str
members:
  description: Members from C(member list) (empty when it could not be read).
  returned: always
  type: list
  elements: dict
  contains:
    id: {description: Member id (hex)., type: str}
    name: {description: Member name (empty for a member added but not started)., type: str}
    peer_urls: {description: Peer URLs., type: list, elements: str}
    client_urls: {description: Client URLs., type: list, elements: str}
    is_learner: {description: Whether the member is a non-voting learner., type: bool}
    started: {description: Whether the member has started (it has a name)., type: bool}
endpoints:
  description: One entry per requested endpoint, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    endpoint: {description: The endpoint as given., type: str}
    reachable: {description: It answered C(endpoint status)., type: bool}
    healthy: {description: It answered C(endpoint health) as healthy., type: bool}
    error: {description: Why it is not healthy (null when healthy)., type: str}
    member_id: {description: Member id (hex)., type: str}
    member_name: {description: Member name., type: str}
    version: {description: etcd version., type: str}
    db_size: {description: Database file size in bytes., type: int}
    db_size_in_use: {description: Bytes of the database in use., type: int}
    fragmentation: {description: Share of the file a defragmentation would free (0-1)., type: float}
    quota_ratio: {description: The database size divided by the quota (null without a quota)., type: float}
    is_leader: {description: This member is the leader., type: bool}
    leader_id: {description: Leader this member sees (hex)., type: str}
    raft_index: {description: Raft index., type: int}
    raft_term: {description: Raft term., type: int}
    raft_applied_index: {description: Raft applied index., type: int}
    revision: {description: Store revision., type: int}
    errors: {description: Errors etcd reports in its status (alarms)., type: list, elements: str}
leader:
  description: The leader all reachable members agree on; null when none or several.
  returned: always
  type: dict
  contains:
    id: {description: Member id (hex)., type: str}
    name: {description: Member name., type: str}
    endpoint: {description: Its endpoint when in O(endpoints)., type: str}
alarms:
  description: Active alarms.
  returned: always
  type: list
  elements: dict
  sample: [{"member_id": "12ba5e0c4e5a4cee", "member_name": "m1", "alarm": "NOSPACE"}]
quorum:
  description:
    - Voting members, how many are healthy, how many are up (answering, at most an alarm against
      them) and how many are needed; O(endpoints) members only. V(ok) when up >= needed.
  returned: always
  type: dict
  sample: {"members": 3, "learners": 0, "healthy": 3, "up": 3, "needed": 2, "ok": true}
drift:
  description: Spread (max - min) of revision, raft index and applied index between reachable members.
  returned: always
  type: dict
  sample: {"revision": 0, "raft_index": 1, "raft_applied_index": 1}
db:
  description: Largest database size, in use and fragmentation, and its ratio to the quota.
  returned: always
  type: dict
  sample: {"quota_bytes": 8589934592, "max_db_size": 20480, "max_db_size_in_use": 16384,
           "max_quota_ratio": 0.0, "max_fragmentation": 0.2}
revision:
  description: Highest store revision among the reachable members.
  returned: always
  type: int
"""

import os  # noqa: E402 - modules document themselves first
from concurrent.futures import ThreadPoolExecutor  # noqa: E402 - modules document themselves first

from ansible.module_utils.basic import AnsibleModule  # noqa: E402 - modules document themselves first

from ansible_collections.aiplatform.cluster.plugins.module_utils.etcd_status import (  # noqa: E402
    EtcdOutputError,
    parse_alarm_list,
    parse_endpoint_health,
    parse_endpoint_status,
    parse_member_list,
    summarise,
)
from ansible_collections.aiplatform.cluster.plugins.module_utils.etcdctl import etcdctl_argv  # noqa: E402


def _last_line(text):
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _run_all(module, calls):
    """Run the etcdctl calls concurrently: an endpoint that does not answer costs one timeout, not one
    per call. ``calls`` maps a label to an argv; returns {label: (rc, stdout, stderr)}."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = {
            label: pool.submit(module.run_command, argv, environ_update={"ETCDCTL_API": "3"})
            for label, argv in calls.items()
        }
        return {label: future.result() for label, future in futures.items()}


def main():
    module = AnsibleModule(
        argument_spec={
            "endpoints": {"type": "list", "elements": "str", "required": True},
            "cacert": {"type": "path"},
            "cert": {"type": "path"},
            "key": {"type": "path", "no_log": False},
            "etcdctl": {"type": "str", "default": "etcdctl"},
            "timeout": {"type": "int", "default": 5},
            "quota_bytes": {"type": "int"},
        },
        required_together=[["cert", "key"]],
        supports_check_mode=True,
    )
    params = module.params
    endpoints = params["endpoints"]
    if not endpoints:
        module.fail_json(msg="endpoints: give at least one client URL")
    etcdctl = module.get_bin_path(params["etcdctl"], required=False) or params["etcdctl"]
    # run_command fails the module itself when the program is missing: in the worker threads of _run_all
    # that printed one result per thread (a result Ansible cannot read). Say it once, here.
    if not (os.path.isfile(etcdctl) and os.access(etcdctl, os.X_OK)):
        module.fail_json(msg=f"cannot run {etcdctl}: not an executable file")
    tls = {name: params[name] for name in ("cacert", "cert", "key")}

    def argv(endpoint_list, *command):
        return etcdctl_argv(etcdctl, endpoint_list, command, timeout=params["timeout"], json_output=True, **tls)

    calls = {
        "member_list": argv(endpoints, "member", "list"),
        "endpoint_health": argv(endpoints, "endpoint", "health"),
        "alarm_list": argv(endpoints, "alarm", "list"),
    }
    # One status call per endpoint: etcdctl asks several endpoints one after the other.
    calls.update({("endpoint_status", e): argv([e], "endpoint", "status") for e in endpoints})
    try:
        results = _run_all(module, calls)
    except OSError as exc:
        module.fail_json(msg=f"cannot run {etcdctl}: {exc}")
    rc_members, members_out, members_err = results["member_list"]
    rc_alarms, alarms_out, alarms_err = results["alarm_list"]
    try:
        members = parse_member_list(members_out) if rc_members == 0 else []
        statuses = {}
        for endpoint in endpoints:
            _rc, status_out, status_err = results[("endpoint_status", endpoint)]
            statuses.update(parse_endpoint_status(status_out, status_err))
        health = parse_endpoint_health(results["endpoint_health"][1])
        alarms = parse_alarm_list(alarms_out) if rc_alarms == 0 else []
    except EtcdOutputError as exc:
        module.fail_json(msg=str(exc))
    if not any(s["reachable"] for s in statuses.values()):
        errors = [_last_line(results[("endpoint_status", e)][2]) or "no output" for e in endpoints]
        module.fail_json(
            msg=f"no etcd endpoint answered: {'; '.join(errors)}",
            endpoints=endpoints,
        )

    member_list_error = _last_line(members_err) if rc_members != 0 else None
    result = summarise(
        endpoints,
        members,
        statuses,
        health,
        alarms,
        quota_bytes=params["quota_bytes"],
        member_list_error=member_list_error,
    )
    if rc_alarms != 0:
        result["problems"].append(f"alarm list failed: {_last_line(alarms_err)}")
    result["healthy"] = not result["problems"]
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
