"""Real kubelet-serving CertificateSigningRequests for the approver's tests, made with cryptography.

``request()`` makes a PKCS#10 request as the kubelet does (an ECDSA P-256 key, CN=system:node:<name>,
O=system:nodes, the node's DNS names and IP addresses as SANs), with every part replaceable to break one
rule; ``csr()`` wraps it in a certificates.k8s.io/v1 CertificateSigningRequest as the apiserver returns
it (spec.username and spec.groups are what the apiserver fills in from the kubelet's credentials).
"""

from __future__ import annotations

import base64
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

SIGNER = "kubernetes.io/kubelet-serving"
USAGES = ["digital signature", "server auth"]
_KEY = ec.generate_private_key(ec.SECP256R1())


def request(node, dns=None, ips=(), *, cn=None, orgs=("system:nodes",), emails=(), uris=(), key=None) -> str:
    """A PEM request, base64-encoded as spec.request holds it. ``dns`` defaults to ``[node]``."""
    names = [x509.NameAttribute(NameOID.COMMON_NAME, cn if cn is not None else f"system:node:{node}")]
    names += [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in orgs]
    sans = [x509.DNSName(name) for name in (dns if dns is not None else [node])]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    sans += [x509.RFC822Name(email) for email in emails]
    sans += [x509.UniformResourceIdentifier(uri) for uri in uris]
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(names))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    pem = builder.sign(key or _KEY, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
    return base64.b64encode(pem).decode()


def rsa_key(bits: int):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def csr(name, node, spec_request, *, username=None, groups=None, usages=None, signer=SIGNER, conditions=None) -> dict:
    """A CertificateSigningRequest object as `kubectl get csr -o json` lists it."""
    document = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": name, "creationTimestamp": "2026-12-01T00:00:00Z"},
        "spec": {
            "request": spec_request,
            "signerName": signer,
            "usages": list(USAGES if usages is None else usages),
            "username": username if username is not None else f"system:node:{node}",
            "groups": list(groups if groups is not None else ["system:nodes", "system:authenticated"]),
        },
        "status": {},
    }
    if conditions:
        document["status"]["conditions"] = [
            {"type": kind, "status": "True", "reason": "KubectlApprove", "message": "test",
             "lastUpdateTime": "2026-12-01T00:00:01Z"}
            for kind in conditions
        ]  # fmt: skip
    return document


def csr_list(items) -> dict:
    """The list `kubectl get csr -o json` prints."""
    return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": list(items)}
