"""The preflight parsers on recorded-format outputs, malformed and empty inputs."""

import pytest
from conftest import NOW

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_checks_gpu import REMAP_FIELDS, gpu_fields
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_core import CheckError
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_parsers import (
    log_line_epoch,
    mount_for,
    nvidia_flag,
    nvidia_int,
    parse_chrony_tracking,
    parse_key_values,
    parse_kmsg_records,
    parse_listening_ports,
    parse_meminfo,
    parse_mounts,
    parse_nvidia_csv,
    parse_nvlink_status,
    parse_xids,
    recent_log_lines,
    version_tuple,
)


def text(fixtures, relative):
    return (fixtures / relative).read_text(errors="replace")


def test_healthy_query_gpu_rows(fixtures):
    rows = parse_nvidia_csv(text(fixtures, "nvidia-smi/healthy-8gpu/query-gpu.csv"), gpu_fields("535.129.03"))
    assert len(rows) == 8
    assert rows[0] == {
        "index": "0",
        "pci.bus_id": "00000000:18:00.0",
        "driver_version": "535.129.03",
        "persistence_mode": "Enabled",
        "ecc.errors.uncorrected.volatile.total": "0",
        "retired_pages.pending": None,
        "clocks_event_reasons.hw_slowdown": "Not Active",
    }


def test_remapped_rows_pending_is_read(fixtures):
    rows = parse_nvidia_csv(text(fixtures, "nvidia-smi/row-remap-pending/query-remapped-rows.csv"), REMAP_FIELDS)
    assert [nvidia_flag(r["remapped_rows.pending"], "p") for r in rows].count(True) == 1


@pytest.mark.parametrize("case", ["malformed", "exit-9"])
def test_malformed_csv_raises(fixtures, case):
    with pytest.raises(CheckError, match="fields"):
        parse_nvidia_csv(text(fixtures, f"nvidia-smi/{case}/query-gpu.csv"), gpu_fields("535.129.03"))


def test_empty_csv_has_no_rows(fixtures):
    assert parse_nvidia_csv(text(fixtures, "nvidia-smi/empty/query-gpu.csv"), gpu_fields("535.129.03")) == []


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("Yes", True),
        ("No", False),
        ("Active", True),
        ("Not Active", False),
        ("Enabled", True),
        ("Disabled", False),
        ("1", True),
        ("0", False),
        (None, None),
    ],
)
def test_flags(raw, value):
    assert nvidia_flag(raw, "f") is value


def test_bad_flag_and_number_raise():
    with pytest.raises(CheckError):
        nvidia_flag("maybe", "f")
    with pytest.raises(CheckError):
        nvidia_int("lots", "f")
    assert nvidia_int(None, "f") is None


def test_nvlink_status(fixtures):
    healthy = parse_nvlink_status(text(fixtures, "nvidia-smi/healthy-8gpu/nvlink-s.txt"))
    assert len(healthy) == 8
    assert all(g == {"links": 18, "inactive": []} for g in healthy.values())
    broken = parse_nvlink_status(text(fixtures, "nvidia-smi/nvlink-inactive/nvlink-s.txt"))
    assert broken[2]["inactive"] == [7]
    assert parse_nvlink_status("") == {}


def test_chrony_tracking(fixtures):
    synced = parse_chrony_tracking(text(fixtures, "chrony/tracking-synced.txt"))
    assert synced == {"reference_id": "C0A80101", "stratum": 3, "leap_status": "Normal", "offset_s": -0.000012345}
    assert parse_chrony_tracking(text(fixtures, "chrony/tracking-offset-large.txt"))["offset_s"] == 0.734
    unsynced = parse_chrony_tracking(text(fixtures, "chrony/tracking-unsynchronised.txt"))
    assert unsynced["leap_status"] == "Not synchronised"
    assert parse_chrony_tracking(text(fixtures, "chrony/tracking-local.txt"))["reference_id"] == "7F7F0101"


@pytest.mark.parametrize("bad", ["", "506 Cannot talk to daemon\n", "Leap status : Normal\nSystem time : soon\n"])
def test_chrony_malformed(bad):
    with pytest.raises(CheckError):
        parse_chrony_tracking(bad)


def test_timedatectl_show(fixtures):
    assert parse_key_values(text(fixtures, "timedatectl/show-synced.txt")) == {"NTP": "yes", "NTPSynchronized": "yes"}
    assert parse_key_values("garbage\n") == {}


@pytest.mark.parametrize(
    ("line", "epoch"),
    [
        ("2026-11-29T10:00:00+00:00 h kernel: x", NOW - 3600),
        ("2026-11-29T10:00:00.500000Z h kernel: x", NOW - 3599.5),
        ("2026-11-29T11:00:00+0100 h kernel: x", NOW - 3600),
        ("1764410400.000000 h kernel: x", 1764410400.0),
        ("Nov 29 10:30:00 h kernel: x", NOW - 1800),
        ("[ 86000.000000] x", NOW - 400),
        ("no time here", None),
        ("2026-13-45T99:00:00+00:00 h kernel: bad date", None),
    ],
)
def test_log_line_epoch(line, epoch):
    assert log_line_epoch(line, NOW, 86400.0)[0] == epoch


def test_recent_lines_drop_old_keep_undated(fixtures):
    lines = recent_log_lines(text(fixtures, "kernel-log/old-and-undated.log"), NOW, 86400.0, 3600)
    assert lines == ["this line has no timestamp and mentions nothing"]
    assert recent_log_lines("", NOW, None, 3600) == []
    assert len(recent_log_lines(text(fixtures, "kernel-log/binary-garbage.log"), NOW, None, 3600)) == 2


def test_kmsg_records():
    records = [
        "6,100,1000000,-;old message",
        "3,101,86300000000,-;NVRM: Xid (PCI:0000:18:00): 48, DBE\n SUBSYSTEM=pci",
        "garbage",
        "4,102,notanumber,-;x",
    ]
    assert parse_kmsg_records(records, 86400.0, 3600) == ["NVRM: Xid (PCI:0000:18:00): 48, DBE"]


def test_xids(fixtures):
    assert parse_xids(text(fixtures, "kernel-log/xid79.log").splitlines()) == [("PCI:0000:ab:00", 79)]
    assert [x for _p, x in parse_xids(text(fixtures, "kernel-log/xid-application.log").splitlines())] == [13, 43, 999]
    assert parse_xids(["NVRM: Xid without an address: 79"]) == []


def test_listening_ports():
    table = (
        "  sl  local_address rem_address   st\n"
        "   0: 00000000:2A1A 00000000:0000 0A 0\n"  # listening on 10778
        "   1: 0100007F:0016 0A0000F5:D2A2 01 0\n"  # established: ignored
        "   2: broken\n"
    )
    assert parse_listening_ports(table) == {0x2A1A}
    assert parse_listening_ports("") == set()


def test_mounts_and_lookup():
    mounts = parse_mounts(
        "/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /var/lib ext4 ro,relatime 0 0\n"
        "tmpfs /var/lib\\040x tmpfs rw 0 0\nshort line\n"
    )
    assert mounts[2][1] == "/var/lib x"
    assert mount_for("/var/lib/etcd", mounts)[1] == "/var/lib"
    assert mount_for("/var/library", mounts)[1] == "/"
    assert mount_for("/x", []) is None


def test_meminfo_and_versions():
    assert parse_meminfo("MemTotal:  2048 kB\nBad line\nHugePages_Total: 0\n") == {
        "MemTotal": 2048,
        "HugePages_Total": 0,
    }
    assert version_tuple("6.1.0-25-amd64") == (6, 1, 0)
    assert version_tuple("535.129.03") > version_tuple("535.104")
    with pytest.raises(CheckError):
        version_tuple("unknown")
