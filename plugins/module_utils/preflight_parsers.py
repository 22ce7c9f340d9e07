# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Pure parsers for what the preflight checks read: nvidia-smi CSV and nvlink output, chronyc and
timedatectl, kernel logs, /proc files. No I/O; malformed input raises CheckError."""

from __future__ import annotations

import datetime
import re

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_core import CheckError

# datetime.UTC needs Python 3.11; targets may run older Pythons.
UTC = datetime.timezone.utc  # noqa: UP017

# nvidia-smi prints these instead of a value when a field does not apply to a GPU.
NVIDIA_NA = {"[n/a]", "n/a", "[not supported]", "not supported", "[unknown error]", "[insufficient permissions]"}


def version_tuple(text):
    """'6.1.0-25-amd64' -> (6, 1, 0); '535.129.03' -> (535, 129, 3). CheckError when no number leads."""
    match = re.match(r"\s*v?(\d+(?:\.\d+)*)", str(text))
    if not match:
        raise CheckError(f"not a version: {text!r}")
    return tuple(int(part) for part in match.group(1).split("."))


def nvidia_value(raw):
    value = raw.strip()
    return None if value.lower() in NVIDIA_NA else value


def parse_nvidia_csv(text, fields):
    """Rows of ``--format=csv,noheader,nounits`` output as dicts keyed by the queried fields."""
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        cells = line.split(",")
        if len(cells) != len(fields):
            raise CheckError(f"nvidia-smi line {number} has {len(cells)} fields, expected {len(fields)}: {line!r}")
        rows.append({field: nvidia_value(cells[number]) for number, field in enumerate(fields)})
    return rows


def nvidia_int(value, field):
    if value is None:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise CheckError(f"{field}: not a number: {value!r}") from exc


def nvidia_flag(value, field):
    """Yes/No, Active/Not Active, Enabled/Disabled, 1/0 -> bool; None stays None."""
    if value is None:
        return None
    lowered = value.lower()
    if lowered in ("yes", "active", "enabled", "1", "true"):
        return True
    if lowered in ("no", "not active", "disabled", "0", "false"):
        return False
    raise CheckError(f"{field}: not a flag: {value!r}")


_NVLINK_GPU = re.compile(r"^GPU (\d+):")
_NVLINK_LINK = re.compile(r"^\s*Link (\d+):\s*(.*)$")


def parse_nvlink_status(text):
    """``nvidia-smi nvlink -s``: {gpu index: {"links": n, "inactive": [link, ...]}}."""
    gpus = {}
    current = None
    for line in text.splitlines():
        gpu = _NVLINK_GPU.match(line)
        if gpu:
            current = gpus.setdefault(int(gpu.group(1)), {"links": 0, "inactive": []})
            continue
        link = _NVLINK_LINK.match(line)
        if link and current is not None:
            current["links"] += 1
            if "inactive" in link.group(2).lower():
                current["inactive"].append(int(link.group(1)))
    return gpus


_CHRONY_OFFSET = re.compile(r"^([\d.]+) seconds (fast|slow) of NTP time$")


def parse_chrony_tracking(text):
    """``chronyc tracking``: reference id, stratum, leap status and the signed system time offset (s)."""
    fields = {}
    for line in text.splitlines():
        if ":" in line:
            key, _sep, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
    if "leap status" not in fields or "system time" not in fields:
        raise CheckError("chronyc tracking output lacks 'Leap status' or 'System time'")
    offset = _CHRONY_OFFSET.match(fields["system time"])
    if not offset:
        raise CheckError(f"chronyc tracking: unreadable 'System time': {fields['system time']!r}")
    seconds = float(offset.group(1)) * (1 if offset.group(2) == "fast" else -1)
    reference = fields.get("reference id", "").split()
    return {
        "reference_id": reference[0] if reference else "",
        "stratum": int(fields["stratum"]) if fields.get("stratum", "").isdigit() else None,
        "leap_status": fields["leap status"],
        "offset_s": seconds,
    }


def parse_key_values(text):
    """``KEY=value`` lines (timedatectl show, sysctl-style files)."""
    pairs = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            pairs[key.strip()] = value.strip()
    return pairs


# Kernel log timestamps in the formats a log file or the journal may carry.
_ISO = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)\s+(.*)$")
_UNIX = re.compile(r"^(\d{9,11}\.\d+)\s+(.*)$")
_SYSLOG = re.compile(r"^([A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2})\s+(.*)$")
_MONOTONIC = re.compile(r"^\[\s*(\d+\.\d+)\]\s?(.*)$")


def _iso_epoch(text):
    text = text.replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", text):
        text = text[:-2] + ":" + text[-2:]
    stamp = datetime.datetime.fromisoformat(text)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


def _syslog_epoch(text, now):
    year = datetime.datetime.fromtimestamp(now, UTC).year
    stamp = datetime.datetime.strptime(f"{year} {text}", "%Y %b %d %H:%M:%S").replace(tzinfo=UTC)
    if stamp.timestamp() > now + 86400:
        stamp = stamp.replace(year=year - 1)
    return stamp.timestamp()


def log_line_epoch(line, now, uptime):
    """(epoch seconds or None, message) for one kernel log line; the boot-relative ``[secs]`` prefix
    is turned into wall time with the uptime. Lines without a time are kept (None)."""
    for pattern in (_ISO, _UNIX, _SYSLOG):
        match = pattern.match(line)
        if match:
            try:
                if pattern is _ISO:
                    return _iso_epoch(match.group(1)), match.group(2)
                if pattern is _UNIX:
                    return float(match.group(1)), match.group(2)
                return _syslog_epoch(match.group(1), now), match.group(2)
            except ValueError:
                return None, line
    match = _MONOTONIC.match(line)
    if match and uptime is not None:
        return now - uptime + float(match.group(1)), match.group(2)
    return None, line


def recent_log_lines(text, now, uptime, lookback_s):
    """The lines of a kernel log within the lookback window (undated lines are kept)."""
    start = now - lookback_s
    kept = []
    for line in text.splitlines():
        if not line.strip():
            continue
        epoch, _message = log_line_epoch(line, now, uptime)
        if epoch is None or epoch >= start:
            kept.append(line)
    return kept


def parse_kmsg_records(records, uptime, lookback_s):
    """/dev/kmsg records ``prio,seq,usec,flags;message`` newer than uptime - lookback: messages."""
    start_us = (uptime - lookback_s) * 1_000_000
    messages = []
    for record in records:
        header, sep, message = record.partition(";")
        parts = header.split(",")
        if not sep or len(parts) < 3 or not parts[2].isdigit():
            continue
        if int(parts[2]) >= start_us:
            messages.append(message.split("\n", 1)[0])
    return messages


_XID = re.compile(r"NVRM: Xid \((PCI:[0-9A-Fa-f:.]+)\): (\d+)\b")


def parse_xids(lines):
    """[(pci address, xid)] for every ``NVRM: Xid (PCI:...): N`` line."""
    found = []
    for line in lines:
        match = _XID.search(line)
        if match:
            found.append((match.group(1), int(match.group(2))))
    return found


def parse_listening_ports(text):
    """TCP ports in LISTEN state (st 0A) from /proc/net/tcp or tcp6."""
    ports = set()
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 4 or ":" not in fields[1]:
            continue
        if fields[3] == "0A":
            try:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
            except ValueError:
                continue
    return ports


def parse_mounts(text):
    """/proc/mounts: [(device, mount point, fstype, [options])], octal escapes decoded."""
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[1])
        mounts.append((fields[0], point, fields[2], fields[3].split(",")))
    return mounts


def mount_for(path, mounts):
    """The mount entry that holds ``path`` (the longest matching mount point; the last one wins)."""
    best = None
    for entry in mounts:
        point = entry[1].rstrip("/") or "/"
        inside = path == point or path.startswith(point.rstrip("/") + "/") or point == "/"
        if inside and (best is None or len(point) >= len(best[1].rstrip("/") or "/")):
            best = entry
    return best


def parse_meminfo(text):
    """/proc/meminfo: {key: kB}."""
    values = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        if sep and rest.split() and rest.split()[0].isdigit():
            values[key.strip()] = int(rest.split()[0])
    return values
