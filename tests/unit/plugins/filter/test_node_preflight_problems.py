"""The node_preflight role's input rules (node_preflight_problems) and containerd's (containerd_problems)."""

from __future__ import annotations

import pytest

from ansible_collections.aiplatform.cluster.plugins.filter.containerd import containerd_problems
from ansible_collections.aiplatform.cluster.plugins.filter.node_preflight import node_preflight_problems

PREFLIGHT = {
    "node_preflight_profiles": [],
    "node_preflight_report_dir": "/tmp/reports/preflight",
    "node_preflight_write_reports": True,
    "node_preflight_site_checks_src": "",
    "node_preflight_command_timeout": 10.0,
    "node_preflight_custom_checks": [],
}


def test_preflight_defaults_pass():
    assert node_preflight_problems(PREFLIGHT) == []
    parts = ["control_plane", "nodes", "gpu", "etcd", "monitoring"]
    assert node_preflight_problems({**PREFLIGHT, "node_preflight_profiles": parts}) == []


@pytest.mark.parametrize(
    ("changes", "starts"),
    [
        (
            {"node_preflight_profiles": ["nodes", "gpu_worker"]},
            "node_preflight_profiles: must be among control_plane, nodes, gpu, etcd, monitoring",
        ),
        ({"node_preflight_report_dir": "reports"}, "node_preflight_report_dir: must be an absolute path"),
        (
            {"node_preflight_site_checks_src": "checks"},
            "node_preflight_site_checks_src: must be empty or an absolute path",
        ),
        ({"node_preflight_command_timeout": 0}, "node_preflight_command_timeout: must be a number of seconds above 0"),
        (
            {"node_preflight_custom_checks": [{"id": "a", "type": "dns"}]},
            "node_preflight_custom_checks[0]: custom check 'a': type must be",
        ),
        (
            {"node_preflight_custom_checks": [{"type": "file", "path": "/x"}]},
            "node_preflight_custom_checks[0]: custom check None (file) lacks id",
        ),
    ],
)
def test_preflight_one_message_naming_the_variable(changes, starts):
    (message,) = node_preflight_problems({**PREFLIGHT, **changes})
    assert message.startswith(starts), message


def test_preflight_relative_report_dir_is_fine_without_reports():
    assert (
        node_preflight_problems({**PREFLIGHT, "node_preflight_report_dir": "x", "node_preflight_write_reports": False})
        == []
    )


CONTAINERD = {
    "containerd_install_method": "package",
    "containerd_archive_url": "https://example.org/containerd.tar.gz",
    "containerd_archive_checksum": "sha256:https://example.org/containerd.tar.gz.sha256sum",
    "containerd_runc_url": "https://example.org/runc.amd64",
    "containerd_runc_checksum": "sha256:https://example.org/runc.sha256sum",
    "containerd_snapshotter": "overlayfs",
    "containerd_max_concurrent_downloads": 10,
    "containerd_stargz_enabled": False,
    "containerd_dragonfly_enabled": False,
    "containerd_dragonfly_schedulers": [],
    "containerd_registry_mirrors": [
        {
            "registry": "docker.io",
            "mirrors": [{"host": "https://mirror.example.org", "capabilities": ["pull", "resolve"]}],
        }
    ],
}


def test_containerd_defaults_pass():
    assert containerd_problems(CONTAINERD) == []


@pytest.mark.parametrize(
    ("changes", "starts"),
    [
        ({"containerd_snapshotter": "stargz"}, "containerd_snapshotter: stargz needs containerd_stargz_enabled: true"),
        ({"containerd_max_concurrent_downloads": 0}, "containerd_max_concurrent_downloads: must be 1 or more"),
        ({"containerd_dragonfly_enabled": True}, "containerd_dragonfly_schedulers: must list a scheduler"),
        (
            {"containerd_install_method": "archive", "containerd_runc_checksum": "abc"},
            "containerd_runc_checksum: must name its algorithm (sha256:<64 hex digits>",
        ),
        (
            {"containerd_registry_mirrors": [{"registry": "docker.io/x"}]},
            "containerd_registry_mirrors[0].registry: must be a registry name",
        ),
        (
            {"containerd_registry_mirrors": [{"registry": "r", "server": "ftp://r"}]},
            "containerd_registry_mirrors[0].server: must be an http",
        ),
        (
            {"containerd_registry_mirrors": [{"registry": "r", "mirrors": [{"capabilities": ["pull"]}]}]},
            "containerd_registry_mirrors[0].mirrors[0].host: must be an http",
        ),
        (
            {
                "containerd_registry_mirrors": [
                    {"registry": "r", "mirrors": [{"host": "https://m", "capabilities": ["fetch"]}]}
                ]
            },
            "containerd_registry_mirrors[0].mirrors[0].capabilities: must be among pull, resolve, push",
        ),
    ],
)
def test_containerd_one_message_naming_the_variable(changes, starts):
    (message,) = containerd_problems({**CONTAINERD, **changes})
    assert message.startswith(starts), message


def test_containerd_lists_every_problem():
    bad = {**CONTAINERD, "containerd_max_concurrent_downloads": 0, "containerd_dragonfly_enabled": True}
    assert len(containerd_problems(bad)) == 2


def test_containerd_estargz_images_only_when_given():
    assert (
        containerd_problems(
            {**CONTAINERD, "containerd_estargz_images": [{"source": "a:1", "target": "reg:5000/a:1-esgz"}]}
        )
        == []
    )
    (message,) = containerd_problems({**CONTAINERD, "containerd_estargz_images": []})
    assert message.startswith("containerd_estargz_images: must list the images")
    messages = containerd_problems({**CONTAINERD, "containerd_estargz_images": [{"target": "a:1"}]})
    assert [m.split(":")[0] for m in messages] == [
        "containerd_estargz_images[0].source",
        "containerd_estargz_images[0].target",
    ]
