# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Filters for the etcd role: effective per-cluster settings, input checks, member strings (pure functions)."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

# Keys a cluster entry of etcd_clusters may set. Each overrides the global variable etcd_<key>, except
# the topology keys (group, ports, data_dir, cluster_token) which only exist per cluster.
TOPOLOGY_KEYS = ("group", "client_port", "peer_port", "metrics_port", "data_dir", "cluster_token")
PORT_KEYS = ("client_port", "peer_port", "metrics_port")
INSTALL_METHODS = ("archive", "package")
SUGGESTED_MAX_QUOTA = 8 * 1024**3
MAX_ELECTION_TIMEOUT = 50000

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
    return {c.get("name"): c for c in clusters if isinstance(c, dict)}


def etcd_cluster_settings(clusters, name, global_settings, data_root="/var/lib/etcd"):
    """The effective settings of cluster ``name``: ``global_settings`` overridden by its etcd_clusters entry.

    Adds ``name``, ``data_dir`` (default ``data_root/name``), ``cluster_token`` (default ``etcd-name``),
    ``unit`` (``etcd-name``) and ``quota_backend_bytes`` in bytes.
    """
    entry = _by_name(clusters or []).get(name)
    if entry is None:
        raise AnsibleFilterError(f"etcd_cluster: '{name}' is not a cluster name of etcd_clusters")
    settings = dict(global_settings)
    settings.update(entry)
    settings.setdefault("data_dir", f"{data_root.rstrip('/')}/{name}")
    settings.setdefault("cluster_token", f"etcd-{name}")
    settings["unit"] = f"etcd-{name}"
    settings["quota_backend_bytes"] = etcd_size_bytes(settings["quota_backend_bytes"])
    return settings


def _source(entry, key):
    """Where a setting comes from, as the user wrote it: the cluster entry or the global variable."""
    if key in entry or key in TOPOLOGY_KEYS:
        return f"etcd_clusters[{entry.get('name')}].{key}"
    return f"etcd_{key}"


def _check_timing(entry, settings, errors):
    heartbeat, election = settings.get("heartbeat_interval"), settings.get("election_timeout")
    if not isinstance(heartbeat, int) or isinstance(heartbeat, bool) or heartbeat <= 0:
        errors.append(f"{_source(entry, 'heartbeat_interval')} must be a positive number of ms (got {heartbeat!r})")
        return
    if not isinstance(election, int) or isinstance(election, bool):
        errors.append(f"{_source(entry, 'election_timeout')} must be a number of ms (got {election!r})")
    elif election < 5 * heartbeat:
        errors.append(
            f"{_source(entry, 'election_timeout')} ({election} ms) must be at least 5 x heartbeat interval "
            f"({_source(entry, 'heartbeat_interval')} = {heartbeat} ms): etcd refuses to start below it"
        )
    elif election > MAX_ELECTION_TIMEOUT:
        errors.append(f"{_source(entry, 'election_timeout')} ({election} ms) must not exceed {MAX_ELECTION_TIMEOUT} ms")


def _check_quota(entry, settings, errors, warnings):
    try:
        quota = etcd_size_bytes(settings.get("quota_backend_bytes"))
    except AnsibleFilterError:
        errors.append(
            f"{_source(entry, 'quota_backend_bytes')} must be a size such as 8GiB or a number of bytes "
            f"(got {settings.get('quota_backend_bytes')!r})"
        )
        return
    if quota <= 0:
        errors.append(f"{_source(entry, 'quota_backend_bytes')} must be positive (got {quota})")
    elif quota > SUGGESTED_MAX_QUOTA:
        warnings.append(
            f"{_source(entry, 'quota_backend_bytes')} is {quota} bytes, above the suggested maximum of 8 GiB"
        )


def _check_install(entry, settings, errors):
    method = settings.get("install_method")
    where = _source(entry, "install_method")
    if method not in INSTALL_METHODS:
        errors.append(f"{where} must be one of {', '.join(INSTALL_METHODS)} (got {method!r})")
    elif method == "archive":
        if not re.match(r"^3\.[56]\.\d+$", str(settings.get("version", ""))):
            errors.append(
                f"{_source(entry, 'version')} must be an etcd 3.5.x or 3.6.x release for install method archive "
                f"(got {settings.get('version')!r})"
            )
        if not settings.get("archive_src") and not (settings.get("archive_url") and settings.get("archive_checksum")):
            errors.append(
                f"install method archive needs {_source(entry, 'archive_url')} and "
                f"{_source(entry, 'archive_checksum')} (sha256:...), or {_source(entry, 'archive_src')} "
                "(a file on the controller)"
            )
        checksum = settings.get("archive_checksum")
        if checksum and not str(checksum).startswith("sha256:"):
            errors.append(f"{_source(entry, 'archive_checksum')} must start with 'sha256:' (got {checksum!r})")
    elif not settings.get("packages"):
        errors.append(f"install method package needs {_source(entry, 'packages')} (the distribution's packages)")


def _check_ports(entry, errors):
    name = entry.get("name")
    for key in PORT_KEYS:
        port = entry.get(key)
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            errors.append(f"etcd_clusters[{name}].{key} must be a port number (got {port!r})")
    ports = [entry.get(k) for k in PORT_KEYS]
    if len(set(ports)) != len(ports):
        errors.append(f"etcd_clusters[{name}]: client_port, peer_port and metrics_port must differ (got {ports})")


def _check_colocation(clusters, settings_by_name, groups, errors):
    """Clusters that share a host must not share a port or a data directory there."""
    claimed = {}
    clashes = {}
    for entry in clusters:
        name = entry.get("name")
        claims = [(f"port {entry.get(k)}", f"etcd_clusters[{name}].{k}") for k in PORT_KEYS]
        claims.append((f"data dir {settings_by_name[name].get('data_dir')}", f"etcd_clusters[{name}].data_dir"))
        for host in groups.get(entry.get("group"), []):
            for resource, owner in claims:
                other_name, other = claimed.setdefault((host, resource), (name, owner))
                if other_name != name:
                    clashes.setdefault((owner, other, resource), []).append(host)
    for (owner, other, resource), hosts in clashes.items():
        errors.append(f"{owner} clashes with {other} ({resource}) on co-located hosts {', '.join(hosts)}")


def etcd_settings_problems(clusters, global_settings, groups, data_root="/var/lib/etcd", cluster=None):
    """Check every cluster of ``etcd_clusters`` against the rules the role enforces before touching a host.

    Returns ``{"errors": [...], "warnings": [...]}``; every message names the variable at fault.
    ``groups`` is Ansible's ``groups`` (group name -> host names). ``cluster`` is the cluster being
    installed: it must have members; another cluster without members is simply not installed
    (its play has no hosts). Without ``cluster`` every cluster must have members.
    """
    errors, warnings = [], []
    if not isinstance(clusters, list) or not clusters:
        return {"errors": ["etcd_clusters must be a non-empty list of clusters"], "warnings": []}
    names = [c.get("name") if isinstance(c, dict) else None for c in clusters]
    for index, cluster_name in enumerate(names):
        if not cluster_name or not re.match(r"^[a-z][a-z0-9-]*$", str(cluster_name)):
            errors.append(f"etcd_clusters[{index}].name must be a lower-case name such as main (got {cluster_name!r})")
    duplicates = sorted({n for n in names if n and names.count(n) > 1})
    if duplicates:
        errors.append(f"etcd_clusters: duplicate cluster names {duplicates}")
    if errors:
        return {"errors": errors, "warnings": warnings}

    allowed = set(global_settings) | set(TOPOLOGY_KEYS) | {"name"}
    settings_by_name = {}
    for entry in clusters:
        name = entry["name"]
        unknown = sorted(set(entry) - allowed)
        if unknown:
            errors.append(f"etcd_clusters[{name}]: unknown settings {unknown}")
        settings = dict(global_settings)
        settings.update(entry)
        settings.setdefault("data_dir", f"{data_root.rstrip('/')}/{name}")
        settings_by_name[name] = settings
        members = groups.get(entry.get("group"), []) if entry.get("group") else []
        if not members and cluster in (None, name):
            errors.append(
                f"etcd_clusters[{name}].group: group {entry.get('group')!r} has no members "
                "(remove the cluster from etcd_clusters or add hosts)"
            )
        elif len(members) % 2 == 0:
            warnings.append(
                f"etcd_clusters[{name}].group: {len(members)} members is an even number; "
                "an odd count tolerates the same failures with one member fewer"
            )
        if not str(settings["data_dir"]).startswith("/"):
            errors.append(f"etcd_clusters[{name}].data_dir must be an absolute path (got {settings['data_dir']!r})")
        _check_ports(entry, errors)
        _check_timing(entry, settings, errors)
        _check_quota(entry, settings, errors, warnings)
        _check_install(entry, settings, errors)
    _check_colocation(clusters, settings_by_name, groups, errors)
    # A global variable at fault shows once, not once per cluster.
    return {"errors": list(dict.fromkeys(errors)), "warnings": list(dict.fromkeys(warnings))}


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
    return ",".join(f"{m['name']}=https://{_host_part(m['address'])}:{peer_port}" for m in members)


def _host_part(address):
    return f"[{address}]" if ":" in str(address) else str(address)


def etcd_urls(members, port, scheme="https"):
    """The URLs of ``[{name, address}]`` members on ``port``, in member order."""
    return [f"{scheme}://{_host_part(m['address'])}:{port}" for m in members]


def etcd_restart_order(hosts, endpoint_status, endpoint_of_host):
    """``hosts`` in their order with the current leader last.

    ``endpoint_status`` is the parsed ``etcdctl endpoint status -w json`` output (a list of
    ``{Endpoint, Status: {header: {member_id}, leader}}``), ``endpoint_of_host`` maps host -> endpoint.
    Without a leader in the status (no answer), the order is unchanged.
    """
    leader_endpoints = {
        entry.get("Endpoint")
        for entry in endpoint_status or []
        if (entry.get("Status") or {}).get("leader")
        and (entry["Status"].get("header") or {}).get("member_id") == entry["Status"]["leader"]
    }
    leaders = [h for h in hosts if endpoint_of_host.get(h) in leader_endpoints]
    return [h for h in hosts if h not in leaders] + leaders


class FilterModule:
    """etcd filters."""

    def filters(self):
        return {
            "etcd_size_bytes": etcd_size_bytes,
            "etcd_cluster_settings": etcd_cluster_settings,
            "etcd_settings_problems": etcd_settings_problems,
            "etcd_members": etcd_members,
            "etcd_initial_cluster": etcd_initial_cluster,
            "etcd_urls": etcd_urls,
            "etcd_restart_order": etcd_restart_order,
        }
