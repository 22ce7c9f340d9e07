# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""The kubelet serving-certificate approver's decisions (pure functions): which node names and addresses the
inventory vouches for, and, for each CertificateSigningRequest, approve or leave it pending with the rule
that stopped it.

Kubernetes never approves ``kubernetes.io/kubelet-serving`` requests by itself (its csrapproving controller
only handles the kubelets' client certificates), and a serving certificate names what the kubelet answers
for: a node that could get one for another node's address or for any DNS name could pose as that server.
So a request is approved only when every rule of :func:`kubelet_serving_csr_verdicts` holds against the
inventory; anything else is left pending (never denied: a denial is final for that request, and a pending
one is approved by a later run once the inventory is fixed; the kubelet makes a new request by itself).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress

from ansible.errors import AnsibleFilterError

# cryptography comes with ansible-core's usual installs (and the execution environment); ansible-test's import
# check runs without it, so its absence is an error at use, not at load.
try:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.x509.oid import NameOID
except ImportError:
    x509 = None

SIGNER = "kubernetes.io/kubelet-serving"
NODE_PREFIX = "system:node:"
NODES_GROUP = "system:nodes"
# The usages Kubernetes accepts for this signer (pkg/apis/certificates, ValidateKubeletServingCSR): with or
# without key encipherment (an RSA key needs it, an ECDSA key, the kubelet's default, does not).
USAGES = (
    frozenset({"digital signature", "key encipherment", "server auth"}),
    frozenset({"digital signature", "server auth"}),
)
RSA_MIN_BITS = 2048
EC_CURVES = ("secp256r1", "secp384r1", "secp521r1")


def _address(value):
    """``value`` as a normalised IP address string, or None when it is not one."""
    text = str(value or "").strip().strip("[]")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _as_list(value):
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return list(value)


def _host_identity(host, host_vars):
    node = str(host_vars.get("kubelet_node_name") or host).strip().lower()
    ansible_host = str(host_vars.get("ansible_host") or "").strip()
    names = [node, str(host).lower()]
    if ansible_host and _address(ansible_host) is None:
        names.append(ansible_host.lower())
    pinned = _as_list(host_vars.get("kubelet_node_addresses"))
    if pinned:
        candidates = pinned
    else:
        facts = host_vars.get("ansible_facts") or {}
        candidates = [ansible_host] + [
            (facts.get(key) or {}).get("address") for key in ("default_ipv4", "default_ipv6")
        ]
    addresses = [_address(item) for item in candidates]
    return node, {
        "host": str(host),
        "names": sorted(set(names)),
        "addresses": sorted({item for item in addresses if item}),
        "pinned": bool(pinned),
    }


def kubelet_serving_nodes(hosts, hostvars):
    """What the inventory vouches for, per node name: ``{node: {hosts, names, addresses, shared}}``.

    ``hosts``: the inventory hosts that run a kubelet (the control planes and the nodes); ``hostvars``.
    A host's node name is ``kubelet_node_name``, else its inventory name (kubeadm names a node after its
    hostname: set ``kubelet_node_name`` where the two differ), lowercased as the kubelet does. Its DNS names are
    the node name, the inventory name and ``ansible_host`` when that is a name. Its addresses are
    ``kubelet_node_addresses`` (a list, or a comma-separated string from -e) when set, else ``ansible_host``
    when it is an IP address and the default IPv4 and IPv6 addresses of its gathered facts. An address that
    two nodes claim is vouched for neither (``shared``); a node name that two hosts give is listed with both
    ``hosts`` and vouched for neither.
    """
    nodes = {}
    for host in hosts or []:
        node, identity = _host_identity(host, hostvars.get(host) or {})
        if node in nodes:
            nodes[node]["hosts"].append(identity["host"])
            continue
        nodes[node] = {
            "hosts": [identity["host"]],
            "names": identity["names"],
            "addresses": identity["addresses"],
            "shared": [],
        }
    claims = {}
    for node, entry in nodes.items():
        for address in entry["addresses"]:
            claims.setdefault(address, []).append(node)
    for entry in nodes.values():
        entry["shared"] = [address for address in entry["addresses"] if len(claims[address]) > 1]
        entry["addresses"] = [address for address in entry["addresses"] if len(claims[address]) == 1]
    return nodes


def _text(items):
    return ", ".join(str(item) for item in items)


def _signer(check):
    signer = check["spec"].get("signerName")
    return None if signer == SIGNER else f"spec.signerName is {signer}, not {SIGNER}"


def _pending(check):
    status = check["csr"].get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("type") in ("Approved", "Denied", "Failed"):
            return f"already {condition['type']}"
    return "already issued (status.certificate is set)" if status.get("certificate") else None


def _username(check):
    username = str(check["spec"].get("username") or "")
    check["node"] = username[len(NODE_PREFIX) :] if username.startswith(NODE_PREFIX) else ""
    return None if check["node"] else f"spec.username {username or '(none)'} is not {NODE_PREFIX}<node name>"


def _node(check):
    node = check["node"]
    check["entry"] = check["nodes"].get(node)
    if check["entry"] is None:
        return f"{node} is not a node of the inventory (kubelet_node_name, else the inventory name)"
    hosts = check["entry"]["hosts"]
    return f"the node name {node} is given to more than one inventory host ({_text(hosts)})" if len(hosts) > 1 else None


def _groups(check):
    groups = check["spec"].get("groups") or []
    return None if NODES_GROUP in groups else f"spec.groups ({_text(groups)}) lack {NODES_GROUP}"


def _usages(check):
    usages = check["spec"].get("usages") or []
    if len(set(usages)) == len(usages) and frozenset(usages) in USAGES:
        return None
    allowed = " or ".join(f"({_text(sorted(usage_set))})" for usage_set in USAGES)
    return f"spec.usages ({_text(usages)}) are not exactly {allowed}"


def _request(check):
    """Parses ``spec.request`` (base64 of a PEM block) into ``check["request"]``; the reason it cannot."""
    try:
        pem = base64.b64decode(str(check["spec"].get("request") or ""), validate=True)
    except (binascii.Error, ValueError) as error:
        return f"spec.request is not base64 ({error})"
    if not pem.lstrip().startswith(b"-----BEGIN CERTIFICATE REQUEST-----"):
        return "spec.request is not a PEM CERTIFICATE REQUEST block"
    try:
        check["request"] = x509.load_pem_x509_csr(pem)
    except ValueError as error:
        return f"spec.request does not parse as a PKCS#10 request ({error})"
    return (
        None if check["request"].is_signature_valid else "the signature of spec.request does not match its public key"
    )


def _subject(check):
    subject = check["request"].subject
    attributes = {(attribute.oid, attribute.value) for attribute in subject}
    wanted = {(NameOID.COMMON_NAME, NODE_PREFIX + check["node"]), (NameOID.ORGANIZATION_NAME, NODES_GROUP)}
    if len(subject) == len(wanted) and attributes == wanted:
        return None
    return f"the subject is {subject.rfc4514_string()}, not exactly CN={NODE_PREFIX}{check['node']}, O={NODES_GROUP}"


def _sans(check):
    """Reads the request's SANs into ``check["dns"]`` and ``check["ips"]``; the reason they cannot serve."""
    try:
        sans = check["request"].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        sans = []
    others = [name for name in sans if not isinstance(name, (x509.DNSName, x509.IPAddress))]
    check["dns"] = [name.value for name in sans if isinstance(name, x509.DNSName)]
    check["ips"] = [str(name.value) for name in sans if isinstance(name, x509.IPAddress)]
    if others:
        found = ", ".join(f"{type(name).__name__} {name.value}" for name in others)
        return f"SANs other than DNS names and IP addresses ({found})"
    return None if check["dns"] or check["ips"] else "no DNS name and no IP address in the subjectAltName"


def _dns(check):
    names = check["entry"]["names"]
    foreign = [name for name in check["dns"] if name.lower() not in names]
    return (
        f"DNS SANs {_text(foreign)} are not among the names of node {check['node']} ({_text(names)})"
        if foreign
        else None
    )


def _ips(check):
    entry = check["entry"]
    shared = [ip for ip in check["ips"] if ip in entry["shared"]]
    if shared:
        return (
            f"IP SANs {_text(shared)} are claimed by more than one node of the inventory (set kubelet_node_addresses)"
        )
    foreign = [ip for ip in check["ips"] if ip not in entry["addresses"]]
    known = _text(entry["addresses"]) or "none known: set kubelet_node_addresses or gather its facts"
    return (
        f"IP SANs {_text(foreign)} are not among the addresses of node {check['node']} ({known})" if foreign else None
    )


def _key(check):
    key = check["request"].public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return None if key.key_size >= RSA_MIN_BITS else f"an RSA key of {key.key_size} bits (at least {RSA_MIN_BITS})"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return None if key.curve.name in EC_CURVES else f"an EC key on {key.curve.name} (one of {', '.join(EC_CURVES)})"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return None
    return f"a {type(key).__name__} key (RSA of {RSA_MIN_BITS} bits or more, ECDSA P-256/384/521 or Ed25519)"


# The rules in the order they are checked: a later one reads what an earlier one found (the node, the request).
RULES = (
    ("signer", _signer),
    ("pending", _pending),
    ("username", _username),
    ("node", _node),
    ("groups", _groups),
    ("usages", _usages),
    ("request", _request),
    ("subject", _subject),
    ("sans", _sans),
    ("dns", _dns),
    ("ips", _ips),
    ("key", _key),
)


def _verdict(csr, nodes):
    """``{name, node, approve, rule, reason}`` of one CSR: the first rule it breaks, if any."""
    check = {"csr": csr, "spec": csr.get("spec") or {}, "nodes": nodes, "node": ""}
    verdict = {"name": str((csr.get("metadata") or {}).get("name") or ""), "approve": True, "rule": ""}
    for rule, test in RULES:
        reason = test(check)
        if reason:
            return dict(verdict, node=check["node"], approve=False, rule=rule, reason=f"{rule}: {reason}")
    return dict(verdict, node=check["node"], reason="every rule holds")


def kubelet_serving_csr_verdicts(csrs, nodes):
    """One verdict per CertificateSigningRequest: ``{name, node, approve, rule, reason}``.

    ``csrs``: the list of ``kubectl get csr -o json`` (its ``items``) or the objects themselves; ``nodes``:
    :func:`kubelet_serving_nodes`. ``approve`` is true only when all of these hold, in this order (``rule``
    names the first that does not; ``reason`` says why): ``signer`` spec.signerName is
    kubernetes.io/kubelet-serving; ``pending`` no Approved, Denied or Failed condition and no certificate
    yet; ``username`` spec.username is system:node:<name>; ``node`` that name is one node of the inventory;
    ``groups`` spec.groups holds system:nodes; ``usages`` spec.usages are exactly digital signature and
    server auth, with or without key encipherment; ``request`` spec.request is a base64 PEM PKCS#10
    request whose signature verifies; ``subject`` its subject is exactly CN=system:node:<name>,
    O=system:nodes; ``sans`` it has DNS or IP SANs only, at least one; ``dns`` each DNS name is among the
    node's names; ``ips`` each IP address is among its addresses and no other node claims it; ``key`` RSA of
    2048 bits or more, ECDSA on P-256, P-384 or P-521, or Ed25519. ``reason`` starts with the rule's name.
    """
    if x509 is None:
        raise AnsibleFilterError("kubelet_serving_csr_verdicts needs the Python package cryptography on the controller")
    if isinstance(csrs, dict):
        csrs = csrs.get("items") or []
    if not isinstance(csrs, list) or not isinstance(nodes, dict):
        raise AnsibleFilterError("kubelet_serving_csr_verdicts: expects the CSRs and the kubelet_serving_nodes mapping")
    return [_verdict(csr or {}, nodes) for csr in csrs]


class FilterModule:
    """kubelet serving-certificate approver filters."""

    def filters(self):
        return {
            "kubelet_serving_nodes": kubelet_serving_nodes,
            "kubelet_serving_csr_verdicts": kubelet_serving_csr_verdicts,
        }
