"""Unit tests for the etcd filters: sizes, effective settings, input checks, member strings, restart order,
etcdctl argv."""

import re

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.cluster.plugins.filter.etcd import (
    FilterModule,
    etcd_certificate_renewals,
    etcd_cluster_selected,
    etcd_cluster_settings,
    etcd_etcdctl,
    etcd_initial_cluster,
    etcd_members,
    etcd_problems,
    etcd_restart_order,
    etcd_size_bytes,
    etcd_snapshot_problems,
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
# topology_etcd_clusters as the topology role's defaults write it.
CLUSTERS = [
    {"name": "main", "group": "etcd_main", "client_port": 2379, "peer_port": 2380, "metrics_port": 2381},
    {"name": "events", "group": "etcd_events", "client_port": 2382, "peer_port": 2383, "metrics_port": 2384,
     "apiserver_resources": ["/events"]},
]  # fmt: skip
SEPARATE = {"etcd_main": ["cp1", "cp2", "cp3"], "etcd_events": ["ev1", "ev2", "ev3"]}
COLOCATED = {"etcd_main": ["cp1", "cp2", "cp3"], "etcd_events": ["cp1", "cp2", "cp3"]}


def problems(overrides=None, *, settings=None, groups=None, cluster="main", ops=None, restore=None, clusters=None):
    return etcd_problems(
        clusters if clusters is not None else CLUSTERS,
        cluster,
        {**GLOBAL, **(settings or {})},
        overrides or {},
        groups or SEPARATE,
        data_root="/var/lib/etcd",
        ops=ops,
        restore=restore,
    )


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
    assert problems(groups=COLOCATED, cluster="events") == {"errors": [], "warnings": []}


def test_cluster_settings_merge_overrides_over_globals_and_take_the_contract_ports():
    overrides = {"events": {"quota_backend_bytes": "4GiB", "heartbeat_interval": 150}}
    settings = etcd_cluster_settings("events", CLUSTERS, GLOBAL, overrides, "/var/lib/etcd")
    assert settings["quota_backend_bytes"] == 4 * 1024**3
    assert settings["heartbeat_interval"] == 150
    assert settings["election_timeout"] == 1000
    assert settings["data_dir"] == "/var/lib/etcd/events"
    assert settings["cluster_token"] == "etcd-events"
    assert settings["unit"] == "etcd-events"
    assert (settings["group"], settings["client_port"], settings["peer_port"]) == ("etcd_events", 2382, 2383)
    assert etcd_cluster_settings("main", CLUSTERS, GLOBAL)["quota_backend_bytes"] == 8 * 1024**3


def test_cluster_settings_type_the_strings_of_extra_vars():
    # -e etcd_backup_keep=3 -e etcd_backup_enabled=false arrive as strings.
    settings = etcd_cluster_settings(
        "main", CLUSTERS, {**GLOBAL, "backup_keep": "3", "backup_enabled": "false", "heartbeat_interval": "100"}
    )
    assert settings["backup_keep"] == 3
    assert settings["backup_enabled"] is False
    assert settings["heartbeat_interval"] == 100


def test_cluster_settings_reject_an_unknown_cluster():
    with pytest.raises(AnsibleFilterError, match="etcd_cluster: 'audit'"):
        etcd_cluster_settings("audit", CLUSTERS, GLOBAL)


def test_unknown_cluster_names_etcd_cluster():
    assert problems(cluster="audit")["errors"] == [
        "etcd_cluster: must name a cluster of topology_etcd_clusters (main, events) (got 'audit')"
    ]


def test_no_members_is_an_error_for_the_cluster_handled():
    lone = {"etcd_main": ["cp1"]}
    assert problems(groups=lone, cluster="main")["errors"] == []
    assert problems(groups=lone, cluster="events")["errors"] == [
        "topology_etcd_clusters[events].group: has no members (add hosts, or remove the cluster) (got 'etcd_events')"
    ]


def test_even_member_count_is_a_warning():
    result = problems(groups={"etcd_main": ["cp1", "cp2"], "etcd_events": ["ev1", "ev2", "ev3"]})
    assert result["errors"] == []
    assert result["warnings"] == [
        "topology_etcd_clusters[main].group: 2 members is an even number; "
        "an odd count tolerates the same failures with one member fewer"
    ]


def test_election_timeout_under_five_heartbeats_names_the_global_variable():
    (error,) = problems(settings={"election_timeout": 400})["errors"]
    assert error == (
        "etcd_election_timeout: must be at least 5 x etcd_heartbeat_interval (100 ms): "
        "etcd refuses to start below it (got 400)"
    )


def test_election_timeout_override_names_the_override():
    errors = problems({"events": {"election_timeout": 600, "heartbeat_interval": 150}})["errors"]
    assert errors == [
        "etcd_cluster_overrides.events.election_timeout: must be at least 5 x "
        "etcd_cluster_overrides.events.heartbeat_interval (150 ms): etcd refuses to start below it (got 600)"
    ]


def test_election_timeout_over_50000_is_an_error():
    errors = problems(settings={"election_timeout": 60000})["errors"]
    assert errors == ["etcd_election_timeout: must not exceed 50000 ms (got 60000)"]


def test_quota_above_8gib_warns_and_a_non_size_fails():
    result = problems({"main": {"quota_backend_bytes": "16GiB"}})
    assert result["errors"] == []
    assert result["warnings"] == [
        f"etcd_cluster_overrides.main.quota_backend_bytes: {16 * 1024**3} bytes is above the suggested maximum of 8 GiB"
    ]
    errors = problems(settings={"quota_backend_bytes": "huge"})["errors"]
    assert errors == ["etcd_quota_backend_bytes: must be a size such as 8GiB or a number of bytes (got 'huge')"]


def test_data_dir_clash_between_colocated_clusters():
    errors = problems({"events": {"data_dir": "/var/lib/etcd/main"}}, groups=COLOCATED)["errors"]
    assert errors == [
        "etcd_cluster_overrides.events.data_dir: must differ from the data directory of cluster main on co-located "
        "host cp1 (got '/var/lib/etcd/main')"
    ]
    # The same folder on separate hosts is fine.
    assert problems({"events": {"data_dir": "/var/lib/etcd/main"}}, groups=SEPARATE)["errors"] == []


def test_overrides_of_an_unknown_cluster_or_setting():
    assert problems({"audit": {"quota_backend_bytes": "1GiB"}})["errors"] == [
        "etcd_cluster_overrides.audit: names no cluster of topology_etcd_clusters"
    ]
    assert problems({"main": {"quota": "8GiB"}})["errors"] == [
        "etcd_cluster_overrides.main.quota: is not a setting a cluster may override"
    ]
    assert problems(["main"])["errors"] == [
        "etcd_cluster_overrides: must be a dict of cluster name -> settings (got ['main'])"
    ]


def test_integers_and_booleans_from_strings_pass_and_others_fail():
    assert problems(settings={"backup_keep": "3", "backup_enabled": "false"})["errors"] == []
    assert problems(settings={"backup_keep": 0, "backup_enabled": "maybe"})["errors"] == [
        "etcd_backup_keep: must be a whole number of 1 or more (got 0)",
        "etcd_backup_enabled: must be a boolean (true or false) (got 'maybe')",
    ]


def test_operations_variables():
    good = {
        "etcd_pki_controller_dir": "/srv/pki",
        "etcd_defrag_min_fragmentation": "0",
        "etcd_defrag_compact": "true",
        "etcd_health_max_quota_ratio": 0.8,
        "etcd_ops_timeout": "5",
    }
    assert problems(ops=good)["errors"] == []
    bad = {
        "etcd_pki_controller_dir": "pki",
        "etcd_defrag_min_fragmentation": 2,
        "etcd_defrag_compact": "sometimes",
        "etcd_ops_timeout": 0,
    }
    assert problems(ops=bad)["errors"] == [
        "etcd_pki_controller_dir: must be an absolute path on the controller (got 'pki')",
        "etcd_defrag_min_fragmentation: must be a number from 0 to 1 (got 2)",
        "etcd_defrag_compact: must be a boolean (true or false) (got 'sometimes')",
        "etcd_ops_timeout: must be a whole number of 1 or more (got 0)",
    ]


def test_restore_request():
    groups = {**SEPARATE, "all": ["cp1", "cp2", "cp3", "ev1", "ev2", "ev3"]}
    good = {
        "etcd_restore_cluster": "events",
        "etcd_restore_confirm": "events",
        "etcd_restore_snapshot": "/x.db",
        "etcd_restore_snapshot_host": "cp1",
    }
    assert etcd_problems(CLUSTERS, None, GLOBAL, {}, groups, restore=good)["errors"] == []
    bad = {"etcd_restore_cluster": "nosuch", "etcd_restore_snapshot": "x.db", "etcd_restore_snapshot_host": "zz"}
    assert etcd_problems(CLUSTERS, None, GLOBAL, {}, groups, restore=bad)["errors"] == [
        "etcd_restore_cluster: must name a cluster of topology_etcd_clusters that has members (main, events) "
        "(got 'nosuch')",
        "etcd_restore_snapshot: must be an absolute path (got 'x.db')",
        "etcd_restore_snapshot_host: must be localhost or a host of the inventory (got 'zz')",
    ]


@pytest.mark.parametrize(
    ("confirm", "skip", "expected"),
    [
        (
            "",
            False,
            "etcd_restore_confirm: must repeat etcd_restore_cluster (events) to confirm the restore, which replaces "
            "the data of every member of cluster events (got '')",
        ),
        (
            "main",
            False,
            "etcd_restore_confirm: must repeat etcd_restore_cluster (events) to confirm the restore, which replaces "
            "the data of every member of cluster events (got 'main')",
        ),
        ("events", "maybe", "etcd_restore_skip_identity_check: must be true or false (got 'maybe')"),
    ],
)
def test_a_restore_must_be_confirmed_by_the_cluster_name(confirm, skip, expected):
    groups = {**SEPARATE, "all": ["cp1", "cp2", "cp3", "ev1", "ev2", "ev3"]}
    request = {
        "etcd_restore_cluster": "events",
        "etcd_restore_confirm": confirm,
        "etcd_restore_skip_identity_check": skip,
        "etcd_restore_snapshot": "/x.db",
        "etcd_restore_snapshot_host": "cp1",
    }
    assert etcd_problems(CLUSTERS, None, GLOBAL, {}, groups, restore=request)["errors"] == [expected]


SHA = "a" * 64


@pytest.mark.parametrize(
    ("identity", "checksum", "skip", "expected"),
    [
        ({"cluster": "main", "sha256": SHA}, SHA, False, []),
        (None, SHA, True, []),
        (
            None,
            SHA,
            False,
            [
                "etcd_restore_snapshot: /b/main-1.db has no identity file /b/main-1.db.json (the role's backup "
                "service writes one beside each snapshot), so nothing shows that it is a snapshot of cluster main; "
                "set etcd_restore_skip_identity_check=true to restore a snapshot made by other tooling"
            ],
        ),
        # An events snapshot never restores onto main, and a skip does not change that.
        (
            {"cluster": "events", "sha256": SHA},
            SHA,
            "true",
            [
                "etcd_restore_snapshot: /b/main-1.db is a snapshot of cluster 'events' (its identity file "
                "/b/main-1.db.json), not of main"
            ],
        ),
        (
            {"cluster": "main", "sha256": SHA},
            "b" * 64,
            False,
            [
                f"etcd_restore_snapshot: the sha256 of /b/main-1.db ({'b' * 64}) is not the one its identity file "
                f"records ({SHA}): the file changed after the backup"
            ],
        ),
        (["main"], SHA, False, ["etcd_restore_snapshot: the identity file /b/main-1.db.json is not a JSON object"]),
    ],
)
def test_a_snapshot_restores_only_onto_its_own_cluster_unchanged(identity, checksum, skip, expected):
    assert etcd_snapshot_problems(identity, "main", checksum, "/b/main-1.db", skip) == expected


def test_archive_without_a_checksum_is_refused_with_a_url_or_a_source():
    errors = problems(settings={"archive_checksum": ""})["errors"]
    assert errors == [
        "etcd_archive_checksum: is required (sha256:<64 hex digits> or sha512:<128 hex digits> or sha256:<URL of a "
        "checksum file>): the download of etcd_archive_url is verified against it (got '')"
    ]
    errors = problems(settings={"archive_checksum": "", "archive_url": "", "archive_src": "/srv/etcd.tgz"})["errors"]
    assert errors == [
        "etcd_archive_checksum: is required (sha256:<64 hex digits> or sha512:<128 hex digits>): the copy of "
        "etcd_archive_src is verified against it (got '')"
    ]
    good = {"archive_checksum": "sha512:" + "b" * 128, "archive_url": "", "archive_src": "/srv/etcd.tgz"}
    assert problems(settings=good) == {"errors": [], "warnings": []}


def test_archive_version_and_checksum_format():
    errors = problems(settings={"version": "3.4.23", "archive_checksum": "md5:abc"})["errors"]
    assert errors[0].startswith("etcd_version: must be an etcd 3.5.x or 3.6.x release")
    assert errors[1].startswith("etcd_archive_checksum: must name its algorithm (sha256:<64 hex digits> or")


def test_package_method_needs_packages():
    errors = problems({"events": {"install_method": "package", "packages": []}})["errors"]
    assert errors == [
        "etcd_cluster_overrides.events.packages: install method package needs the distribution's packages (got [])"
    ]


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


def test_ipv6_members_are_bracketed_in_every_url():
    members = [{"name": "cp1", "address": "fd00::1"}, {"name": "cp2", "address": "10.0.0.2"}]
    assert etcd_initial_cluster(members, 2380) == "cp1=https://[fd00::1]:2380,cp2=https://10.0.0.2:2380"
    assert etcd_urls(members, 2381, "http", "/metrics") == [
        "http://[fd00::1]:2381/metrics",
        "http://10.0.0.2:2381/metrics",
    ]


def test_restart_order_puts_the_leader_last():
    status = {"leader": {"id": "2", "name": "cp2", "endpoint": "https://10.0.0.2:2379"}}
    endpoints = {f"cp{i}": f"https://10.0.0.{i}:2379" for i in (1, 2, 3)}
    assert etcd_restart_order(["cp1", "cp2", "cp3"], status, endpoints) == ["cp1", "cp3", "cp2"]
    assert etcd_restart_order(["cp1", "cp2", "cp3"], {"leader": None}, endpoints) == ["cp1", "cp2", "cp3"]
    assert etcd_restart_order(["cp1", "cp2", "cp3"], {}, endpoints) == ["cp1", "cp2", "cp3"]


def test_cluster_selection_of_an_operation():
    assert etcd_cluster_selected([], "events")
    assert etcd_cluster_selected(["events"], "events")
    assert not etcd_cluster_selected(["main"], "events")
    # -e etcd_defrag_clusters=main,events arrives as a string.
    assert etcd_cluster_selected("main,events", "events")
    assert not etcd_cluster_selected("main", "events")


def test_etcdctl_argv():
    tls = {"cacert": "/pki/ca.crt", "cert": "/pki/ops.crt", "key": "/pki/ops.key"}
    assert etcd_etcdctl(["https://[fd00::1]:2379", "https://10.0.0.2:2379"], "/bin/etcdctl", tls, ["defrag"], 300) == [
        "/bin/etcdctl",
        "--endpoints=https://[fd00::1]:2379,https://10.0.0.2:2379",
        "--dial-timeout=300s",
        "--command-timeout=300s",
        "--cacert=/pki/ca.crt",
        "--cert=/pki/ops.crt",
        "--key=/pki/ops.key",
        "defrag",
    ]
    assert etcd_etcdctl("https://10.0.0.1:2379", "etcdctl", {}, ["alarm", "disarm"])[1:] == [
        "--endpoints=https://10.0.0.1:2379",
        "--dial-timeout=5s",
        "--command-timeout=5s",
        "alarm",
        "disarm",
    ]


def test_filter_module_lists_every_filter():
    assert set(FilterModule().filters()) == {
        "etcd_size_bytes",
        "etcd_cluster_settings",
        "etcd_problems",
        "etcd_snapshot_problems",
        "etcd_members",
        "etcd_initial_cluster",
        "etcd_urls",
        "etcd_restart_order",
        "etcd_etcdctl",
        "etcd_cluster_selected",
        "etcd_certificate_renewals",
    }


NOW = "20270601120000Z"


def test_certificates_expiring_within_the_window_are_renewed_the_others_kept():
    certificates = [
        {"file": "members/e1/main-server", "not_after": "20280601120000Z"},  # a year left
        {"file": "members/e1/main-peer", "not_after": "20270701115959Z"},  # a second under 30 days
        {"file": "members/e2/main-peer", "not_after": "20270701120000Z"},  # exactly 30 days: kept
        {"file": "ops-client", "not_after": "20270520120000Z"},  # expired 12 days ago
        {"file": "members/e3/main-server", "not_after": ""},  # not made yet
        {"file": "members/e3/main-peer"},
    ]
    assert etcd_certificate_renewals(certificates, NOW, 30) == [
        {"file": "members/e1/main-peer", "not_after": "20270701115959Z", "days_left": 29},
        {"file": "ops-client", "not_after": "20270520120000Z", "days_left": -12},
    ]
    assert etcd_certificate_renewals(certificates, NOW, "1") == [
        {"file": "ops-client", "not_after": "20270520120000Z", "days_left": -12}
    ]
    assert etcd_certificate_renewals([], NOW, 30) == []


def test_certificate_renewals_read_x509_certificate_info_loop_results():
    results = [
        {"item": {"file": "members/e1/main-server"}, "not_after": "20270610000000Z", "changed": False},
        {"item": {"file": "members/e2/main-server"}, "skipped": True, "changed": False},
    ]
    assert [r["file"] for r in etcd_certificate_renewals(results, NOW, 30)] == ["members/e1/main-server"]


@pytest.mark.parametrize(
    ("certificates", "now", "days", "message"),
    [
        ([], "2027-06-01", 30, "now is not an ASN.1 time like 20270413202428Z: '2027-06-01'"),
        ([{"file": "ca", "not_after": "soon"}], NOW, 30, "the not_after of ca is not an ASN.1 time"),
        ([], NOW, "a month", "renew_before_days must be a whole number (got 'a month')"),
    ],
)
def test_certificate_renewals_refuse_what_they_cannot_read(certificates, now, days, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        etcd_certificate_renewals(certificates, now, days)
