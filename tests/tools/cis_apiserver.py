"""CIS Kubernetes Benchmark section 1.2 (API server) as checks on kube-apiserver flags.

Ids and wording follow kube-bench's cis-1.9 configuration (checks as in the design REFERENCE.md); 1.2.30
follows cis-1.11 and later.
AUTOMATED holds the automated items; EXTRA the manual ones this collection also satisfies. Flags are a
dict: name without dashes -> string value, as the static pod's command or kubeadm's extraArgs give them.
"""

from __future__ import annotations

# Written out here, not imported from plugins/filter/kube_apiserver.py: the tests check the role against
# the benchmark, so a suite wrongly added to the role's list must not pass by being in both.
CIS_CIPHER_SUITES = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
}


ENABLE = "enable-admission-plugins"


def _list(flags, name):
    return [p for p in flags.get(name, "").split(",") if p]


def _at_least(flags, name, minimum):
    return flags.get(name, "").isdigit() and int(flags[name]) >= minimum


AUTOMATED = {
    "1.2.2 --token-auth-file is not set": lambda f: "token-auth-file" not in f,
    "1.2.4 --kubelet-client-certificate and --kubelet-client-key are set": lambda f: bool(
        f.get("kubelet-client-certificate") and f.get("kubelet-client-key")
    ),
    "1.2.5 --kubelet-certificate-authority is set": lambda f: bool(f.get("kubelet-certificate-authority")),
    "1.2.6 --authorization-mode is not AlwaysAllow": lambda f: "AlwaysAllow" not in _list(f, "authorization-mode"),
    "1.2.7 --authorization-mode includes Node": lambda f: "Node" in _list(f, "authorization-mode"),
    "1.2.8 --authorization-mode includes RBAC": lambda f: "RBAC" in _list(f, "authorization-mode"),
    "1.2.10 admission plugin AlwaysAdmit is not set": lambda f: "AlwaysAdmit" not in _list(f, ENABLE),
    "1.2.12 admission plugin ServiceAccount is not disabled": lambda f: (
        "ServiceAccount" not in _list(f, "disable-admission-plugins")
    ),
    "1.2.13 admission plugin NamespaceLifecycle is not disabled": lambda f: (
        "NamespaceLifecycle" not in _list(f, "disable-admission-plugins")
    ),
    "1.2.14 admission plugin NodeRestriction is set": lambda f: "NodeRestriction" in _list(f, ENABLE),
    "1.2.15 --profiling is false": lambda f: f.get("profiling") == "false",
    "1.2.16 --audit-log-path is set": lambda f: bool(f.get("audit-log-path")),
    "1.2.17 --audit-log-maxage is 30 or more": lambda f: _at_least(f, "audit-log-maxage", 30),
    "1.2.18 --audit-log-maxbackup is 10 or more": lambda f: _at_least(f, "audit-log-maxbackup", 10),
    "1.2.19 --audit-log-maxsize is 100 or more": lambda f: _at_least(f, "audit-log-maxsize", 100),
    "1.2.21 --service-account-lookup is true": lambda f: f.get("service-account-lookup", "true") == "true",
    "1.2.22 --service-account-key-file is set": lambda f: bool(f.get("service-account-key-file")),
    "1.2.23 --etcd-certfile and --etcd-keyfile are set": lambda f: bool(
        f.get("etcd-certfile") and f.get("etcd-keyfile")
    ),
    "1.2.24 --tls-cert-file and --tls-private-key-file are set": lambda f: bool(
        f.get("tls-cert-file") and f.get("tls-private-key-file")
    ),
    "1.2.25 --client-ca-file is set": lambda f: bool(f.get("client-ca-file")),
    "1.2.26 --etcd-cafile is set": lambda f: bool(f.get("etcd-cafile")),
    "1.2.30 --service-account-extend-token-expiration is false": lambda f: (
        f.get("service-account-extend-token-expiration") == "false"
    ),
}

EXTRA = {
    "1.2.1 --anonymous-auth is false": lambda f: f.get("anonymous-auth") == "false",
    "1.2.27 --encryption-provider-config is set": lambda f: bool(f.get("encryption-provider-config")),
    "1.2.29 --tls-cipher-suites only strong ciphers": lambda f: (
        bool(_list(f, "tls-cipher-suites")) and set(_list(f, "tls-cipher-suites")) <= CIS_CIPHER_SUITES
    ),
    "3.2.1 an audit policy is set (--audit-policy-file)": lambda f: bool(f.get("audit-policy-file")),
}

# 1.2.28: the providers of the encryption configuration (a file, not a flag).
CIS_ENCRYPTION_PROVIDERS = {"aescbc", "kms", "secretbox"}


def misses(flags):
    """The CIS items (automated and the extra ones) that ``flags`` do not satisfy."""
    return [item for item, check in (AUTOMATED | EXTRA).items() if not check(flags)]


def encryption_misses(encryption_config):
    """1.2.28: every resource's first provider must be aescbc, kms or secretbox."""
    return [
        f"1.2.28 resources {entry.get('resources')}: first provider {next(iter(entry['providers'][0]))} is not "
        f"one of {sorted(CIS_ENCRYPTION_PROVIDERS)}"
        for entry in encryption_config.get("resources", [])
        if next(iter(entry["providers"][0])) not in CIS_ENCRYPTION_PROVIDERS
    ]


def flags_of_pod(pod):
    """Flags of the kube-apiserver container's command in a static pod."""
    command = pod["spec"]["containers"][0]["command"]
    return dict(arg[2:].split("=", 1) for arg in command[1:])


def flags_of_kubeadm(init, cluster):
    """The flags kubeadm gives the apiserver from InitConfiguration and ClusterConfiguration.

    kubeadm turns etcd.external into the etcd flags and localAPIEndpoint into advertise-address and
    secure-port; extraArgs are passed as they are (and override kubeadm's own defaults).
    """
    external = cluster["etcd"]["external"]
    flags = {
        "etcd-servers": ",".join(external["endpoints"]),
        "etcd-cafile": external["caFile"],
        "etcd-certfile": external["certFile"],
        "etcd-keyfile": external["keyFile"],
        "advertise-address": init["localAPIEndpoint"]["advertiseAddress"],
        "secure-port": str(init["localAPIEndpoint"].get("bindPort", 6443)),
    }
    flags.update({arg["name"]: arg["value"] for arg in cluster["apiServer"].get("extraArgs", [])})
    return flags
