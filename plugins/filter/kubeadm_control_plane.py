# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Filters for the kubeadm_control_plane role and the worker join: what the rendered kubeadm configuration
says, the JoinConfiguration, a host's kubeadm state and the input rules (pure functions)."""

from __future__ import annotations

import re

from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import Problems

_KUBEADM_VERSION = "kubeadm.k8s.io/v1beta4"
_HEX_KEY = re.compile(r"^[0-9a-f]{64}$")
_DURATION = re.compile(r"^(\d+(s|m|h))+$")
_UNITS = {"s": 1, "m": 60, "h": 3600}
# A bootstrap token lives long enough for a batch of joins, not for a day (kubeadm's default is 24h).
MAX_TOKEN_TTL_S = 3600


def _kind(documents, kind):
    for document in documents or []:
        if isinstance(document, dict) and document.get("kind") == kind:
            return document
    return {}


def _host_port(host, port):
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def kubeadm_control_plane_config(documents):
    """What the kube_apiserver role's kubeadm configuration (its YAML documents) says for init and the joins.

    Returns ``{control_plane_endpoint, discovery_endpoint, advertise_address, bind_port, certificate_key,
    patches_dir, pki_dir}``: ``discovery_endpoint`` is the balancer (``controlPlaneEndpoint``, with the bind
    port when it has none) or, without one, this replica's own address.
    """
    init = _kind(documents, "InitConfiguration")
    cluster = _kind(documents, "ClusterConfiguration")
    local = init.get("localAPIEndpoint") or {}
    port = int(local.get("bindPort") or 6443)
    endpoint = str(cluster.get("controlPlaneEndpoint") or "")
    if endpoint and not re.search(r"(\]|^[^:\[]*):\d+$", endpoint):
        endpoint = _host_port(endpoint.strip("[]"), port)
    return {
        "control_plane_endpoint": str(cluster.get("controlPlaneEndpoint") or ""),
        "discovery_endpoint": endpoint or _host_port(local.get("advertiseAddress", ""), port),
        "advertise_address": str(local.get("advertiseAddress") or ""),
        "bind_port": port,
        "certificate_key": str(init.get("certificateKey") or ""),
        "patches_dir": str((init.get("patches") or {}).get("directory") or ""),
        "pki_dir": str(cluster.get("certificatesDir") or "/etc/kubernetes/pki"),
    }


def kubeadm_control_plane_join(discovery, control_plane=None, patches_dir=""):
    """A ``JoinConfiguration`` (v1beta4): bootstrap-token discovery pinned to the CA's public key, kubeadm's
    patches folder (``patches_dir``: the topology's ``topology_kubeadm_patches_dir``, where the kubelet role
    writes the ``kubeletconfiguration`` patch and, on a control plane, kube_apiserver the apiserver's), plus,
    for a control plane (``control_plane``: its :func:`kubeadm_control_plane_config`), its endpoint and the
    certificate key of the uploaded certificates."""
    join = {
        "apiVersion": _KUBEADM_VERSION,
        "kind": "JoinConfiguration",
        "discovery": {
            "bootstrapToken": {
                "apiServerEndpoint": discovery["endpoint"],
                "token": discovery["token"],
                "caCertHashes": list(discovery["ca_cert_hashes"]),
            }
        },
    }
    if control_plane:
        join["controlPlane"] = {
            "localAPIEndpoint": {
                "advertiseAddress": control_plane["advertise_address"],
                "bindPort": int(control_plane["bind_port"]),
            },
            "certificateKey": control_plane["certificate_key"],
        }
    if patches_dir:
        join["patches"] = {"directory": str(patches_dir)}
    return join


def kubeadm_control_plane_state(present, expected):
    """A host's kubeadm state from the files kubeadm writes: ``done`` (all of ``expected`` exist), ``absent``
    (none) or ``partial`` (some: a failed or interrupted init or join). ``{status, present, missing}``."""
    present = [path for path in expected if path in set(present or [])]
    missing = [path for path in expected if path not in present]
    status = "done" if not missing else "absent" if not present else "partial"
    return {"status": status, "present": present, "missing": missing}


def _seconds(value):
    text = str(value or "")
    if not _DURATION.match(text):
        return None
    return sum(int(n) * _UNITS[u] for n, u in re.findall(r"(\d+)(s|m|h)", text))


def kubeadm_control_plane_problems(settings):
    """One message per problem, each naming the variable (or the host and its files).

    ``settings``: ``hosts`` (host -> ``{kubeadm, config_found, config, state}``), ``first`` (the first control
    plane), ``check_mode``, ``token_ttl``, ``admin_kubeconfig``.
    """
    problems = Problems()
    ttl = _seconds(settings.get("token_ttl"))
    if ttl is None or not 0 < ttl <= MAX_TOKEN_TTL_S:
        problems.add(
            "kubeadm_control_plane_token_ttl",
            f"must be a duration such as 15m, at most {MAX_TOKEN_TTL_S // 60}m (a join token is short-lived)",
            settings.get("token_ttl"),
        )
    if not str(settings.get("admin_kubeconfig") or "").startswith("/"):
        problems.add("topology_admin_kubeconfig", "must be an absolute path on the controller",
                     settings.get("admin_kubeconfig"))  # fmt: skip
    hosts = settings.get("hosts") or {}
    for host, info in sorted(hosts.items()):
        state = info.get("state") or {}
        if state.get("status") == "partial":
            problems.add(
                f"{host}",
                "a partial kubeadm init or join (some of the files kubeadm writes exist, not all): present "
                f"{state.get('present')}, missing {state.get('missing')}. It is not re-run blindly: find out what "
                "failed, run `kubeadm reset` on the host (and remove what is left), then run the playbook again",
            )
        if info.get("kubeadm") and not info.get("config_found") and not settings.get("check_mode"):
            problems.add(
                "kube_apiserver_mode",
                f"{host} has kubeadm but no kubeadm configuration at kubeadm_control_plane_config: run "
                "playbooks/kube_apiserver.yml with kube_apiserver_mode kubeadm first",
            )
    first = hosts.get(settings.get("first")) or {}
    config = first.get("config") or {}
    joining = [h for h, i in hosts.items() if h != settings.get("first") and i.get("kubeadm")]
    if first.get("kubeadm") and first.get("config_found") and joining:
        if not config.get("control_plane_endpoint"):
            problems.add(
                "kube_apiserver_control_plane_endpoint",
                f"{len(hosts)} control planes need a load-balancer address (kubeadm does not join a control "
                "plane to a cluster without a controlPlaneEndpoint)",
                "",
            )
        if not _HEX_KEY.match(config.get("certificate_key") or ""):
            problems.add(
                "kube_apiserver_secrets_controller_dir",
                "the InitConfiguration has no certificate key of 64 hex digits (kubeadm-certificate-key there)",
            )
    return problems.messages


class FilterModule:
    """kubeadm_control_plane filters."""

    def filters(self):
        return {
            "kubeadm_control_plane_config": kubeadm_control_plane_config,
            "kubeadm_control_plane_join": kubeadm_control_plane_join,
            "kubeadm_control_plane_state": kubeadm_control_plane_state,
            "kubeadm_control_plane_problems": kubeadm_control_plane_problems,
        }
