# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Filters for the kube_apiserver role: etcd override strings, limits by tier, flags, kubeadm and static pod
objects, input checks (pure functions)."""

from __future__ import annotations

import contextlib
import ipaddress
import numbers
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.cluster.plugins.module_utils.addresses import host_address, ip_problem
from ansible_collections.aiplatform.cluster.plugins.module_utils.apf import apf_problems
from ansible_collections.aiplatform.cluster.plugins.module_utils.cis import CIS_CIPHER_SUITES
from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import as_bool, as_int, is_int
from ansible_collections.aiplatform.cluster.plugins.module_utils.state_store import stores_problems
from ansible_collections.aiplatform.cluster.plugins.module_utils.urls import join_url, url_problem

# Sizing by the number of nodes the cluster is planned for. Inflight limits: upstream defaults (400/200)
# for small clusters; the sum is the concurrency APF shares out, so it grows with the clients.
TIERS = {
    "small": {"max_requests_inflight": 400, "max_mutating_requests_inflight": 200, "cpu": "1", "memory": "2Gi"},
    "medium": {"max_requests_inflight": 1000, "max_mutating_requests_inflight": 500, "cpu": "4", "memory": "16Gi"},
    "large": {"max_requests_inflight": 2000, "max_mutating_requests_inflight": 1000, "cpu": "8", "memory": "32Gi"},
    "xlarge": {"max_requests_inflight": 3000, "max_mutating_requests_inflight": 1000, "cpu": "16", "memory": "64Gi"},
}
MAX_GOAWAY_CHANCE = 0.02
RATE_LIMIT_TYPES = ("Server", "Namespace", "User", "SourceAndObject")
# CIS audit log rotation minimums.
AUDIT_MINIMUMS = {"audit_log_maxage": 30, "audit_log_maxbackup": 10, "audit_log_maxsize": 100}
# Flags the role sets for hardening or wiring: kube_apiserver_extra_args may not override them (nor blank them).
CONTROLLED_FLAGS = (
    "anonymous-auth",
    "authorization-mode",
    "enable-admission-plugins",
    "disable-admission-plugins",
    "admission-control",
    "admission-control-config-file",
    "profiling",
    "audit-policy-file",
    "audit-log-path",
    "audit-log-maxage",
    "audit-log-maxbackup",
    "audit-log-maxsize",
    "encryption-provider-config",
    "tls-cipher-suites",
    "tls-min-version",
    "tls-cert-file",
    "tls-private-key-file",
    "client-ca-file",
    "kubelet-certificate-authority",
    "kubelet-client-certificate",
    "kubelet-client-key",
    "requestheader-client-ca-file",
    "requestheader-allowed-names",
    "proxy-client-cert-file",
    "proxy-client-key-file",
    "service-account-lookup",
    "service-account-key-file",
    "service-account-signing-key-file",
    "service-account-issuer",
    "service-account-extend-token-expiration",
    "service-cluster-ip-range",
    "token-auth-file",
    "advertise-address",
    "bind-address",
    "secure-port",
    "etcd-servers",
    "etcd-servers-overrides",
    "etcd-cafile",
    "etcd-certfile",
    "etcd-keyfile",
    "max-requests-inflight",
    "max-mutating-requests-inflight",
    "goaway-chance",
    "event-ttl",
    "request-timeout",
)
# Flags that open the API whatever the role sets (removed or insecure ones): never accepted in extra args.
REFUSED_FLAGS = ("insecure-port", "insecure-bind-address", "basic-auth-file", "kubelet-https", "enable-swagger-ui")
# CIS 1.2.10: an admission plugin that admits everything.
REFUSED_ADMISSION_PLUGINS = ("AlwaysAdmit",)
_PLUGIN_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_FLAG_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# Flags that kubeadm takes from etcd.external or InitConfiguration/JoinConfiguration, not from extraArgs.
KUBEADM_OWN_FLAGS = ("etcd-servers", "etcd-cafile", "etcd-certfile", "etcd-keyfile", "advertise-address", "secure-port")
_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$")
_DNS_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
KUBE_PROXY_MODES = ("ipvs", "iptables", "nftables")
# The kubeadm phase that installs kube-proxy: skipped when the pod network replaces it.
KUBE_PROXY_PHASE = "addon/kube-proxy"
INIT_TOKEN_TTL = "10m0s"
_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def kube_apiserver_etcd_overrides(resources, servers):
    """``--etcd-servers-overrides``: ``group/resource#s1;s2`` for each of ``resources``, joined by commas.

    A core resource is ``/events`` (``events`` gives the same); ``servers`` are client URLs of the cluster.
    """
    servers = [str(s) for s in servers or []]
    if not servers:
        raise AnsibleFilterError(f"kube_apiserver_etcd_overrides: no servers for {list(resources or [])}")
    parts = []
    for entry in resources or []:
        resource = str(entry).strip()
        if not resource or resource.endswith("/"):
            raise AnsibleFilterError(f"kube_apiserver_etcd_overrides: {resource!r} is not group/resource")
        parts.append(f"{resource if '/' in resource else '/' + resource}#{';'.join(servers)}")
    return ",".join(parts)


def kube_apiserver_etcd_servers(clusters, groups, hostvars, overrides="auto"):
    """Where kube-apiserver keeps what, from ``topology_etcd_clusters``: the one place this is computed.

    The cluster without ``apiserver_resources`` is the main store (``--etcd-servers``); every other
    cluster's resources become ``--etcd-servers-overrides`` entries. ``groups`` is Ansible's ``groups``,
    ``hostvars`` gives each member's address (``etcd_address``, else its facts' default IPv4 address; IPv6
    in brackets in the URLs). ``overrides``: ``auto`` (clusters with members get their overrides), true
    (every such cluster must have members: see ``unserved``), false (everything in the main store).
    Returns ``{main, servers, overrides, override_clusters, unserved, no_address}``.
    """
    mode = "auto" if str(overrides).strip().lower() == "auto" else as_bool(overrides)
    result = {"main": None, "servers": [], "overrides": "", "override_clusters": [], "unserved": [], "no_address": []}
    parts = []
    for cluster in clusters or []:
        urls = []
        for host in (groups or {}).get(cluster.get("group")) or []:
            address = host_address((hostvars or {}).get(host), "etcd_address")
            if address is None:
                result["no_address"].append(host)
            else:
                urls.append(join_url("https", address, cluster["client_port"]))
        resources = cluster.get("apiserver_resources") or []
        if not resources:
            result["main"], result["servers"] = cluster["name"], urls
        elif mode is False:
            continue
        elif not urls:
            if mode is True:
                result["unserved"].append(cluster["name"])
        else:
            result["override_clusters"].append(cluster["name"])
            parts.append(kube_apiserver_etcd_overrides(resources, urls))
    result["overrides"] = ",".join(parts)
    return result


def kube_apiserver_limits(tier, max_requests_inflight=None, max_mutating_requests_inflight=None):
    """The inflight limits and pod resource requests of ``tier``, with explicit limits taking precedence."""
    if tier not in TIERS:
        raise AnsibleFilterError(f"kube_apiserver_cluster_tier must be one of {', '.join(TIERS)} (got {tier!r})")
    limits = dict(TIERS[tier])
    if max_requests_inflight is not None:
        limits["max_requests_inflight"] = max_requests_inflight
    if max_mutating_requests_inflight is not None:
        limits["max_mutating_requests_inflight"] = max_mutating_requests_inflight
    return limits


def _limits(settings):
    return kube_apiserver_limits(
        settings["cluster_tier"], settings.get("max_requests_inflight"), settings.get("max_mutating_requests_inflight")
    )


def _check_inflight(settings, errors):
    for key in ("max_requests_inflight", "max_mutating_requests_inflight"):
        value = settings.get(key)
        if value is not None and (not is_int(value) or value <= 0):
            errors.append(
                f"kube_apiserver_{key} must be a positive integer, or null for the tier's value (got {value!r})"
            )


def _check_etcd(settings, errors):
    etcd = settings.get("etcd") or {}
    if etcd.get("no_address"):
        errors.append(
            f"etcd_address: no address for etcd member(s) {', '.join(sorted(set(etcd['no_address'])))} "
            "(set etcd_address, or gather their facts: playbooks/kube_apiserver.yml does)"
        )
    elif not etcd.get("servers"):
        errors.append(
            f"topology_etcd_clusters: the main etcd cluster {etcd.get('main')!r} (the one without "
            "apiserver_resources) has no members"
        )
    for name in etcd.get("unserved") or []:
        errors.append(
            f"kube_apiserver_etcd_events_override: true, but etcd cluster {name!r} has no members "
            "(add hosts to its group, or set it to auto or false)"
        )


def _check_replicas(settings, errors, warnings):
    hosts = settings.get("control_plane_hosts") or []
    if not hosts:
        errors.append(
            f"topology_groups.control_plane: group {settings.get('group')!r} has no hosts "
            "(the control plane needs at least one)"
        )
    elif len(hosts) < 3:
        message = (
            f"topology_groups.control_plane: {len(hosts)} replica(s) in {settings.get('group')!r}; "
            "at least 3 keep the API available through a failure"
        )
        if settings.get("profile") == "production":
            errors.append(message + " (required by kube_apiserver_profile production)")
        else:
            warnings.append(message)
    elif len(hosts) % 2 == 0:
        message = (
            f"topology_groups.control_plane: {len(hosts)} control planes in {settings.get('group')!r}, an even "
            "number: the last one adds no failure tolerance to a majority (stacked etcd) and costs a replica "
            f"(use {len(hosts) - 1} or {len(hosts) + 1})"
        )
        if settings.get("profile") == "production":
            errors.append(message + " (required by kube_apiserver_profile production)")
        else:
            warnings.append(message)
    if len(hosts) > 1 and not settings.get("control_plane_endpoint"):
        message = (
            f"kube_apiserver_control_plane_endpoint: {len(hosts)} control planes need a load-balancer address "
            "(kubeadm refuses to join a control plane to a cluster without one)"
        )
        # A warning here (the configuration is still valid); kubeadm_control_plane refuses it before a join.
        warnings.append(message)


def _check_limits(settings, errors):
    goaway = settings.get("goaway_chance")
    if not _is_number(goaway) or not 0 <= goaway <= MAX_GOAWAY_CHANCE:
        errors.append(f"kube_apiserver_goaway_chance must be a number from 0 to {MAX_GOAWAY_CHANCE} (got {goaway!r})")
    for key in ("event_ttl", "request_timeout"):
        if not _DURATION.match(str(settings.get(key, ""))):
            errors.append(f"kube_apiserver_{key} must be a duration such as 1h or 60s (got {settings.get(key)!r})")


def _check_hardening(settings, errors):
    for key, minimum in AUDIT_MINIMUMS.items():
        value = settings.get(key)
        if not is_int(value) or value < minimum:
            errors.append(f"kube_apiserver_{key} must be an integer of at least {minimum} (CIS 1.2; got {value!r})")
    suites = settings.get("tls_cipher_suites")
    if not isinstance(suites, list) or not suites:
        errors.append("kube_apiserver_tls_cipher_suites must be a non-empty list")
    else:
        outside = [s for s in suites if s not in CIS_CIPHER_SUITES]
        if outside:
            errors.append(
                f"kube_apiserver_tls_cipher_suites: {outside} are not in the CIS 1.2 set {list(CIS_CIPHER_SUITES)}"
            )
    _check_extra_args(settings.get("extra_args"), errors)
    _check_admission_plugins(settings.get("admission_plugins"), errors)
    for index, limit in enumerate(settings.get("event_rate_limits") or []):
        if not isinstance(limit, dict) or limit.get("type") not in RATE_LIMIT_TYPES:
            errors.append(f"kube_apiserver_event_rate_limits[{index}].type must be one of {RATE_LIMIT_TYPES}")
        elif not all(is_int(limit.get(k)) and limit.get(k) > 0 for k in ("qps", "burst")):
            errors.append(f"kube_apiserver_event_rate_limits[{index}] needs positive integers qps and burst")


def _check_extra_args(extra, errors):
    """kube_apiserver_extra_args adds flags; it cannot blank, weaken or override what the role controls."""
    if extra in (None, ""):
        return
    if not isinstance(extra, dict):
        errors.append(
            f"kube_apiserver_extra_args must be a dict of flag name (without dashes) -> value (got {extra!r})"
        )
        return
    controlled = sorted(set(extra) & set(CONTROLLED_FLAGS))
    if controlled:
        errors.append(
            f"kube_apiserver_extra_args must not set {controlled}: the role sets them (use its variables instead)"
        )
    refused = sorted(set(extra) & set(REFUSED_FLAGS))
    if refused:
        errors.append(
            f"kube_apiserver_extra_args must not set {refused}: they open the API (removed or insecure flags)"
        )
    for name, value in extra.items():
        if not _FLAG_NAME.match(str(name)):
            errors.append(
                f"kube_apiserver_extra_args: {name!r} is not a flag name (lower case, without leading dashes or '=')"
            )
        elif name not in CONTROLLED_FLAGS and (value is None or str(value).strip() == ""):
            errors.append(f"kube_apiserver_extra_args.{name} must not be empty (leave the flag out instead)")


def _check_admission_plugins(plugins, errors):
    if not isinstance(plugins, list):
        errors.append(f"kube_apiserver_admission_plugins must be a list of plugin names (got {plugins!r})")
        return
    for plugin in plugins:
        if not _PLUGIN_NAME.match(str(plugin)):
            errors.append(f"kube_apiserver_admission_plugins: {plugin!r} is not one plugin name (no commas or spaces)")
        elif plugin in REFUSED_ADMISSION_PLUGINS:
            errors.append(
                f"kube_apiserver_admission_plugins must not enable {plugin}: it admits every request (CIS 1.2.10)"
            )


def _check_addresses(settings, errors):
    """Addresses and URLs the flags and certificates carry: each the kind of value kube-apiserver parses."""
    for key in ("advertise_address", "bind_address"):
        value = settings.get(key)
        problem = ip_problem(value) if key == "advertise_address" else _any_ip_problem(value)
        if problem:
            errors.append(f"kube_apiserver_{key}: {problem} (got {value!r})")
    try:
        ipaddress.ip_network(str(settings.get("service_cidr")), strict=True)
    except ValueError:
        errors.append(
            f"kube_apiserver_service_cidr must be a network such as 10.96.0.0/12 (got {settings.get('service_cidr')!r})"
        )
    port = settings.get("secure_port")
    if not is_int(port) or not 1 <= port <= 65535:
        errors.append(f"kube_apiserver_secure_port must be a port number from 1 to 65535 (got {port!r})")
    problem = url_problem(settings.get("service_account_issuer"), schemes=("https",))
    if problem:
        errors.append(
            f"kube_apiserver_service_account_issuer: {problem} (got {settings.get('service_account_issuer')!r})"
        )
    endpoint = str(settings.get("control_plane_endpoint") or "")
    if endpoint and endpoint_problem(endpoint):
        errors.append(
            "kube_apiserver_control_plane_endpoint must be an IP address or a DNS name, with an optional :port "
            f"(1-65535), without a scheme ({endpoint_problem(endpoint)}; got {endpoint!r})"
        )
    for key in ("audit_log_path", "pki_dir", "config_dir"):
        if not str(settings.get(key) or "").startswith("/"):
            errors.append(f"kube_apiserver_{key} must be an absolute path (got {settings.get(key)!r})")


def _split_endpoint(endpoint):
    """(host, port or None, problem or None) of ``host``, ``host:port`` or ``[v6]:port``."""
    host, port = str(endpoint), None
    if host.startswith("["):
        if "]" not in host:
            return host, None, "no closing bracket"
        inside, rest = host[1:].split("]", 1)
        if rest and not rest.startswith(":"):
            return inside, None, "text after the bracketed address"
        if ":" not in inside or ip_problem(inside):
            return inside, None, "not an IPv6 address in the brackets"
        return inside, rest[1:] if rest else None, None
    if host.count(":") == 1:
        host, port = host.split(":")
    return host, port, None


def endpoint_problem(endpoint):
    """Why ``endpoint`` is not ``host`` or ``host:port`` (host: an IP address, IPv6 in brackets with a port,
    or a DNS name), or None."""
    if "://" in str(endpoint) or "/" in str(endpoint):
        return "a scheme or a path"
    host, port, problem = _split_endpoint(endpoint)
    if not problem and port is not None and (not port.isdigit() or not 1 <= int(port) <= 65535):
        problem = f"port {port!r}"
    if problem or not ip_problem(host) or _any_ip_problem(host) is None:
        return problem
    labels = host.rstrip(".").split(".")
    if not host or len(host) > 253 or not all(_DNS_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        return f"{host!r} is neither an IP address nor a DNS name"
    return None


def _seconds(value):
    """A Go duration in seconds, or None."""
    text = str(value or "")
    if not _DURATION.match(text):
        return None
    return sum(float(n) * _UNITS[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)", text))


def _check_networks(settings, errors):
    """The pod CIDR: a network, apart from the service CIDR and the hosts' networks (routes would clash)."""
    pod_cidr = settings.get("pod_cidr")
    try:
        pods = ipaddress.ip_network(str(pod_cidr), strict=True)
    except ValueError:
        errors.append(f"kube_apiserver_pod_cidr must be a network such as 10.128.0.0/11 (got {pod_cidr!r})")
        return
    with contextlib.suppress(ValueError):
        services = ipaddress.ip_network(str(settings.get("service_cidr")), strict=True)
        if services.version == pods.version and pods.overlaps(services):
            errors.append(
                f"kube_apiserver_pod_cidr {pods} overlaps kube_apiserver_service_cidr {services} (they must be apart)"
            )
    for network in settings.get("host_networks") or []:
        with contextlib.suppress(ValueError):
            hosts = ipaddress.ip_network(str(network), strict=False)
            if hosts.version == pods.version and pods.overlaps(hosts):
                errors.append(f"kube_apiserver_pod_cidr {pods} overlaps the hosts' network {hosts}")
    mask = settings.get("node_cidr_mask_size")
    if not is_int(mask) or not pods.prefixlen <= mask <= pods.max_prefixlen - 2:
        errors.append(
            f"kube_apiserver_node_cidr_mask_size must be an integer from the pod CIDR's prefix length "
            f"({pods.prefixlen}) to {pods.max_prefixlen - 2} (got {mask!r})"
        )


def _check_components(settings, errors):
    """controller-manager, scheduler and kube-proxy settings: numbers, durations and how they relate."""
    _check_rates(settings, errors)
    _check_periods(settings, errors)
    syncs = settings.get("controller_manager_concurrent_syncs")
    if not isinstance(syncs, dict):
        errors.append(f"kube_apiserver_controller_manager_concurrent_syncs must be a dict (got {syncs!r})")
    else:
        for name, value in syncs.items():
            if not _FLAG_NAME.match(str(name)) or not is_int(value) or value < 1:
                errors.append(
                    f"kube_apiserver_controller_manager_concurrent_syncs.{name} must name a controller "
                    f"(--concurrent-<name>-syncs) and be a positive integer (got {value!r})"
                )
    if settings.get("kube_proxy_mode") not in KUBE_PROXY_MODES:
        errors.append(
            f"kube_apiserver_kube_proxy_mode must be one of {', '.join(KUBE_PROXY_MODES)} "
            f"(got {settings.get('kube_proxy_mode')!r})"
        )


def _check_rates(settings, errors):
    for component in ("controller_manager", "scheduler"):
        qps, burst = settings.get(f"{component}_kube_api_qps"), settings.get(f"{component}_kube_api_burst")
        for key, value in ((f"{component}_kube_api_qps", qps), (f"{component}_kube_api_burst", burst)):
            if not is_int(value) or value < 1:
                errors.append(f"kube_apiserver_{key} must be a positive integer (got {value!r})")
        if is_int(qps) and is_int(burst) and 0 < burst < qps:
            errors.append(f"kube_apiserver_{component}_kube_api_burst must be at least its qps ({qps}; got {burst})")


_PERIODS = ("node_monitor_period", "node_monitor_grace_period", "leader_elect_lease_duration",
            "leader_elect_renew_deadline", "leader_elect_retry_period", "kube_proxy_sync_period",
            "kube_proxy_min_sync_period")  # fmt: skip


def _check_periods(settings, errors):
    seconds = {key: _seconds(settings.get(key)) for key in _PERIODS}
    for key, value in seconds.items():
        if not value:
            errors.append(f"kube_apiserver_{key} must be a duration such as 40s (got {settings.get(key)!r})")
    period, grace = seconds["node_monitor_period"], seconds["node_monitor_grace_period"]
    if period and grace and grace <= period:
        errors.append("kube_apiserver_node_monitor_grace_period must be longer than kube_apiserver_node_monitor_period")
    lease, renew, retry = (seconds[f"leader_elect_{k}"] for k in ("lease_duration", "renew_deadline", "retry_period"))
    if lease and renew and retry and not retry < renew < lease:
        errors.append(
            "kube_apiserver_leader_elect_retry_period < kube_apiserver_leader_elect_renew_deadline < "
            "kube_apiserver_leader_elect_lease_duration must hold (leader election refuses otherwise)"
        )


def _any_ip_problem(value):
    """An IP address, the unspecified ones (listen everywhere) included."""
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return "must be an IP address (0.0.0.0 or :: listens everywhere)"
    return None


# Settings typed once (values from -e arrive as strings); values that do not convert stay for the checks.
_INT_KEYS = ("secure_port", "audit_log_maxage", "audit_log_maxbackup", "audit_log_maxsize", "max_requests_inflight",
             "max_mutating_requests_inflight", "replicas", "node_cidr_mask_size", "controller_manager_kube_api_qps",
             "controller_manager_kube_api_burst", "scheduler_kube_api_qps", "scheduler_kube_api_burst")  # fmt: skip


# Lists that -e gives as one comma-separated string.
_LIST_KEYS = ("admission_plugins", "tls_cipher_suites", "cert_sans")


def _typed(settings):
    typed = dict(settings)
    for key in _INT_KEYS:
        if typed.get(key) is not None and as_int(typed[key]) is not None:
            typed[key] = as_int(typed[key])
    for key in _LIST_KEYS:
        if isinstance(typed.get(key), str):
            typed[key] = [item.strip() for item in typed[key].split(",") if item.strip()]
    goaway = typed.get("goaway_chance")
    if isinstance(goaway, str):
        with contextlib.suppress(ValueError):
            typed["goaway_chance"] = float(goaway)
    return typed


def kube_apiserver_problems(settings):
    """Check the role's inputs (``settings``, keys are the variable names without ``kube_apiserver_``).

    Extra keys: ``control_plane_hosts`` (the group's hosts), ``etcd`` (the result of
    :func:`kube_apiserver_etcd_servers`), ``stores`` (the controller's secret stores, [{variable, path,
    work_tree}]: refused inside a git work tree unless ``state_allow_in_git``).
    Returns ``{"errors": [...], "warnings": [...]}``; every message
    names the variable at fault.
    """
    errors, warnings = [], []
    settings = _typed(settings)
    _check_replicas(settings, errors, warnings)
    _check_etcd(settings, errors)
    _check_inflight(settings, errors)
    _check_limits(settings, errors)
    _check_hardening(settings, errors)
    _check_addresses(settings, errors)
    errors.extend(stores_problems(settings.get("stores"), settings.get("state_allow_in_git")))
    _check_networks(settings, errors)
    _check_components(settings, errors)
    if "apf_priority_levels" in settings or "apf_flow_schemas" in settings:
        errors.extend(apf_problems(settings.get("apf_priority_levels", []), settings.get("apf_flow_schemas", [])))
    return {"errors": errors, "warnings": warnings}


def kube_apiserver_flags(settings):
    """Every kube-apiserver flag (name without dashes -> string value) from the role's settings.

    ``settings`` carries the role variables (without the prefix) plus ``replicas``, ``etcd`` (the result of
    :func:`kube_apiserver_etcd_servers`) and the etcd client file paths.
    """
    settings = _typed(settings)
    pki = settings["pki_dir"].rstrip("/")
    conf = settings["config_dir"].rstrip("/")
    limits = _limits(settings)
    plugins = ["NodeRestriction"] + (["EventRateLimit"] if settings.get("event_rate_limits") else [])
    plugins += [p for p in settings.get("admission_plugins") or [] if p not in plugins]
    flags = {
        "advertise-address": settings["advertise_address"],
        "secure-port": str(settings["secure_port"]),
        "bind-address": settings["bind_address"],
        "allow-privileged": "true",
        "anonymous-auth": "false",
        "authorization-mode": "Node,RBAC",
        "enable-admission-plugins": ",".join(plugins),
        "enable-bootstrap-token-auth": "true",
        "profiling": "false",
        "client-ca-file": f"{pki}/ca.crt",
        "tls-cert-file": f"{pki}/apiserver.crt",
        "tls-private-key-file": f"{pki}/apiserver.key",
        "tls-min-version": "VersionTLS12",
        "tls-cipher-suites": ",".join(settings["tls_cipher_suites"]),
        "kubelet-client-certificate": f"{pki}/apiserver-kubelet-client.crt",
        "kubelet-client-key": f"{pki}/apiserver-kubelet-client.key",
        "kubelet-certificate-authority": f"{pki}/ca.crt",
        "kubelet-preferred-address-types": "InternalIP,ExternalIP,Hostname",
        "proxy-client-cert-file": f"{pki}/front-proxy-client.crt",
        "proxy-client-key-file": f"{pki}/front-proxy-client.key",
        "requestheader-client-ca-file": f"{pki}/front-proxy-ca.crt",
        "requestheader-allowed-names": "front-proxy-client",
        "requestheader-extra-headers-prefix": "X-Remote-Extra-",
        "requestheader-group-headers": "X-Remote-Group",
        "requestheader-username-headers": "X-Remote-User",
        "service-account-lookup": "true",
        "service-account-key-file": f"{pki}/sa.pub",
        "service-account-signing-key-file": f"{pki}/sa.key",
        "service-account-issuer": settings["service_account_issuer"],
        # CIS 1.2.30 (cis-1.11 and later): tokens expire when they say, not a year later.
        "service-account-extend-token-expiration": "false",
        "service-cluster-ip-range": settings["service_cidr"],
        "etcd-servers": ",".join(settings["etcd"]["servers"]),
        "etcd-cafile": settings["etcd_ca_file"],
        "etcd-certfile": settings["etcd_cert_file"],
        "etcd-keyfile": settings["etcd_key_file"],
        "audit-policy-file": f"{conf}/audit-policy.yaml",
        "audit-log-path": settings["audit_log_path"],
        "audit-log-maxage": str(settings["audit_log_maxage"]),
        "audit-log-maxbackup": str(settings["audit_log_maxbackup"]),
        "audit-log-maxsize": str(settings["audit_log_maxsize"]),
        "encryption-provider-config": f"{conf}/encryption-config.yaml",
        "max-requests-inflight": str(limits["max_requests_inflight"]),
        "max-mutating-requests-inflight": str(limits["max_mutating_requests_inflight"]),
        "event-ttl": str(settings["event_ttl"]),
        "request-timeout": str(settings["request_timeout"]),
        "enable-priority-and-fairness": "true",
    }
    if settings["etcd"].get("overrides"):
        flags["etcd-servers-overrides"] = settings["etcd"]["overrides"]
    if settings.get("event_rate_limits"):
        flags["admission-control-config-file"] = f"{conf}/admission-config.yaml"
    # GOAWAY rebalances long-lived HTTP/2 connections: only useful with several replicas behind a balancer.
    if settings.get("goaway_chance") and settings.get("replicas", 1) > 1 and settings.get("control_plane_endpoint"):
        flags["goaway-chance"] = str(settings["goaway_chance"])
    flags.update({str(k): str(v) for k, v in (settings.get("extra_args") or {}).items()})
    return flags


def _volumes(settings):
    """hostPath mounts the apiserver needs beyond kubeadm's own (config dir, audit log dir)."""
    audit_dir = settings["audit_log_path"].rsplit("/", 1)[0]
    return [
        {"name": "apiserver-config", "hostPath": settings["config_dir"], "mountPath": settings["config_dir"],
         "readOnly": True, "pathType": "Directory"},
        {"name": "audit-log", "hostPath": audit_dir, "mountPath": audit_dir, "readOnly": False,
         "pathType": "DirectoryOrCreate"},
    ]  # fmt: skip


def kube_apiserver_kubeadm_config(flags, settings):
    """kubeadm ``ClusterConfiguration`` (v1beta4): etcd.external from the etcd flags, the rest as extraArgs."""
    settings = _typed(settings)
    config = {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "ClusterConfiguration",
        "kubernetesVersion": f"v{settings['kubernetes_version']}",
        "clusterName": settings["cluster_name"],
        "certificatesDir": settings["pki_dir"],
        "imageRepository": settings["image_repository"],
        "networking": {"serviceSubnet": settings["service_cidr"], "dnsDomain": settings["dns_domain"]},
        "etcd": {
            "external": {
                "endpoints": flags["etcd-servers"].split(","),
                "caFile": flags["etcd-cafile"],
                "certFile": flags["etcd-certfile"],
                "keyFile": flags["etcd-keyfile"],
            }
        },
        "apiServer": {
            "extraArgs": [{"name": k, "value": v} for k, v in sorted(flags.items()) if k not in KUBEADM_OWN_FLAGS],
            "extraVolumes": _volumes(settings),
        },
    }
    config["networking"]["podSubnet"] = settings["pod_cidr"]
    for key, args in kube_apiserver_component_args(settings).items():
        config[key] = {"extraArgs": [{"name": k, "value": v} for k, v in sorted(args.items())]}
    if settings.get("control_plane_endpoint"):
        config["controlPlaneEndpoint"] = settings["control_plane_endpoint"]
    if settings.get("cert_sans"):
        config["apiServer"]["certSANs"] = list(settings["cert_sans"])
    return config


def _leader_election(settings):
    return {
        "leader-elect": "true",
        "leader-elect-lease-duration": str(settings["leader_elect_lease_duration"]),
        "leader-elect-renew-deadline": str(settings["leader_elect_renew_deadline"]),
        "leader-elect-retry-period": str(settings["leader_elect_retry_period"]),
    }


def kube_apiserver_component_args(settings):
    """kube-controller-manager and kube-scheduler flags for large clusters (kubeadm ``extraArgs`` by component):
    their client rate limits, the node monitor periods, leader election and the controllers' concurrent syncs."""
    settings = _typed(settings)
    manager = {
        "kube-api-qps": str(settings["controller_manager_kube_api_qps"]),
        "kube-api-burst": str(settings["controller_manager_kube_api_burst"]),
        "node-monitor-period": str(settings["node_monitor_period"]),
        "node-monitor-grace-period": str(settings["node_monitor_grace_period"]),
        "node-cidr-mask-size": str(settings["node_cidr_mask_size"]),
        "profiling": "false",
        "terminated-pod-gc-threshold": str(settings["controller_manager_terminated_pod_gc_threshold"]),
    } | _leader_election(settings)
    for name, value in sorted((settings.get("controller_manager_concurrent_syncs") or {}).items()):
        manager[f"concurrent-{name}-syncs"] = str(value)
    scheduler = {
        "kube-api-qps": str(settings["scheduler_kube_api_qps"]),
        "kube-api-burst": str(settings["scheduler_kube_api_burst"]),
        "profiling": "false",
    } | _leader_election(settings)
    return {"controllerManager": manager, "scheduler": scheduler}


def kube_apiserver_kube_proxy_config(settings):
    """kube-proxy's ``KubeProxyConfiguration`` (kubeproxy.config.k8s.io/v1alpha1) for kubeadm, or None when
    the pod network replaces kube-proxy (then InitConfiguration skips the ``addon/kube-proxy`` phase)."""
    settings = _typed(settings)
    if not as_bool(settings.get("kube_proxy_enabled")):
        return None
    mode = settings["kube_proxy_mode"]
    config = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": mode,
        "clusterCIDR": settings["pod_cidr"],
        "metricsBindAddress": "0.0.0.0:10249",
        "clientConnection": {"qps": 50, "burst": 100},
    }
    periods = {"syncPeriod": str(settings["kube_proxy_sync_period"]),
               "minSyncPeriod": str(settings["kube_proxy_min_sync_period"])}  # fmt: skip
    # IPVS: one hash lookup per packet whatever the number of Services (iptables walks its chains);
    # strictARP for balancers that announce Service addresses (MetalLB).
    if mode == "ipvs":
        config["ipvs"] = periods | {"scheduler": "rr", "strictARP": True}
    else:
        config[mode] = periods
    return config


def kube_apiserver_kubeadm_init(settings, certificate_key=""):
    """kubeadm's per-host ``InitConfiguration``: this replica's endpoint, the patches folder (``patches_dir``:
    the topology's ``topology_kubeadm_patches_dir``, also the kubelet's patch folder), the certificate key of
    ``--upload-certs`` (secret) and the phases skipped (kube-proxy when the pod network replaces it)."""
    settings = _typed(settings)
    init = {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "InitConfiguration",
        "localAPIEndpoint": {"advertiseAddress": settings["advertise_address"], "bindPort": settings["secure_port"]},
        "patches": {"directory": settings["patches_dir"]},
    }
    if certificate_key:
        init["certificateKey"] = str(certificate_key)
    # kubeadm init always makes a bootstrap token (24h by default): this one dies soon; the joins get their own.
    init["bootstrapTokens"] = [{"ttl": INIT_TOKEN_TTL, "description": "kubeadm init (aiplatform.cluster)"}]
    if not as_bool(settings.get("kube_proxy_enabled")):
        init["skipPhases"] = [KUBE_PROXY_PHASE]
    return init


def _probe(settings, **extra):
    return {"tcpSocket": {"host": settings["advertise_address"], "port": settings["secure_port"]}} | extra


def kube_apiserver_probes(settings):
    """Liveness, readiness and startup probes on the secure port's TCP socket.

    With anonymous-auth=false the apiserver answers 401 to the kubelet's unauthenticated HTTP probes.
    """
    settings = _typed(settings)
    return {
        "livenessProbe": _probe(settings, initialDelaySeconds=10, periodSeconds=10, failureThreshold=8),
        "readinessProbe": _probe(settings, periodSeconds=1, failureThreshold=3),
        "startupProbe": _probe(settings, initialDelaySeconds=10, periodSeconds=10, failureThreshold=24),
    }


def kube_apiserver_kubeadm_patch(settings):
    """A strategic merge patch for kubeadm's kube-apiserver pod: TCP probes and the tier's requests."""
    settings = _typed(settings)
    probes = {name: {"httpGet": None} | probe for name, probe in kube_apiserver_probes(settings).items()}
    container = {"name": "kube-apiserver", "resources": {"requests": _requests(settings)}} | probes
    return {"spec": {"containers": [container]}}


def _requests(settings):
    limits = _limits(settings)
    return {"cpu": limits["cpu"], "memory": limits["memory"]}


def kube_apiserver_static_pod(flags, settings):
    """The kube-apiserver static pod (``v1`` Pod) running with ``flags``."""
    settings = _typed(settings)
    pki = settings["pki_dir"]
    mounts = [{"name": "k8s-certs", "hostPath": pki, "mountPath": pki, "readOnly": True, "pathType": "Directory"}]
    mounts += [{"name": "ca-certs", "hostPath": "/etc/ssl/certs", "mountPath": "/etc/ssl/certs", "readOnly": True,
                "pathType": "DirectoryOrCreate"}]  # fmt: skip
    etcd_dir = settings["etcd_ca_file"].rsplit("/", 1)[0]
    if not etcd_dir.startswith(pki.rstrip("/") + "/"):
        mounts.append({"name": "etcd-certs", "hostPath": etcd_dir, "mountPath": etcd_dir, "readOnly": True,
                       "pathType": "Directory"})  # fmt: skip
    mounts += _volumes(settings)
    container = {
        "name": "kube-apiserver",
        "image": f"{settings['image_repository']}/kube-apiserver:v{settings['kubernetes_version']}",
        "imagePullPolicy": "IfNotPresent",
        "command": ["kube-apiserver"] + [f"--{k}={v}" for k, v in sorted(flags.items())],
        "resources": {"requests": _requests(settings)},
        "volumeMounts": [{"name": m["name"], "mountPath": m["mountPath"], "readOnly": m["readOnly"]} for m in mounts],
    } | kube_apiserver_probes(settings)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "kube-apiserver",
            "namespace": "kube-system",
            "labels": {"component": "kube-apiserver", "tier": "control-plane"},
        },
        "spec": {
            "hostNetwork": True,
            "priorityClassName": "system-node-critical",
            "priority": 2000001000,
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [container],
            "volumes": [
                {"name": m["name"], "hostPath": {"path": m["hostPath"], "type": m["pathType"]}} for m in mounts
            ],
        },
    }


class FilterModule:
    """kube_apiserver filters."""

    def filters(self):
        return {
            "kube_apiserver_etcd_overrides": kube_apiserver_etcd_overrides,
            "kube_apiserver_etcd_servers": kube_apiserver_etcd_servers,
            "kube_apiserver_limits": kube_apiserver_limits,
            "kube_apiserver_problems": kube_apiserver_problems,
            "kube_apiserver_flags": kube_apiserver_flags,
            "kube_apiserver_kubeadm_config": kube_apiserver_kubeadm_config,
            "kube_apiserver_kubeadm_init": kube_apiserver_kubeadm_init,
            "kube_apiserver_component_args": kube_apiserver_component_args,
            "kube_apiserver_kube_proxy_config": kube_apiserver_kube_proxy_config,
            "kube_apiserver_probes": kube_apiserver_probes,
            "kube_apiserver_kubeadm_patch": kube_apiserver_kubeadm_patch,
            "kube_apiserver_static_pod": kube_apiserver_static_pod,
        }
