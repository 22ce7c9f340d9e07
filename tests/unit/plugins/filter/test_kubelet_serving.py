"""kubelet_serving_csr_verdicts approves a kubelet-serving CSR only when every rule holds against the inventory.

Every CSR here is a real PKCS#10 request made with cryptography (tests/tools/kubelet_csrs.py) inside a
CertificateSigningRequest that validates against the Kubernetes 1.34 OpenAPI schema (strict: unknown fields
fail). The good request is approved; each other breaks one rule once and is left pending with that rule named.
"""

from __future__ import annotations

import base64

import kube_schemas
import pytest
from ansible.errors import AnsibleFilterError
from kubelet_csrs import csr, csr_list, request, rsa_key

from ansible_collections.aiplatform.cluster.plugins.filter.kubelet_serving import (
    FilterModule,
    kubelet_serving_csr_verdicts,
    kubelet_serving_nodes,
)

KUBERNETES = "1.34"
HOSTVARS = {
    "cp1": {"ansible_host": "10.0.0.11"},
    "gpu1": {"kubelet_node_addresses": ["10.0.0.31", "fd00::31"]},
    # The address from the gathered facts when the inventory pins none.
    "gpu2": {"ansible_facts": {"default_ipv4": {"address": "10.0.0.32"}}},
    # An inventory name that is not the hostname kubeadm registers.
    "gpu-3.dc1.example.internal": {"kubelet_node_name": "gpu-3", "kubelet_node_addresses": "10.0.0.33"},
    # Two hosts whose facts claim the same address.
    "gpu4": {"ansible_facts": {"default_ipv4": {"address": "10.0.0.99"}}},
    "gpu5": {"ansible_facts": {"default_ipv4": {"address": "10.0.0.99"}}},
    # Two hosts that give the same node name.
    "gpu6": {"kubelet_node_addresses": ["10.0.0.36"]},
    "gpu6-alias": {"kubelet_node_name": "gpu6", "kubelet_node_addresses": ["10.0.0.37"]},
}
NODES = kubelet_serving_nodes(list(HOSTVARS), HOSTVARS)
GOOD_REQUEST = request("gpu1", ips=["10.0.0.31"])


def verdict(document):
    assert kube_schemas.validate(document, KUBERNETES) == "openapi"
    [found] = kubelet_serving_csr_verdicts([document], NODES)
    return found


def test_the_inventory_vouches_for_names_and_addresses():
    assert NODES["cp1"] == {"hosts": ["cp1"], "names": ["cp1"], "addresses": ["10.0.0.11"], "shared": []}
    assert NODES["gpu1"]["addresses"] == ["10.0.0.31", "fd00::31"]
    assert NODES["gpu2"]["addresses"] == ["10.0.0.32"]
    assert NODES["gpu-3"]["names"] == ["gpu-3", "gpu-3.dc1.example.internal"]
    assert NODES["gpu-3"]["addresses"] == ["10.0.0.33"]
    assert (NODES["gpu4"]["addresses"], NODES["gpu4"]["shared"]) == ([], ["10.0.0.99"])
    assert NODES["gpu6"]["hosts"] == ["gpu6", "gpu6-alias"]


def test_a_good_request_is_approved():
    found = verdict(csr("csr-good", "gpu1", GOOD_REQUEST))
    assert found == {"name": "csr-good", "node": "gpu1", "approve": True, "rule": "", "reason": "every rule holds"}


@pytest.mark.parametrize(
    ("node", "spec_request", "usages"),
    [
        ("gpu1", request("gpu1", ips=["10.0.0.31", "fd00::31"]), None),
        ("gpu2", request("gpu2", ips=["10.0.0.32"]), None),
        ("cp1", request("cp1", dns=[], ips=["10.0.0.11"]), None),
        ("gpu-3", request("gpu-3", dns=["gpu-3", "GPU-3.dc1.example.internal"], ips=["10.0.0.33"]), None),
        # An RSA key: Kubernetes lets its usages add key encipherment.
        (
            "gpu1",
            request("gpu1", ips=["10.0.0.31"], key=rsa_key(2048)),
            ["digital signature", "key encipherment", "server auth"],
        ),
    ],
)
def test_other_good_requests_are_approved(node, spec_request, usages):
    assert verdict(csr("csr-ok", node, spec_request, usages=usages))["approve"] is True


GARBAGE = base64.b64encode(
    b"-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgcmVxdWVzdA==\n-----END CERTIFICATE REQUEST-----\n"
)
BROKEN = [
    ("wrong signer", csr("c", "gpu1", GOOD_REQUEST, signer="kubernetes.io/kube-apiserver-client-kubelet"), "signer"),
    ("already approved", csr("c", "gpu1", GOOD_REQUEST, conditions=["Approved"]), "pending"),
    ("already denied", csr("c", "gpu1", GOOD_REQUEST, conditions=["Denied"]), "pending"),
    ("not a node user", csr("c", "gpu1", GOOD_REQUEST, username="kubernetes-admin"), "username"),
    ("unknown node", csr("c", "gpu9", request("gpu9", ips=["10.0.0.31"])), "node"),
    ("a name two hosts give", csr("c", "gpu6", request("gpu6", ips=["10.0.0.36"])), "node"),
    ("username/CN mismatch", csr("c", "gpu1", request("gpu1", cn="system:node:gpu2", ips=["10.0.0.31"])), "subject"),
    ("not in system:nodes", csr("c", "gpu1", GOOD_REQUEST, groups=["system:authenticated"]), "groups"),
    ("client auth usage", csr("c", "gpu1", GOOD_REQUEST, usages=["digital signature", "client auth"]), "usages"),
    ("client auth added", csr("c", "gpu1", GOOD_REQUEST, usages=["digital signature", "server auth", "client auth"]),
     "usages"),
    ("garbage PEM", csr("c", "gpu1", GARBAGE.decode()), "request"),
    ("not base64", csr("c", "gpu1", "bm90IGEgcmVxdWVzdA=" + "*"), "request"),
    ("wrong O", csr("c", "gpu1", request("gpu1", orgs=["system:masters"], ips=["10.0.0.31"])), "subject"),
    ("extra O", csr("c", "gpu1", request("gpu1", orgs=["system:nodes", "system:masters"], ips=["10.0.0.31"])),
     "subject"),
    ("email SAN", csr("c", "gpu1", request("gpu1", ips=["10.0.0.31"], emails=["root@gpu1"])), "sans"),
    ("URI SAN", csr("c", "gpu1", request("gpu1", ips=["10.0.0.31"], uris=["spiffe://cluster/gpu1"])), "sans"),
    ("no SAN", csr("c", "gpu1", request("gpu1", dns=[])), "sans"),
    ("extra DNS SAN", csr("c", "gpu1", request("gpu1", dns=["gpu1", "kubernetes.default"], ips=["10.0.0.31"])), "dns"),
    ("another node's name", csr("c", "gpu1", request("gpu1", dns=["gpu1", "gpu2"], ips=["10.0.0.31"])), "dns"),
    ("extra IP SAN", csr("c", "gpu1", request("gpu1", ips=["10.0.0.31", "10.96.0.1"])), "ips"),
    ("another node's IP", csr("c", "gpu1", request("gpu1", ips=["10.0.0.32"])), "ips"),
    ("an address two nodes claim", csr("c", "gpu4", request("gpu4", ips=["10.0.0.99"])), "ips"),
    ("a short RSA key", csr("c", "gpu1", request("gpu1", ips=["10.0.0.31"], key=rsa_key(1024))), "key"),
]  # fmt: skip


@pytest.mark.parametrize(("document", "rule"), [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN])
def test_each_broken_rule_leaves_the_request_pending_naming_the_rule(document, rule):
    found = verdict(document)
    assert found["approve"] is False
    assert found["rule"] == rule
    assert found["reason"].startswith(f"{rule}: ")


def test_the_reasons_say_what_is_wrong():
    def reason(document):
        return kubelet_serving_csr_verdicts([document], NODES)[0]["reason"]

    extra_ip = csr("c", "gpu1", request("gpu1", ips=["10.0.0.31", "10.96.0.1"]))
    assert reason(extra_ip) == "ips: IP SANs 10.96.0.1 are not among the addresses of node gpu1 (10.0.0.31, fd00::31)"
    mismatch = csr("c", "gpu1", request("gpu1", cn="system:node:gpu2", ips=["10.0.0.31"]))
    assert reason(mismatch) == (
        "subject: the subject is O=system:nodes,CN=system:node:gpu2, not exactly CN=system:node:gpu1, O=system:nodes"
    )
    email = csr("c", "gpu1", request("gpu1", ips=["10.0.0.31"], emails=["root@gpu1"]))
    assert reason(email) == "sans: SANs other than DNS names and IP addresses (RFC822Name root@gpu1)"
    unknown = csr("c", "gpu9", request("gpu9"))
    assert reason(unknown).startswith("node: gpu9 is not a node of the inventory")


def test_the_list_kubectl_prints_is_read_item_by_item():
    listed = csr_list([csr("a", "gpu1", GOOD_REQUEST), csr("b", "gpu9", request("gpu9"))])
    assert [(v["name"], v["approve"]) for v in kubelet_serving_csr_verdicts(listed, NODES)] == [
        ("a", True),
        ("b", False),
    ]
    assert kubelet_serving_csr_verdicts({"items": []}, NODES) == []
    with pytest.raises(AnsibleFilterError):
        kubelet_serving_csr_verdicts("not a list", NODES)


def test_the_filters_are_registered():
    assert set(FilterModule().filters()) == {"kubelet_serving_nodes", "kubelet_serving_csr_verdicts"}
