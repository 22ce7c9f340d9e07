"""Unit tests for the etcd filters: sizes, effective settings, input checks, member strings, restart order."""

import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.cluster.plugins.filter.etcd import (
    FilterModule,
    etcd_cluster_settings,
    etcd_initial_cluster,
    etcd_members,
    etcd_restart_order,
    etcd_settings_problems,
    etcd_size_bytes,
    etcd_urls,
)

GLOBAL = {
    "install_method": "archive",
    "version": "3.5.21",
    "archive_url": "https://example.invalid/etcd.tar.gz",
    "archive_checksum": "sha256:" + "a" * 64,
    "archive_src": "",
    "packages": ["etcd-server", "etcd-client"],
    "quota_backend_bytes": "8GiB",
    "auto_compaction_mode": "periodic",
    "auto_compaction_retention": "1h",
    "heartbeat_interval": 100,
    "election_timeout": 1000,
    "snapshot_count": 100000,
    "max_request_bytes": 1572864,
    "metrics": "basic",
    "backup_enabled": True,
    "backup_on_calendar": "hourly",
    "backup_keep": 24,
    "backup_hook": "",
}
CLUSTERS = [
    {"name": "main", "group": "etcd_main", "client_port": 2379, "peer_port": 2380, "metrics_port": 2381},
    {"name": "events", "group": "etcd_events", "client_port": 2382, "peer_port": 2383, "metrics_port": 2384},
]
SEPARATE = {"etcd_main": ["cp1", "cp2", "cp3"], "etcd_events": ["ev1", "ev2", "ev3"]}
COLOCATED = {"etcd_main": ["cp1", "cp2", "cp3"], "etcd_events": ["cp1", "cp2", "cp3"]}


def problems(clusters=None, settings=None, groups=None):
    return etcd_settings_problems(
        clusters if clusters is not None else CLUSTERS, {**GLOBAL, **(settings or {})}, groups or SEPARATE
    )


def with_cluster(name, **changes):
    clusters = copy.deepcopy(CLUSTERS)
    next(c for c in clusters if c["name"] == name).update(changes)
    return clusters


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("8GiB", 8 * 1024**3),
        ("512MiB", 512 * 1024**2),
        ("2G", 2 * 1000**3),
        ("1.5KiB", 1536),
        (" 100 ", 100),
        (2147483648, 2147483648),
    ],
)
def test_sizes(value, expected):
    assert etcd_size_bytes(value) == expected


@pytest.mark.parametrize("value", ["lots", "8 GiBs", "-1G", "", True, None])
def test_not_a_size(value):
    with pytest.raises(AnsibleFilterError, match="not a size"):
        etcd_size_bytes(value)


def test_good_settings_have_no_problems_in_both_topologies():
    assert problems() == {"errors": [], "warnings": []}
    assert problems(groups=COLOCATED) == {"errors": [], "warnings": []}


def test_cluster_settings_merge_overrides_over_globals():
    clusters = with_cluster("events", quota_backend_bytes="4GiB", heartbeat_interval=150)
    settings = etcd_cluster_settings(clusters, "events", GLOBAL, "/var/lib/etcd")
    assert settings["quota_backend_bytes"] == 4 * 1024**3
    assert settings["heartbeat_interval"] == 150
    assert settings["election_timeout"] == 1000
    assert settings["data_dir"] == "/var/lib/etcd/events"
    assert settings["cluster_token"] == "etcd-events"
    assert settings["unit"] == "etcd-events"
    assert etcd_cluster_settings(CLUSTERS, "main", GLOBAL)["client_port"] == 2379


def test_cluster_settings_reject_an_unknown_cluster():
    with pytest.raises(AnsibleFilterError, match="etcd_cluster: 'audit'"):
        etcd_cluster_settings(CLUSTERS, "audit", GLOBAL)


def test_no_members_is_an_error_naming_the_group():
    result = problems(groups={"etcd_main": ["cp1", "cp2", "cp3"]})
    assert result["errors"] == [
        "etcd_clusters[events].group: group 'etcd_events' has no members "
        "(remove the cluster from etcd_clusters or add hosts)"
    ]


def test_no_members_only_matters_for_the_cluster_being_installed():
    lone = {"etcd_main": ["cp1"]}
    assert etcd_settings_problems(CLUSTERS, GLOBAL, lone, "/var/lib/etcd", "main")["errors"] == []
    errors = etcd_settings_problems(CLUSTERS, GLOBAL, lone, "/var/lib/etcd", "events")["errors"]
    assert errors[0].startswith("etcd_clusters[events].group: group 'etcd_events' has no members")


def test_even_member_count_is_a_warning():
    result = problems(groups={"etcd_main": ["cp1", "cp2"], "etcd_events": ["ev1", "ev2", "ev3"]})
    assert result["errors"] == []
    assert result["warnings"] == [
        "etcd_clusters[main].group: 2 members is an even number; "
        "an odd count tolerates the same failures with one member fewer"
    ]


def test_election_timeout_under_five_heartbeats_names_the_global_variable():
    (error,) = problems(settings={"election_timeout": 400})["errors"][:1]
    assert error.startswith("etcd_election_timeout (400 ms) must be at least 5 x heartbeat interval")
    assert "etcd_heartbeat_interval = 100 ms" in error


def test_election_timeout_override_names_the_cluster_entry():
    errors = problems(with_cluster("events", election_timeout=600, heartbeat_interval=150))["errors"]
    assert errors == [
        "etcd_clusters[events].election_timeout (600 ms) must be at least 5 x heartbeat interval "
        "(etcd_clusters[events].heartbeat_interval = 150 ms): etcd refuses to start below it"
    ]


def test_election_timeout_over_50000_is_an_error():
    errors = problems(settings={"election_timeout": 60000})["errors"]
    assert errors[0] == "etcd_election_timeout (60000 ms) must not exceed 50000 ms"


def test_quota_above_8gib_warns_and_a_non_size_fails():
    result = problems(with_cluster("main", quota_backend_bytes="16GiB"))
    assert result["errors"] == []
    assert result["warnings"] == [
        f"etcd_clusters[main].quota_backend_bytes is {16 * 1024**3} bytes, above the suggested maximum of 8 GiB"
    ]
    errors = problems(settings={"quota_backend_bytes": "huge"})["errors"]
    assert errors[0] == "etcd_quota_backend_bytes must be a size such as 8GiB or a number of bytes (got 'huge')"


def test_port_clash_between_colocated_clusters():
    clusters = with_cluster("events", client_port=2379, peer_port=2390, metrics_port=2391)
    errors = problems(clusters, groups=COLOCATED)["errors"]
    assert errors == [
        "etcd_clusters[events].client_port clashes with etcd_clusters[main].client_port (port 2379) "
        "on co-located hosts cp1, cp2, cp3"
    ]
    # The same ports on separate hosts are fine.
    assert problems(clusters, groups=SEPARATE)["errors"] == []


def test_data_dir_clash_between_colocated_clusters():
    clusters = with_cluster("events", data_dir="/var/lib/etcd/main")
    errors = problems(clusters, groups=COLOCATED)["errors"]
    assert errors == [
        "etcd_clusters[events].data_dir clashes with etcd_clusters[main].data_dir (data dir /var/lib/etcd/main) "
        "on co-located hosts cp1, cp2, cp3"
    ]


def test_ports_of_one_cluster_must_differ():
    errors = problems(with_cluster("main", metrics_port=2380))["errors"]
    assert errors == [
        "etcd_clusters[main]: client_port, peer_port and metrics_port must differ (got [2379, 2380, 2380])"
    ]


def test_duplicate_cluster_names():
    clusters = [*CLUSTERS, dict(CLUSTERS[0])]
    assert problems(clusters)["errors"] == ["etcd_clusters: duplicate cluster names ['main']"]


def test_unknown_override_key():
    errors = problems(with_cluster("main", quota="8GiB"))["errors"]
    assert errors == ["etcd_clusters[main]: unknown settings ['quota']"]


def test_archive_without_url_checksum_or_src():
    errors = problems(settings={"archive_checksum": ""})["errors"]
    assert errors[0].startswith("install method archive needs etcd_archive_url and etcd_archive_checksum")
    assert problems(settings={"archive_checksum": "", "archive_url": "", "archive_src": "/srv/etcd.tgz"}) == {
        "errors": [],
        "warnings": [],
    }


def test_archive_version_and_checksum_format():
    errors = problems(settings={"version": "3.4.23", "archive_checksum": "md5:abc"})["errors"]
    assert errors[0].startswith("etcd_version must be an etcd 3.5.x or 3.6.x release")
    assert errors[1] == "etcd_archive_checksum must start with 'sha256:' (got 'md5:abc')"


def test_package_method_needs_packages_and_method_must_be_known():
    errors = problems(with_cluster("events", install_method="package", packages=[]))["errors"]
    assert errors == ["install method package needs etcd_clusters[events].packages (the distribution's packages)"]
    errors = problems(settings={"install_method": "docker"})["errors"]
    assert errors == ["etcd_install_method must be one of archive, package (got 'docker')"]


def test_empty_cluster_list():
    assert problems([])["errors"] == ["etcd_clusters must be a non-empty list of clusters"]


def test_member_strings():
    members = etcd_members(["cp1", "cp2"], ["10.0.0.1", "fd00::2"])
    assert etcd_initial_cluster(members, 2380) == "cp1=https://10.0.0.1:2380,cp2=https://[fd00::2]:2380"
    assert etcd_urls(members, 2379) == ["https://10.0.0.1:2379", "https://[fd00::2]:2379"]
    with pytest.raises(AnsibleFilterError, match=r"no address for member\(s\) cp2: set etcd_address"):
        etcd_members(["cp1", "cp2"], ["10.0.0.1", ""])


def test_a_member_that_left_the_play_is_named():
    with pytest.raises(AnsibleFilterError) as error:
        etcd_members(["cp1", "cp2", "cp3"], ["", "10.0.0.2", "10.0.0.3"], ["cp2", "cp3"], "main")
    message = str(error.value)
    assert "etcd cluster main cannot be formed: member(s) cp1 left the play" in message
    assert "failed or unreachable" in message
    assert "initial-cluster" in message
    assert etcd_members(["cp1"], ["10.0.0.1"], ["cp1"], "main") == [{"name": "cp1", "address": "10.0.0.1"}]


def test_restart_order_puts_the_leader_last():
    status = [
        {"Endpoint": f"https://10.0.0.{i}:2379", "Status": {"header": {"member_id": i}, "leader": 2}} for i in (1, 2, 3)
    ]
    endpoints = {f"cp{i}": f"https://10.0.0.{i}:2379" for i in (1, 2, 3)}
    assert etcd_restart_order(["cp1", "cp2", "cp3"], status, endpoints) == ["cp1", "cp3", "cp2"]
    assert etcd_restart_order(["cp1", "cp2", "cp3"], [], endpoints) == ["cp1", "cp2", "cp3"]


def test_filter_module_lists_every_filter():
    assert set(FilterModule().filters()) == {
        "etcd_size_bytes",
        "etcd_cluster_settings",
        "etcd_settings_problems",
        "etcd_members",
        "etcd_initial_cluster",
        "etcd_urls",
        "etcd_restart_order",
    }
