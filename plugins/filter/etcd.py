# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Filters for the etcd role: effective per-cluster settings, input checks, member strings, etcdctl argv
(pure functions). The clusters themselves (names, groups, ports) are the topology contract's
``topology_etcd_clusters``; per-cluster settings come from ``etcd_cluster_overrides``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from ansible.errors import AnsibleError, AnsibleFilterError

from ansible_collections.aiplatform.cluster.plugins.module_utils.addresses import ip_problem
from ansible_collections.aiplatform.cluster.plugins.module_utils.checksums import checksum_problem
from ansible_collections.aiplatform.cluster.plugins.module_utils.cis import CIS_CIPHER_SUITES
from ansible_collections.aiplatform.cluster.plugins.module_utils.etcdctl import etcdctl_argv
from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import Problems, as_bool, as_float, as_int
from ansible_collections.aiplatform.cluster.plugins.module_utils.state_store import stores_problems
from ansible_collections.aiplatform.cluster.plugins.module_utils.systemd_calendar import calendar_problem
from ansible_collections.aiplatform.cluster.plugins.module_utils.urls import join_url, url_problem

# Keys an entry of etcd_cluster_overrides may set besides the global settings (etcd_<key>).
CLUSTER_ONLY_KEYS = ("data_dir", "cluster_token")
PORT_KEYS = ("client_port", "peer_port", "metrics_port")
# Settings typed once here (values from -e arrive as strings).
INT_KEYS = ("heartbeat_interval", "election_timeout", "snapshot_count", "max_request_bytes", "backup_keep")
BOOL_KEYS = ("backup_enabled",)
SUGGESTED_MAX_QUOTA = 8 * 1024**3
MAX_ELECTION_TIMEOUT = 50000

# etcd's --auto-compaction-retention: a Go duration (periodic), or a whole number (hours for periodic,
# revisions for revision).
_GO_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "B": 1, "K": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4}


def etcd_size_bytes(value):
    """Turn a size (an int of bytes, or a string like ``8GiB``, ``512MiB``, ``2G``) into bytes.

    Binary suffixes (KiB, MiB, GiB, TiB) count in 1024s, decimal ones (K, KB, M, G…) in 1000s.
    """
    if isinstance(value, bool):
        raise AnsibleFilterError(f"etcd_size_bytes: {value!r} is not a size")
    if isinstance(value, int):
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise AnsibleFilterError(f"etcd_size_bytes: {value!r} is not a size (e.g. 8GiB, 512MiB, 2147483648)")
    number, unit = match.group(1), (match.group(2) or "").upper()
    binary = "I" in unit
    letter = unit[:1] if unit not in ("", "B") else unit
    factor = 1024 ** "BKMGT".index(letter) if binary else _UNITS[letter]
    return int(float(number) * factor)


def _by_name(clusters):
    return {c.get("name"): c for c in clusters or [] if isinstance(c, dict)}


def _typed(settings):
    """Integers and booleans as such (strings from -e turned once); values that are neither stay as given
    for etcd_problems to report."""
    for key in INT_KEYS + PORT_KEYS:
        if key in settings and as_int(settings[key]) is not None:
            settings[key] = as_int(settings[key])
    for key in BOOL_KEYS:
        if key in settings and as_bool(settings[key]) is not None:
            settings[key] = as_bool(settings[key])
    return settings


def _merged(entry, global_settings, overrides, data_root):
    name = entry["name"]
    settings = dict(global_settings)
    settings.update((overrides or {}).get(name) or {})
    settings.update({k: entry[k] for k in ("name", "group", *PORT_KEYS) if k in entry})
    settings.setdefault("data_dir", f"{str(data_root).rstrip('/')}/{name}")
    settings.setdefault("cluster_token", f"etcd-{name}")
    settings["unit"] = f"etcd-{name}"
    return _typed(settings)


def etcd_cluster_settings(name, clusters, global_settings, overrides=None, data_root="/var/lib/etcd"):
    """The effective settings of cluster ``name`` (an entry of ``topology_etcd_clusters``): ``global_settings``
    (keys: the etcd_<key> variables without the prefix), then ``overrides[name]`` (etcd_cluster_overrides),
    then the contract's group and ports.

    Adds ``data_dir`` (default ``data_root/name``), ``cluster_token`` (default ``etcd-name``), ``unit``
    (``etcd-name``), integers and booleans typed, and ``quota_backend_bytes`` in bytes.
    """
    entry = _by_name(clusters).get(name)
    if entry is None:
        raise AnsibleFilterError(f"etcd_cluster: '{name}' is not a cluster name of topology_etcd_clusters")
    settings = _merged(entry, global_settings, overrides, data_root)
    settings["quota_backend_bytes"] = etcd_size_bytes(settings["quota_backend_bytes"])
    return settings


def _source(overrides, name, key):
    """The variable a setting comes from, as the user wrote it: the cluster's override or the global one."""
    if key in ((overrides or {}).get(name) or {}) or key in CLUSTER_ONLY_KEYS:
        return f"etcd_cluster_overrides.{name}.{key}"
    return f"etcd_{key}"


def _check_types(settings, where, problems):
    for key in INT_KEYS:
        minimum = 0 if key == "snapshot_count" else 1
        problems.integer(where(key), settings.get(key), minimum=minimum)
    for key in BOOL_KEYS:
        problems.boolean(where(key), settings.get(key))


def _check_timing(settings, where, problems):
    heartbeat, election = as_int(settings.get("heartbeat_interval")), as_int(settings.get("election_timeout"))
    if heartbeat is None or election is None or heartbeat <= 0:
        return  # reported by _check_types
    if election < 5 * heartbeat:
        problems.add(
            where("election_timeout"),
            f"must be at least 5 x {where('heartbeat_interval')} ({heartbeat} ms): etcd refuses to start below it",
            election,
        )
    elif election > MAX_ELECTION_TIMEOUT:
        problems.add(where("election_timeout"), f"must not exceed {MAX_ELECTION_TIMEOUT} ms", election)


def _check_quota(settings, where, problems, warnings):
    try:
        quota = etcd_size_bytes(settings.get("quota_backend_bytes"))
    except AnsibleFilterError:
        problems.add(where("quota_backend_bytes"), "must be a size such as 8GiB or a number of bytes",
                     settings.get("quota_backend_bytes"))  # fmt: skip
        return
    if quota <= 0:
        problems.add(where("quota_backend_bytes"), "must be positive", quota)
    elif quota > SUGGESTED_MAX_QUOTA:
        warnings.append(f"{where('quota_backend_bytes')}: {quota} bytes is above the suggested maximum of 8 GiB")


def _check_install(settings, where, problems):
    """Rules between the install settings; the choice of method itself is the argument spec's."""
    if settings.get("install_method") == "archive":
        if not re.match(r"^3\.[56]\.\d+$", str(settings.get("version", ""))):
            problems.add(where("version"), "must be an etcd 3.5.x or 3.6.x release for install method archive",
                         settings.get("version"))  # fmt: skip
        source = settings.get("archive_src")
        if not source:
            problem = url_problem(settings.get("archive_url"))
            if problem:
                problems.add(where("archive_url"), f"{problem} (or set {where('archive_src')})",
                             settings.get("archive_url"))  # fmt: skip
        elif not str(source).startswith("/"):
            problems.add(where("archive_src"), "must be an absolute path on the controller", source)
        # A copy from the controller is checked against the digest itself; a download may name a checksum file.
        problem = checksum_problem(settings.get("archive_checksum"), allow_url=not source)
        if problem:
            verified = f"the copy of {where('archive_src')}" if source else f"the download of {where('archive_url')}"
            problems.add(where("archive_checksum"), f"{problem}: {verified} is verified against it",
                         settings.get("archive_checksum"))  # fmt: skip
    elif settings.get("install_method") == "package" and not settings.get("packages"):
        problems.add(where("packages"), "install method package needs the distribution's packages",
                     settings.get("packages"))  # fmt: skip


def _check_choices(settings, where, choices, problems):
    """Values of settings that the argument spec restricts to choices (``choices``: key -> list, read from the
    spec), also when they come from etcd_cluster_overrides, which the spec does not see."""
    for key, allowed in (choices or {}).items():
        if key in settings and settings[key] not in allowed:
            problems.add(
                where(key), f"must be one of {', '.join(map(str, allowed))} (values etcd knows)", settings[key]
            )


def _check_compaction(settings, where, problems):
    retention = str(settings.get("auto_compaction_retention", "")).strip()
    mode = settings.get("auto_compaction_mode")
    if mode == "revision" and not retention.isdigit():
        problems.add(where("auto_compaction_retention"), "must be a whole number of revisions with mode revision",
                     settings.get("auto_compaction_retention"))  # fmt: skip
    elif mode == "periodic" and not (retention.isdigit() or _GO_DURATION.match(retention)):
        problems.add(where("auto_compaction_retention"),
                     "must be a duration such as 1h or 30m (or a whole number of hours) with mode periodic",
                     settings.get("auto_compaction_retention"))  # fmt: skip


def _check_backup(settings, where, problems):
    problem = calendar_problem(settings.get("backup_on_calendar"))
    if problem:
        problems.add(where("backup_on_calendar"), f"{problem} (systemd.time(7) OnCalendar)",
                     settings.get("backup_on_calendar"))  # fmt: skip
    hook = settings.get("backup_hook")
    if hook and "\n" in str(hook):
        problems.add(where("backup_hook"), "must be one command line", hook)


def _check_data_dirs(clusters, settings_by_name, groups, overrides, problems):
    """Clusters that share a host must not share a data directory there (ports: topology_problems)."""
    claimed = {}
    for entry in clusters:
        name = entry["name"]
        data_dir = settings_by_name[name]["data_dir"]
        for host in groups.get(entry.get("group"), []):
            other = claimed.setdefault((host, data_dir), name)
            if other != name:
                problems.add(
                    _source(overrides, name, "data_dir"),
                    f"must differ from the data directory of cluster {other} on co-located host {host}",
                    data_dir,
                )
                break


def _check_overrides(clusters, global_settings, overrides, problems):
    if not isinstance(overrides, dict):
        problems.add("etcd_cluster_overrides", "must be a dict of cluster name -> settings", overrides)
        return False
    names = set(_by_name(clusters))
    allowed = set(global_settings) | set(CLUSTER_ONLY_KEYS)
    for name, settings in overrides.items():
        if name not in names:
            problems.add(f"etcd_cluster_overrides.{name}", "names no cluster of topology_etcd_clusters")
        elif not isinstance(settings, dict):
            problems.add(f"etcd_cluster_overrides.{name}", "must be a dict of settings", settings)
        else:
            for key in sorted(set(settings) - allowed):
                problems.add(f"etcd_cluster_overrides.{name}.{key}", "is not a setting a cluster may override")
    return not problems


# Rules of the operations variables: name -> (kind, minimum, maximum).
OPS_RULES = {
    "etcd_pki_controller_dir": ("abspath", None, None),
    "etcd_ca_validity_days": ("int", 1, None),
    "etcd_cert_validity_days": ("int", 1, None),
    "etcd_cert_renew_before_days": ("int", 1, None),
    "etcd_pki_days": ("replaced", "etcd_ca_validity_days and etcd_cert_validity_days", None),
    "etcd_limit_nofile": ("int", 1024, None),
    "etcd_backup_root": ("abspath", None, None),
    "etcd_restart_allow_degraded": ("bool", None, None),
    "etcd_ops_timeout": ("int", 1, None),
    "etcd_restart_health_retries": ("int", 1, None),
    "etcd_restart_health_delay": ("int", 0, None),
    "etcd_defrag_min_fragmentation": ("ratio", 0, 1),
    "etcd_defrag_min_free_bytes": ("int", 0, None),
    "etcd_defrag_compact": ("bool", None, None),
    "etcd_defrag_timeout": ("int", 1, None),
    "etcd_health_max_quota_ratio": ("ratio", 0, 1),
    "etcd_health_max_revision_drift": ("int", 0, None),
    "etcd_health_max_raft_drift": ("int", 0, None),
    "etcd_cipher_suites": ("ciphers", None, None),
}


def _check_ciphers(name, value, problems):
    suites = [s.strip() for s in value.split(",") if s.strip()] if isinstance(value, str) else value  # -e A,B
    if not isinstance(suites, list) or not suites:
        problems.add(name, "must list the TLS 1.2 cipher suites", value)
        return
    weak = [suite for suite in suites if suite not in CIS_CIPHER_SUITES]
    if weak:
        problems.add(name, f"must be among the CIS set {', '.join(CIS_CIPHER_SUITES)}", weak)


def _check_ops(ops, problems):
    for name, value in (ops or {}).items():
        kind, minimum, maximum = OPS_RULES.get(name, ("other", None, None))
        if kind == "int":
            problems.integer(name, value, minimum=minimum, maximum=maximum)
        elif kind == "bool":
            problems.boolean(name, value)
        elif kind == "abspath":
            if not isinstance(value, str) or not value.startswith("/"):
                where = "on the controller" if name.endswith("controller_dir") else "on the members"
                problems.add(name, f"must be an absolute path {where}", value)
        elif kind == "ciphers":
            _check_ciphers(name, value, problems)
        elif kind == "ratio":
            ratio = as_float(value)
            if ratio is None or not minimum <= ratio <= maximum:
                problems.add(name, f"must be a number from {minimum} to {maximum}", value)
        elif kind == "replaced" and value not in (None, ""):
            problems.add(name, f"is replaced by {minimum} (docs/etcd.md); remove it", value)
    _check_lifetimes(ops or {}, problems)


def _check_lifetimes(ops, problems):
    """The renewal window lies inside a leaf certificate's life, which lies inside the CA's."""
    ca_days, leaf_days, window = (
        as_int(ops.get(name))
        for name in ("etcd_ca_validity_days", "etcd_cert_validity_days", "etcd_cert_renew_before_days")
    )
    if None not in (leaf_days, window) and 0 < leaf_days <= window:
        problems.add(
            "etcd_cert_renew_before_days",
            f"must be less than etcd_cert_validity_days ({leaf_days}): a certificate would be renewed at every run",
            ops["etcd_cert_renew_before_days"],
        )
    if None not in (ca_days, leaf_days) and 0 < ca_days < leaf_days:
        problems.add(
            "etcd_cert_validity_days",
            f"must not be more than etcd_ca_validity_days ({ca_days}): a certificate cannot outlive its CA",
            ops["etcd_cert_validity_days"],
        )


def _check_addresses(by_name, groups, hostvars, problems):
    """An etcd_address set for a member (inventory, group_vars, -e) goes into its certificate's IP SANs and
    every URL: it must be an IP address (without it, the facts' default IPv4 address is)."""
    seen = set()
    for entry in by_name.values():
        for host in groups.get(entry.get("group")) or []:
            if host in seen:
                continue
            seen.add(host)
            try:
                address = ((hostvars or {}).get(host) or {}).get("etcd_address")
            except AnsibleError:  # a template of facts not gathered yet: the member's own run reports it
                continue
            if address in (None, ""):
                continue
            problem = ip_problem(address)
            if problem:
                problems.add(f"etcd_address of {host}", problem, address)


def _check_restore(restore, by_name, groups, problems):
    name = restore.get("etcd_restore_cluster")
    with_members = [n for n, c in by_name.items() if groups.get(c.get("group"))]
    if name not in with_members:
        problems.add("etcd_restore_cluster", f"must name a cluster of topology_etcd_clusters that has members "
                     f"({', '.join(with_members)})", name)  # fmt: skip
    if not str(restore.get("etcd_restore_snapshot") or "").startswith("/"):
        problems.add("etcd_restore_snapshot", "must be an absolute path", restore.get("etcd_restore_snapshot"))
    host = restore.get("etcd_restore_snapshot_host")
    if host != "localhost" and host not in groups.get("all", []):
        problems.add("etcd_restore_snapshot_host", "must be localhost or a host of the inventory", host)
    # A restore replaces the data of every member: the operator types the cluster's name twice.
    confirm = restore.get("etcd_restore_confirm", "")
    if name in with_members and confirm != name:
        problems.add("etcd_restore_confirm", f"must repeat etcd_restore_cluster ({name}) to confirm the restore, "
                     f"which replaces the data of every member of cluster {name}", confirm)  # fmt: skip
    if as_bool(restore.get("etcd_restore_skip_identity_check", False)) is None:
        problems.add("etcd_restore_skip_identity_check", "must be true or false",
                     restore.get("etcd_restore_skip_identity_check"))  # fmt: skip


def etcd_snapshot_problems(identity, cluster, checksum, snapshot, skip_identity_check=False):
    """Why ``snapshot`` must not be restored onto ``cluster``; an empty list when it may.

    ``identity`` is the parsed identity file ``<snapshot>.json`` that the role's backup service writes beside
    each snapshot (``{"cluster", "sha256", ...}``), none when there is none; ``checksum`` the snapshot's
    sha256 as read on its host. A missing identity file is refused unless ``skip_identity_check`` (a snapshot
    made by other tooling); an identity naming another cluster, or another checksum, is always refused.
    """
    if identity is None:
        if as_bool(skip_identity_check):
            return []
        return [
            f"etcd_restore_snapshot: {snapshot} has no identity file {snapshot}.json (the role's backup service "
            f"writes one beside each snapshot), so nothing shows that it is a snapshot of cluster {cluster}; "
            "set etcd_restore_skip_identity_check=true to restore a snapshot made by other tooling"
        ]
    if not isinstance(identity, dict):
        return [f"etcd_restore_snapshot: the identity file {snapshot}.json is not a JSON object"]
    problems = []
    if identity.get("cluster") != cluster:
        problems.append(
            f"etcd_restore_snapshot: {snapshot} is a snapshot of cluster {identity.get('cluster')!r} (its identity "
            f"file {snapshot}.json), not of {cluster}"
        )
    if identity.get("sha256") != checksum:
        problems.append(
            f"etcd_restore_snapshot: the sha256 of {snapshot} ({checksum}) is not the one its identity file "
            f"records ({identity.get('sha256')}): the file changed after the backup"
        )
    return problems


def etcd_problems(
    clusters,
    cluster,
    global_settings,
    overrides,
    groups,
    *,
    data_root="/var/lib/etcd",
    ops=None,
    restore=None,
    choices=None,
    hostvars=None,
    stores=None,
    allow_in_git=False,
):
    """Every rule of the etcd role's inputs, checked before any host changes (types and choices are the
    argument specs'; the contract's own rules are topology_problems').

    ``clusters`` is ``topology_etcd_clusters``, ``cluster`` the one being handled (it must have members),
    ``global_settings`` the etcd_<key> settings without the prefix, ``overrides`` etcd_cluster_overrides,
    ``groups`` Ansible's ``groups``, ``ops`` the operations variables by full name, ``restore`` the restore
    request (etcd_restore_cluster, etcd_restore_snapshot, etcd_restore_snapshot_host, etcd_restore_confirm,
    etcd_restore_skip_identity_check), checked when given;
    ``choices`` the argument spec's choices by key (without the prefix: applied to overrides too), ``hostvars``
    Ansible's hostvars (each member's etcd_address); ``stores`` the secret stores on the controller
    ([{variable, path, work_tree}]), refused inside a git work tree unless ``allow_in_git``
    (topology_state_allow_in_git);
    ``cluster`` none checks no particular cluster (the restore request names its own). Returns
    ``{"errors": [...], "warnings": [...]}``, one message per problem, each naming the variable.
    """
    problems, warnings = Problems(), []
    groups = groups or {}
    by_name = _by_name(clusters)
    if restore is not None:
        _check_restore(restore, by_name, groups, problems)
    if cluster is not None and cluster not in by_name:
        problems.add("etcd_cluster", f"must name a cluster of topology_etcd_clusters ({', '.join(by_name)})", cluster)
        return {"errors": problems.messages, "warnings": warnings}
    if not _check_overrides(clusters, global_settings, overrides, problems):
        return {"errors": problems.messages, "warnings": warnings}
    settings_by_name = {}
    for entry in by_name.values():
        name = entry["name"]
        settings = _merged(entry, global_settings, overrides, data_root)
        settings_by_name[name] = settings

        def where(key, name=name):
            return _source(overrides, name, key)

        members = groups.get(entry.get("group"), [])
        if not members and name == cluster:
            problems.add(f"topology_etcd_clusters[{name}].group", "has no members (add hosts, or remove the cluster)",
                         entry.get("group"))  # fmt: skip
        elif members and len(members) % 2 == 0:
            warnings.append(
                f"topology_etcd_clusters[{name}].group: {len(members)} members is an even number; "
                "an odd count tolerates the same failures with one member fewer"
            )
        if not str(settings["data_dir"]).startswith("/"):
            problems.add(where("data_dir"), "must be an absolute path", settings["data_dir"])
        _check_types(settings, where, problems)
        _check_timing(settings, where, problems)
        _check_quota(settings, where, problems, warnings)
        _check_install(settings, where, problems)
        _check_choices(settings, where, choices, problems)
        _check_compaction(settings, where, problems)
        _check_backup(settings, where, problems)
    _check_addresses(by_name, groups, hostvars, problems)
    _check_data_dirs(list(by_name.values()), settings_by_name, groups, overrides, problems)
    _check_ops(ops, problems)
    problems.messages.extend(stores_problems(stores, allow_in_git))
    # A global variable at fault shows once, not once per cluster.
    return {"errors": list(dict.fromkeys(problems.messages)), "warnings": list(dict.fromkeys(warnings))}


def etcd_members(hosts, addresses, play_hosts=None, cluster=None):
    """``[{name, address}]`` from the member host names and their addresses (same order).

    A member without an address fails. When it is not among ``play_hosts`` (``ansible_play_hosts``: it
    failed or was unreachable earlier in the run, or --limit left it out), the message names it and
    says why the cluster cannot be formed without it.
    """
    label = f"etcd cluster {cluster}" if cluster else "the etcd cluster"
    padded = list(addresses) + [""] * max(0, len(hosts) - len(addresses))
    missing = [str(h) for h, a in zip(hosts, padded[: len(hosts)], strict=True) if not a]
    gone = [h for h in missing if play_hosts is not None and h not in play_hosts]
    if gone:
        raise AnsibleFilterError(
            f"etcd_members: {label} cannot be formed: member(s) {', '.join(gone)} left the play before the etcd "
            "role ran (failed or unreachable in an earlier task or play, or left out by --limit; see the errors "
            "above). Every member's address goes into initial-cluster and its peer certificate, so every member "
            "must take part: fix those hosts, or remove them from the group"
        )
    if missing or len(hosts) != len(addresses):
        raise AnsibleFilterError(
            f"etcd_members: {label}: no address for member(s) {', '.join(missing) or '?'}: set etcd_address "
            f"or gather their facts (hosts {hosts}, addresses {addresses})"
        )
    return [{"name": str(h), "address": str(a)} for h, a in zip(hosts, addresses, strict=True)]


def etcd_initial_cluster(members, peer_port):
    """``name=https://address:peer_port,...`` for etcd's initial-cluster from ``[{name, address}]``."""
    return ",".join(f"{m['name']}={join_url('https', m['address'], peer_port)}" for m in members)


def etcd_urls(members, port, scheme="https", path=""):
    """The URLs of ``[{name, address}]`` members on ``port``, in member order."""
    return [join_url(scheme, m["address"], port, path) for m in members]


def etcd_restart_order(hosts, status, endpoint_of_host):
    """``hosts`` in their order with the current leader last.

    ``status`` is the result of the etcd_status module (its ``leader.endpoint``), ``endpoint_of_host``
    maps host -> client URL. Without a leader in the status (no answer), the order is unchanged.
    """
    leader_endpoint = ((status or {}).get("leader") or {}).get("endpoint")
    leaders = [h for h in hosts if leader_endpoint and endpoint_of_host.get(h) == leader_endpoint]
    return [h for h in hosts if h not in leaders] + leaders


def etcd_cluster_selected(limit, cluster):
    """Whether ``cluster`` is in an operation's limit (etcd_<op>_clusters): empty selects every cluster; a
    string (from -e) may name several, separated by commas."""
    if not limit:
        return True
    names = [n.strip() for n in limit.split(",")] if isinstance(limit, str) else [str(n) for n in limit]
    return cluster in names


def _asn1_time(value, what):
    """A datetime from an ASN.1 TIME string (x509_certificate_info's not_after: 20270413202428Z)."""
    try:
        return datetime.strptime(str(value), "%Y%m%d%H%M%SZ").replace(tzinfo=UTC)
    except ValueError as error:
        raise AnsibleFilterError(
            f"etcd_certificate_renewals: {what} is not an ASN.1 time like 20270413202428Z: {value!r}"
        ) from error


def etcd_certificate_renewals(certificates, now, renew_before_days):
    """The certificates that expire within ``renew_before_days`` days of ``now`` (or have expired), in order.

    ``certificates`` is ``[{file, not_after}]``, or the results of x509_certificate_info looped over ``{file}``
    items (``item.file``); ``not_after`` as x509_certificate_info returns it, an ASN.1 time such as
    ``20270413202428Z``, empty or absent for a certificate not made yet (a skipped result): never listed.
    ``now`` is the controller's time in the same form. Returns ``[{file, not_after, days_left}]`` (whole days left,
    negative once expired).
    """
    window = as_int(renew_before_days)
    if window is None:
        raise AnsibleFilterError(
            f"etcd_certificate_renewals: renew_before_days must be a whole number (got {renew_before_days!r})"
        )
    moment = _asn1_time(now, "now")
    renewals = []
    for entry in certificates or []:
        certificate = entry or {}
        name = certificate.get("file") or (certificate.get("item") or {}).get("file")
        not_after = certificate.get("not_after")
        if not not_after:
            continue
        expires = _asn1_time(not_after, f"the not_after of {name}")
        if expires - moment < timedelta(days=window):
            left = (expires - moment) // timedelta(days=1)
            renewals.append({"file": name, "not_after": not_after, "days_left": left})
    return renewals


def etcd_etcdctl(endpoints, etcdctl, tls, command, timeout=5):
    """etcdctl's argv for ``command`` (a list) against ``endpoints`` with ``tls`` ({cacert, cert, key}: the CA
    and the operations client certificate); built by module_utils/etcdctl.py, as the etcd_status module's."""
    tls = tls or {}
    return etcdctl_argv(etcdctl, endpoints, command, cacert=tls.get("cacert"), cert=tls.get("cert"),
                        key=tls.get("key"), timeout=timeout)  # fmt: skip


class FilterModule:
    """etcd filters."""

    def filters(self):
        return {
            "etcd_size_bytes": etcd_size_bytes,
            "etcd_cluster_settings": etcd_cluster_settings,
            "etcd_problems": etcd_problems,
            "etcd_snapshot_problems": etcd_snapshot_problems,
            "etcd_members": etcd_members,
            "etcd_initial_cluster": etcd_initial_cluster,
            "etcd_urls": etcd_urls,
            "etcd_restart_order": etcd_restart_order,
            "etcd_etcdctl": etcd_etcdctl,
            "etcd_cluster_selected": etcd_cluster_selected,
            "etcd_certificate_renewals": etcd_certificate_renewals,
        }
