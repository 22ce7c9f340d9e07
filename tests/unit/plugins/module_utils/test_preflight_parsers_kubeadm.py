"""The pure rules behind kubeadm's remaining checks: NO_PROXY matching as Go's httpproxy does it, versions,
kernel config, /etc/environment, hosts.toml and image references (expected values written out)."""

import pytest
from preflight_fixture_root import FIXTURES

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_core import CheckError
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_parsers_kubeadm import (
    endpoint_host_port,
    first_address,
    ip_version,
    kernel_config_missing,
    normalize_image,
    parse_environment_file,
    parse_hosts_toml,
    parse_kernel_config,
    parse_kubelet_version,
    proxy_bypassed,
    proxy_settings,
    semver,
)


@pytest.mark.parametrize(
    ("host", "port", "no_proxy", "bypassed"),
    [
        ("localhost", 443, "", True),  # never proxied
        ("127.0.0.1", 443, "", True),
        ("::1", 443, "", True),
        ("10.96.0.1", 1234, "", False),
        ("10.96.0.1", 1234, "*", True),
        ("10.96.0.1", 1234, "10.0.0.0/8", True),
        ("10.96.0.1", 1234, "10.96.0.0/12", True),
        ("10.112.0.1", 1234, "10.96.0.0/12", False),
        ("10.96.0.1", 1234, "10.96.0.1", True),
        ("10.96.0.1", 1234, "10.96.0.1:443", False),
        ("10.96.0.1", 1234, "10.96.0.1:1234", True),
        ("10.96.0.1", 1234, "fd00::/8", False),
        ("fd00:10:96::1", 1234, "fd00::/8", True),
        ("fd00::10", 443, "[fd00::10]:443", True),
        ("api.example.com", 443, "example.com", True),
        ("example.com", 443, "example.com", True),
        ("example.com", 443, ".example.com", False),
        ("api.example.com", 443, ".example.com", True),
        ("api.example.com", 443, "*.example.com", True),
        ("notexample.com", 443, "example.com", False),
        ("api.example.com", 443, "EXAMPLE.COM ,  other", True),
        ("api.example.com", 6443, "example.com:443", False),
        ("10.0.0.10", 443, "example.com", False),
    ],
)
def test_proxy_bypassed_follows_go_httpproxy(host, port, no_proxy, bypassed):
    assert proxy_bypassed(host, port, no_proxy) is bypassed


def test_proxy_settings_upper_case_first_and_empty_skipped():
    assert proxy_settings({"HTTPS_PROXY": "http://a:1", "https_proxy": "http://b:2"}) == ("http://a:1", "")
    assert proxy_settings({"HTTPS_PROXY": "", "https_proxy": "http://b:2", "no_proxy": "x"}) == ("http://b:2", "x")
    assert proxy_settings({"HTTP_PROXY": "http://only-http:3128"}) == ("", "")


def test_environment_file():
    values = parse_environment_file((FIXTURES / "proxy/environment-covered").read_text())
    assert values == {
        "HTTPS_PROXY": "http://proxy.corp.example:3128",
        "NO_PROXY": "localhost,127.0.0.1,.corp.example,10.96.0.0/12,10.244.0.0/16,api.k8s.corp.example",
        "no_proxy": "ignored because NO_PROXY is set first",
    }
    assert parse_environment_file('A="x y"\n# B=1\nnot an assignment\n1BAD=2\n') == {"A": "x y"}


def test_versions():
    assert semver("v1.34.2") == (1, 34, 2)
    assert semver("1.35.0-rc.1") == (1, 35, 0)
    assert parse_kubelet_version("Kubernetes v1.34.2\n") == (1, 34, 2)
    with pytest.raises(CheckError):
        semver("1.34")
    with pytest.raises(CheckError):
        parse_kubelet_version("kubelet v1.34.2")


def test_kernel_config():
    options = parse_kernel_config('CONFIG_A=y\nCONFIG_B=m\nCONFIG_C=n\n# CONFIG_D is not set\nCONFIG_E="text"\n')
    assert options == {"CONFIG_A": "y", "CONFIG_B": "m", "CONFIG_C": "n"}
    assert kernel_config_missing(options, ["A", "B", "C", "D", "D|A", "X|Y"]) == ["C", "D", "X|Y"]
    with pytest.raises(CheckError):
        parse_kernel_config("#\n# nothing\n")


def test_addresses():
    assert first_address("10.96.0.0/12") == "10.96.0.1"
    assert first_address("fd00:10:96::/112") == "fd00:10:96::1"
    assert [ip_version(v) for v in ("10.0.0.1", "fd00::/8", "[fd00::1]:6443", "10.0.0.1:6443", "api.example")] == [
        4,
        6,
        6,
        4,
        None,
    ]
    assert endpoint_host_port("https://api.example:6443/healthz") == ("api.example", 6443)
    assert endpoint_host_port("[fd00::10]:6443") == ("fd00::10", 6443)
    assert endpoint_host_port("10.0.0.10") == ("10.0.0.10", 6443)
    with pytest.raises(CheckError):
        first_address("10.96.0.0/33")


def test_hosts_toml():
    parsed = parse_hosts_toml((FIXTURES / "containerd/hosts-mirror.toml").read_text())
    assert parsed == {"server": "https://registry.k8s.io", "hosts": ["https://mirror.corp.example:5000"]}
    assert parse_hosts_toml("") == {"server": None, "hosts": []}
    with pytest.raises(CheckError):
        parse_hosts_toml((FIXTURES / "containerd/hosts-malformed.toml").read_text())


@pytest.mark.parametrize(
    ("ref", "normalized"),
    [
        ("pause:3.9", "docker.io/library/pause:3.9"),
        ("library/busybox", "docker.io/library/busybox:latest"),
        ("nvidia/cuda:12.4.1-base", "docker.io/nvidia/cuda:12.4.1-base"),
        ("registry.k8s.io/pause", "registry.k8s.io/pause:latest"),
        ("localhost:5000/x/y:1", "localhost:5000/x/y:1"),
        ("registry.k8s.io/pause@sha256:abc", "registry.k8s.io/pause@sha256:abc"),
    ],
)
def test_normalize_image(ref, normalized):
    assert normalize_image(ref) == normalized
