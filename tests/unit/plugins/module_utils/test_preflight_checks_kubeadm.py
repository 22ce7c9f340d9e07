"""kubeadm's remaining init/join checks on fixture roots, with the recorded outputs of kubeadm, kubelet,
systemctl and ctr replayed by tests/fixtures/preflight/replay/replay-tool (exact command lines only)."""

import os
import shutil
import socket

import pytest
from conftest import CATALOGUE, put_file, run
from preflight_fixture_root import FIXTURES

REPLAY = FIXTURES / "replay" / "replay-tool"
RECORDED = {
    "kubeadm": {"version": "kubeadm/version-short"},
    "kubelet": {"--version": "kubelet/version"},
    "systemctl": {"is-active": "systemctl/is-active-firewalld", "is-enabled": "systemctl/is-enabled-kubelet"},
    "ctr": {"--address": "ctr/images-list"},
}


def put(host, relative, text, mode=0o644):
    return put_file(host.root, relative, text, mode)


def tool(host, name, **cases):
    """Install <root>/bin/<name> replaying, per first argument, the recorded case named in ``cases``
    (keyword: the first argument with '-' as '_' and leading dashes dropped, e.g. is_active, version)."""
    lines = ["#!/bin/sh", 'case "$1" in']
    for first, folder in RECORDED[name].items():
        key = first.lstrip("-").replace("-", "_")
        if key in cases:
            lines.append(f'  {first}) exec "{REPLAY}" "{FIXTURES / folder}" "{cases[key]}" "$@" ;;')
    lines += ['  *) echo "no recorded case for $*" >&2; exit 2 ;;', "esac", ""]
    put(host, f"bin/{name}", "\n".join(lines), 0o755)


def copy(host, fixture, relative):
    target = host.root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FIXTURES / fixture, target)


def test_catalogue_entries():
    expected = {
        "kubeadm.version_skew": ("kubeadm", "warn", {"control_plane"}),
        "kubelet.version_skew": ("kubeadm", "fail", {"control_plane", "nodes", "gpu"}),
        "firewalld.inactive": ("kubeadm", "warn", {"control_plane", "nodes", "gpu", "etcd", "monitoring"}),
        "kubelet.service_enabled": ("kubeadm", "warn", {"control_plane", "nodes", "gpu"}),
        "kubeadm.static_pod_manifests": ("kubeadm", "fail", {"control_plane"}),
        "etcd.leftover_data": ("kubeadm", "fail", {"control_plane", "etcd"}),
        "net.http_proxy": ("kubeadm", "warn", {"control_plane", "nodes", "gpu"}),
        "net.ipv6_forward": ("kubeadm", "fail", {"control_plane", "nodes", "gpu"}),
        "kernel.config": ("kubeadm", "fail", {"control_plane", "nodes", "gpu"}),
        "images.present": ("kubeadm", "warn", {"control_plane", "nodes", "gpu"}),
    }
    for check_id, (category, severity, profiles) in expected.items():
        item = CATALOGUE[check_id]
        assert (item.category, item.severity, set(item.profiles)) == (category, severity, profiles), check_id


# kubeadm.version_skew ------------------------------------------------------------------------------------


def test_kubeadm_version_skew_needs_a_target_and_kubeadm(host):
    cp = ("control_plane",)
    result = run(host(profiles=cp), "kubeadm.version_skew")
    assert result["status"] == "skip"
    assert result["message"] == "kubernetes_version not set: nothing to compare kubeadm with"
    result = run(host(profiles=cp, settings={"kubernetes_version": "1.34.2"}), "kubeadm.version_skew")
    assert (result["status"], result["message"]) == ("skip", "kubeadm not found")


@pytest.mark.parametrize(
    ("case", "target", "status", "message"),
    [
        ("v1.34.2", "1.34.2", "pass", "kubeadm v1.34.2 can install Kubernetes 1.34.2"),
        ("v1.34.2", "v1.33.1", "pass", "kubeadm v1.34.2 can install Kubernetes v1.33.1"),
        ("v1.33.5", "1.34.2", "warn", "Kubernetes 1.34.2 is newer than kubeadm 1.33.x: upgrade kubeadm"),
        ("custom-build", "1.34.2", "skip", "kubeadm v0.0.0-master+$Format:%H$ is a custom build without a version"),
    ],
)
def test_kubeadm_version_skew(host, case, target, status, message):
    tool(host, "kubeadm", version=case)
    result = run(host(profiles=("control_plane",), settings={"kubernetes_version": target}), "kubeadm.version_skew")
    assert result["status"] == status
    assert result["message"].startswith(message)


def test_kubeadm_version_skew_malformed_output(host):
    tool(host, "kubeadm", version="malformed")
    result = run(host(profiles=("control_plane",), settings={"kubernetes_version": "1.34.2"}), "kubeadm.version_skew")
    assert result["status"] == "warn"  # a failure of a warn-severity check
    assert result["message"].startswith("could not evaluate: kubeadm version is not a semantic version")


# kubelet.version_skew ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("v1.34.2", "pass", "kubelet 1.34.2 within the supported skew of kubernetes_version"),
        ("v1.31.0", "pass", "kubelet 1.31.0 within the supported skew of kubernetes_version"),
        ("v1.30.1", "fail", "kubelet 1.30.1 is older than kubernetes_version supports (>= 1.31.0, <= 1.34.x)"),
        ("v1.35.0", "fail", "kubelet 1.35.0 is newer than the control plane 1.34.2: unsupported version skew"),
    ],
)
def test_kubelet_version_skew_against_the_target(host, case, status, message):
    tool(host, "kubelet", version=case)
    result = run(host(settings={"kubernetes_version": "1.34.2"}), "kubelet.version_skew")
    assert (result["status"], result["message"], result["expected"]) == (status, message, ">= 1.31.0, <= 1.34.x")


def test_kubelet_version_skew_against_kubeadm_without_a_target(host):
    tool(host, "kubelet", version="v1.30.1")
    assert run(host(), "kubelet.version_skew")["message"] == (
        "neither kubernetes_version nor kubeadm: nothing to compare the kubelet with"
    )
    tool(host, "kubeadm", version="v1.34.2")
    result = run(host(), "kubelet.version_skew")
    assert (result["status"], result["expected"]) == ("fail", ">= 1.31.0")
    tool(host, "kubelet", version="v1.35.0")  # newer than kubeadm: kubeadm join does not compare, neither do we
    assert run(host(), "kubelet.version_skew")["status"] == "pass"


def test_kubelet_version_skew_missing_and_malformed(host):
    assert run(host(settings={"kubernetes_version": "1.34.2"}), "kubelet.version_skew")["message"] == (
        "kubelet not found"
    )
    tool(host, "kubelet", version="malformed")
    result = run(host(settings={"kubernetes_version": "1.34.2"}), "kubelet.version_skew")
    assert result["status"] == "fail"
    assert result["message"].startswith("could not evaluate: unable to parse the output of kubelet --version")


# firewalld.inactive and kubelet.service_enabled ----------------------------------------------------------


def test_firewalld(host):
    (host.root / "bin/systemctl").unlink()  # the fixture root's stand-in answers only for the fabric manager
    assert run(host(), "firewalld.inactive")["message"] == "systemctl not found"
    tool(host, "systemctl", is_active="inactive")
    result = run(host(), "firewalld.inactive")
    assert (result["status"], result["observed"]) == ("pass", "inactive")
    tool(host, "systemctl", is_active="active")
    result = run(host(), "firewalld.inactive")
    assert (result["status"], result["message"]) == ("warn", "firewalld is active: make sure ports 10250 are open")
    result = run(host(profiles=("control_plane", "etcd"), settings={"etcd_ports": [2379, 2380]}), "firewalld.inactive")
    assert result["message"] == "firewalld is active: make sure ports 2379, 2380, 6443, 10250, 10257, 10259 are open"


@pytest.mark.parametrize(
    ("case", "status", "observed", "message"),
    [
        ("enabled", "pass", "enabled", "kubelet.service is enabled"),
        ("disabled", "warn", "disabled", "kubelet.service is disabled: systemctl enable kubelet.service"),
        ("masked", "warn", "masked", "kubelet.service is masked: systemctl enable kubelet.service"),
        ("not-found", "warn", "not-found", "kubelet.service does not exist (kubelet not installed yet?)"),
    ],
)
def test_kubelet_service_enabled(host, case, status, observed, message):
    tool(host, "systemctl", is_enabled=case)
    result = run(host(), "kubelet.service_enabled")
    assert (result["status"], result["observed"], result["message"]) == (status, observed, message)


def test_kubelet_service_enabled_without_systemd(host):
    tool(host, "systemctl", is_enabled="no-systemd")
    result = run(host(), "kubelet.service_enabled")
    assert result["status"] == "skip"
    assert result["message"].startswith("systemctl is-enabled kubelet.service gave no state (rc 1): System has not")


# kubeadm.static_pod_manifests and etcd.leftover_data -----------------------------------------------------


def test_static_pod_manifests(host):
    cp = ("control_plane",)
    result = run(host(profiles=cp), "kubeadm.static_pod_manifests")
    assert (result["status"], result["message"]) == ("pass", "none of 4 static pod manifests present")
    put(host, "etc/kubernetes/manifests/kube-scheduler.yaml", "apiVersion: v1\nkind: Pod\n")
    put(host, "etc/kubernetes/manifests/etcd.yaml", "apiVersion: v1\nkind: Pod\n")
    result = run(host(profiles=cp), "kubeadm.static_pod_manifests")
    assert result["status"] == "fail"
    assert result["observed"] == [
        "/etc/kubernetes/manifests/kube-scheduler.yaml",
        "/etc/kubernetes/manifests/etcd.yaml",
    ]


def test_etcd_leftover_data_on_a_control_plane_without_etcd(host):
    cp = ("control_plane",)
    assert run(host(profiles=cp), "etcd.leftover_data")["status"] == "pass"
    put(host, "var/lib/etcd/member/snap/db", "bolt")
    result = run(host(profiles=cp), "etcd.leftover_data")
    assert (result["status"], result["observed"]) == ("fail", {"/var/lib/etcd": ["member"]})
    assert result["message"] == (
        "etcd data that no etcd member of this host owns (old cluster?): /var/lib/etcd: member"
    )


def test_etcd_leftover_data_keeps_the_hosts_external_members(host):
    # The lab: cp1 is a control plane and a member of etcd_main, whose data folder is /var/lib/etcd/main.
    profiles = ("control_plane", "etcd")
    settings = {"etcd_data_dirs": ["/var/lib/etcd/main"]}
    put(host, "var/lib/etcd/main/member/snap/db", "bolt")
    result = run(host(profiles=profiles, settings=settings), "etcd.leftover_data")
    assert (result["status"], result["message"]) == (
        "pass",
        "no etcd data left over (this host's members: /var/lib/etcd/main)",
    )
    # Without the etcd part the same folder is nobody's: a leftover.
    assert run(host(profiles=("control_plane",), settings=settings), "etcd.leftover_data")["observed"] == {
        "/var/lib/etcd": ["main"]
    }
    # A stacked etcd's data beside the member's folder is left over.
    put(host, "var/lib/etcd/member/wal/0.wal", "wal")
    result = run(host(profiles=profiles, settings=settings), "etcd.leftover_data")
    assert (result["status"], result["observed"]) == ("fail", {"/var/lib/etcd": ["member"]})


def test_etcd_leftover_data_member_folder_is_the_checked_folder(host):
    put(host, "var/lib/etcd/member/snap/db", "bolt")
    settings = {"etcd_data_dirs": ["/var/lib/etcd"]}
    assert run(host(profiles=("etcd",), settings=settings), "etcd.leftover_data")["status"] == "pass"


def test_etcd_leftover_data_a_file(host):
    put(host, "var/lib/etcd", "not a folder")
    result = run(host(profiles=("control_plane",)), "etcd.leftover_data")
    assert result["observed"] == {"/var/lib/etcd": ["(a file)"]}


# net.http_proxy ------------------------------------------------------------------------------------------


def test_http_proxy_none(host):
    result = run(host(), "net.http_proxy")
    assert (result["status"], result["message"]) == ("pass", "no HTTPS proxy set")


def test_http_proxy_without_no_proxy_for_the_cluster(host):
    copy(host, "proxy/environment-proxy-only", "etc/environment")
    settings = {"pod_cidr": "10.244.0.0/16", "api_endpoint": "10.0.0.10:6443"}
    result = run(host(settings=settings), "net.http_proxy")
    assert result["status"] == "warn"
    assert result["observed"] == {
        "/etc/environment": {
            "https_proxy": "http://proxy.corp.example:3128",
            "no_proxy": "localhost,127.0.0.1,.corp.example",
            "proxied": ["api_endpoint 10.0.0.10:6443", "service_cidr 10.96.0.0/12", "pod_cidr 10.244.0.0/16"],
        }
    }
    assert result["message"] == (
        "would use the HTTPS proxy: /etc/environment: api_endpoint 10.0.0.10:6443, service_cidr 10.96.0.0/12, "
        "pod_cidr 10.244.0.0/16 via http://proxy.corp.example:3128 (add to NO_PROXY)"
    )
    # A name under .corp.example is covered.
    settings = {"api_endpoint": "api.k8s.corp.example:6443", "service_cidr": ""}
    assert run(host(settings=settings), "net.http_proxy")["status"] == "pass"


def test_http_proxy_covered(host):
    copy(host, "proxy/environment-covered", "etc/environment")
    settings = {"pod_cidr": "10.244.0.0/16", "api_endpoint": "api.k8s.corp.example:6443"}
    result = run(host(settings=settings), "net.http_proxy")
    assert (result["status"], result["message"]) == ("pass", "NO_PROXY covers the API endpoint and the cluster ranges")
    assert result["observed"]["/etc/environment"]["proxied"] == []


def test_http_proxy_in_a_unit_drop_in(host):
    copy(host, "proxy/containerd-http-proxy.conf", "etc/systemd/system/containerd.service.d/http-proxy.conf")
    result = run(host(), "net.http_proxy")
    assert result["status"] == "warn"
    assert result["observed"]["containerd.service"]["proxied"] == ["service_cidr 10.96.0.0/12"]
    copy(host, "proxy/malformed-dropin.conf", "etc/systemd/system/kubelet.service.d/10-proxy.conf")
    result = run(host(), "net.http_proxy")
    assert result["status"] == "warn"
    assert result["message"].startswith("could not evaluate: /etc/systemd/system/kubelet.service.d/10-proxy.conf")


def test_http_proxy_of_the_process_environment(host):
    env = {"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "*"}
    assert run(host(settings={"proxy_env": env}), "net.http_proxy")["status"] == "pass"
    env = {"https_proxy": "http://proxy:3128", "no_proxy": "10.0.0.0/8"}
    result = run(host(settings={"proxy_env": env}), "net.http_proxy")
    assert result["observed"]["environment"]["proxied"] == []
    env = {"HTTPS_PROXY": "http://proxy:3128"}
    assert run(host(settings={"proxy_env": env}), "net.http_proxy")["status"] == "warn"


# net.ipv6_forward ----------------------------------------------------------------------------------------


def test_ipv6_forward_only_when_the_cluster_uses_ipv6(host):
    result = run(host(), "net.ipv6_forward")
    assert (result["status"], result["message"]) == (
        "skip",
        "no IPv6 in service_cidr, pod_cidr or api_endpoint: IPv6 forwarding is not needed",
    )


@pytest.mark.parametrize(
    "settings",
    [
        {"service_cidr": "10.96.0.0/12,fd00:10:96::/112"},
        {"pod_cidr": "fd00:10:244::/56"},
        {"api_endpoint": "[fd00::10]:6443"},
    ],
)
def test_ipv6_forward(host, settings):
    assert run(host(settings=settings), "net.ipv6_forward")["message"] == (
        "IPv6 is disabled in the kernel but the cluster uses it ("
        + ", ".join(f"{k} {v.split(',')[-1]}" for k, v in settings.items())
        + ")"
    )
    put(host, "proc/sys/net/ipv6/conf/default/forwarding", "0\n")
    result = run(host(settings=settings), "net.ipv6_forward")
    assert (result["status"], result["observed"]) == ("fail", "0")
    put(host, "proc/sys/net/ipv6/conf/default/forwarding", "1\n")
    assert run(host(settings=settings), "net.ipv6_forward")["status"] == "pass"


# kernel.config -------------------------------------------------------------------------------------------


def test_kernel_config_unreadable_is_a_skip(tmp_path, host):
    os.remove(host.root / "proc/config.gz")
    result = run(host(), "kernel.config")
    assert result["status"] == "skip"
    assert result["message"].startswith(
        "no kernel config readable (modprobe configs is not tried): /proc/config.gz (No such file or directory); "
        "/boot/config-6.1.0-25-amd64 (No such file or directory)"
    )


def test_kernel_config_recorded_kernel_passes(host):
    result = run(host(), "kernel.config")
    assert result["status"] == "pass"
    assert result["observed"] == {
        "config": "/proc/config.gz",
        "cgroup": "v2",
        "missing": [],
        "optional_missing": ["AUFS_FS", "BLK_DEV_DM"],
    }
    assert result["message"] == "/proc/config.gz: 17 required kernel options set; optional not set: AUFS_FS, BLK_DEV_DM"
    os.remove(host.root / "sys/fs/cgroup/cgroup.controllers")  # cgroup v1: the v1 options, all set here
    result = run(host(), "kernel.config")
    assert (result["status"], result["observed"]["cgroup"]) == ("pass", "v1")
    assert result["message"].startswith("/proc/config.gz: 19 required kernel options set")


def test_kernel_config_missing_options_fail(host):
    os.remove(host.root / "proc/config.gz")
    copy(host, "kernel-config/config-no-memcg-no-cgroup-bpf", "boot/config-6.1.0-25-amd64")
    result = run(host(), "kernel.config")
    assert result["status"] == "fail"
    assert result["observed"]["missing"] == ["MEMCG", "CGROUP_BPF"]
    assert result["message"] == "/boot/config-6.1.0-25-amd64: required kernel options not set: MEMCG, CGROUP_BPF"


@pytest.mark.parametrize(
    ("fixture", "relative", "message"),
    [
        ("kernel-config/not-gzip.gz", "proc/config.gz", "could not evaluate: /proc/config.gz is not gzip data"),
        ("kernel-config/no-options", "boot/config-6.1.0-25-amd64", "could not evaluate: no CONFIG_<NAME>="),
    ],
)
def test_kernel_config_malformed(host, fixture, relative, message):
    os.remove(host.root / "proc/config.gz")
    copy(host, fixture, relative)
    result = run(host(), "kernel.config")
    assert result["status"] == "fail"
    assert result["message"].startswith(message)


# images.present ------------------------------------------------------------------------------------------

PAUSE = {"images": ["registry.k8s.io/pause:3.9"]}


def _closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _hosts_toml(host, registry, mirror, server):
    text = (FIXTURES / "containerd/hosts-mirror.toml").read_text()
    text = text.replace("https://mirror.corp.example:5000", mirror).replace("https://registry.k8s.io", server)
    put(host, f"etc/containerd/certs.d/{registry}/hosts.toml", text)


def test_images_present_needs_a_list_and_ctr(host):
    assert run(host(), "images.present")["message"] == "no images listed (setting images)"
    assert run(host(settings=PAUSE), "images.present")["message"] == "ctr not found"


def test_images_present_in_containerd(host):
    tool(host, "ctr", address="with-pause")
    settings = {"images": ["registry.k8s.io/pause:3.9", "nvcr.io/nvidia/k8s-device-plugin:v0.17.0"]}
    result = run(host(settings=settings), "images.present")
    assert (result["status"], result["message"]) == ("pass", "2 image(s) present in containerd")


def test_images_missing_but_a_mirror_answers(host):
    tool(host, "ctr", address="empty")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        _hosts_toml(host, "registry.k8s.io", f"https://127.0.0.1:{port}", f"https://127.0.0.1:{_closed_port()}")
        result = run(host(settings=PAUSE), "images.present")
    assert result["status"] == "pass"
    assert result["observed"] == {
        "missing": ["registry.k8s.io/pause:3.9"],
        "pull_from": {"registry.k8s.io": f"127.0.0.1:{port}"},
    }


def test_images_missing_and_nothing_answers(host):
    tool(host, "ctr", address="empty")
    mirror, origin = _closed_port(), _closed_port()
    _hosts_toml(host, "registry.k8s.io", f"https://127.0.0.1:{mirror}", f"http://127.0.0.1:{origin}")
    result = run(host(settings=PAUSE), "images.present")
    assert result["status"] == "warn"
    assert result["message"].startswith(
        f"not in containerd: registry.k8s.io/pause:3.9; no way to pull: registry.k8s.io (tried 127.0.0.1:{mirror} ("
    )
    assert f", 127.0.0.1:{origin} (" in result["message"]


def test_images_default_mirror_folder(host):
    # containerd's _default/hosts.toml applies to registries without their own folder.
    tool(host, "ctr", address="empty")
    closed = _closed_port()
    _hosts_toml(host, "_default", f"https://127.0.0.1:{closed}", f"https://127.0.0.1:{closed}")
    result = run(host(settings={"images": ["pause:3.9"]}), "images.present")
    assert result["observed"]["missing"] == ["docker.io/library/pause:3.9"]
    assert "docker.io (tried" in result["message"]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("table", "could not evaluate: not an image reference: 'REF"),
        ("daemon-down", 'could not evaluate: ctr images list exited 1: ctr: failed to dial "/run/containerd/'),
    ],
)
def test_images_present_bad_ctr_output(host, case, message):
    tool(host, "ctr", address=case)
    result = run(host(settings=PAUSE), "images.present")
    assert result["status"] == "warn"
    assert result["message"].startswith(message)


def test_images_malformed_hosts_toml(host):
    tool(host, "ctr", address="empty")
    copy(host, "containerd/hosts-malformed.toml", "etc/containerd/certs.d/registry.k8s.io/hosts.toml")
    result = run(host(settings=PAUSE), "images.present")
    assert result["message"].startswith("could not evaluate: hosts.toml line 1: server is not a quoted string")


def test_replayed_tools_refuse_other_command_lines(host):
    tool(host, "kubeadm", version="v1.34.2")
    tool(host, "systemctl", is_active="active")
    ctx = host()
    assert ctx.run("kubeadm", ["version"])[0] == 2
    assert ctx.run("kubeadm", ["version", "-o", "short"]) == (0, "v1.34.2\n", "")
    rc, _out, err = ctx.run("systemctl", ["is-active", "firewalld"])
    assert rc == 2
    assert "not a recorded command line" in err
