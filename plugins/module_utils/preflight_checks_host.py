# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Time synchronisation, the kernel log, read-only mounts and stuck processes."""

from __future__ import annotations

import errno
import os
import re
import time

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_core import (
    WARN,
    CheckError,
    Skip,
    check,
    data_dirs,
    failed,
    passed,
    warned,
)
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_parsers import (
    mount_for,
    parse_chrony_tracking,
    parse_key_values,
    parse_kmsg_records,
    parse_mounts,
    recent_log_lines,
)

# chronyd's reference id when it serves its own clock (``local`` directive): not synchronised to anything.
CHRONY_LOCAL_REFERENCE = "7F7F0101"


def now(ctx):
    return float(ctx.setting("now", time.time()))


def uptime(ctx):
    try:
        return float(ctx.read("/proc/uptime").split()[0])
    except (Skip, ValueError, IndexError):
        return None


def time_status(ctx):
    """Which daemon keeps time and whether it is synchronised: chrony, then ntpd (ntpstat), then timesyncd."""
    return ctx.memo("time", lambda: _time_status(ctx))


def _time_status(ctx):
    if ctx.which("chronyc"):
        rc, out, err = ctx.run("chronyc", ["-n", "tracking"])
        if rc != 0:
            return {
                "daemon": "chrony",
                "synced": False,
                "offset_s": None,
                "detail": (err or out).strip() or f"chronyc exited {rc}",
            }
        tracking = parse_chrony_tracking(out)
        local = tracking["reference_id"].upper() == CHRONY_LOCAL_REFERENCE
        synced = tracking["leap_status"].lower() != "not synchronised" and (
            not local or bool(ctx.setting("time_local_reference_ok"))
        )
        detail = f"leap status {tracking['leap_status']}, reference {tracking['reference_id']}"
        if local:
            detail += " (its own local clock)"
        return {"daemon": "chrony", "synced": synced, "offset_s": tracking["offset_s"], "detail": detail}
    if ctx.which("ntpstat"):
        rc, out, _err = ctx.run("ntpstat", [])
        return {
            "daemon": "ntpd",
            "synced": rc == 0,
            "offset_s": None,
            "detail": out.strip().splitlines()[0] if out.strip() else f"ntpstat exited {rc}",
        }
    if ctx.which("timedatectl"):
        rc, out, err = ctx.run("timedatectl", ["show", "-p", "NTP", "-p", "NTPSynchronized"])
        if rc != 0:
            raise Skip(f"timedatectl show failed: {(err or out).strip()}")
        values = parse_key_values(out)
        if "NTPSynchronized" not in values:
            raise CheckError(f"timedatectl show: no NTPSynchronized in {out!r}")
        return {
            "daemon": "timesyncd",
            "synced": values["NTPSynchronized"] == "yes",
            "offset_s": None,
            "detail": f"NTP={values.get('NTP', '?')} NTPSynchronized={values['NTPSynchronized']}",
        }
    return {"daemon": None, "synced": False, "offset_s": None, "detail": "no chronyc, ntpstat or timedatectl"}


@check("time.sync", "time")
def time_sync(ctx):
    status = time_status(ctx)
    observed = {"daemon": status["daemon"], "synchronised": status["synced"]}
    if status["synced"]:
        return passed(observed, "synchronised", f"{status['daemon']}: {status['detail']}")
    return failed(
        observed, "synchronised", f"time not synchronised ({status['daemon'] or 'no daemon'}): {status['detail']}"
    )


@check("time.offset", "time")
def time_offset(ctx):
    status = time_status(ctx)
    limit = float(ctx.setting("time_max_offset_s"))
    if not status["synced"]:
        raise Skip("time not synchronised (see time.sync)")
    if status["offset_s"] is None:
        raise Skip(f"{status['daemon']} does not report an offset")
    offset = status["offset_s"]
    if abs(offset) > limit:
        return failed(offset, f"|offset| <= {limit} s", f"clock is {offset:+.6f} s off")
    return passed(offset, f"|offset| <= {limit} s", f"clock offset {offset:+.6f} s")


def kernel_log(ctx):
    """Recent kernel log lines (lookback window) from the configured source: kmsg, journal or a file."""
    return ctx.memo("kernel_log", lambda: _kernel_log(ctx))


def _kernel_log(ctx):
    source = ctx.setting("kernel_log_source")
    lookback = float(ctx.setting("kernel_log_lookback_s"))
    if source == "file":
        path = ctx.setting("kernel_log_path")
        return recent_log_lines(ctx.read(path), now(ctx), uptime(ctx), lookback)
    if source == "kmsg":
        boot = uptime(ctx)
        if boot is None:
            raise Skip("no /proc/uptime to place /dev/kmsg records in time")
        return parse_kmsg_records(_read_kmsg(ctx), boot, lookback)
    if source == "journal":
        since = f"@{int(now(ctx) - lookback)}"
        rc, out, err = ctx.run("journalctl", ["-k", "-q", "--no-pager", "-o", "short-iso", "--since", since])
        if rc != 0:
            raise Skip(f"journalctl -k failed: {(err or out).strip()[:200]}")
        return [line for line in out.splitlines() if line.strip()]
    raise CheckError(f"unknown kernel_log_source {source!r} (kmsg, journal or file)")


def _read_kmsg(ctx):
    try:
        handle = os.open(ctx.path("/dev/kmsg"), os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise Skip(f"cannot open /dev/kmsg: {exc.strerror}") from exc
    records = []
    try:
        while True:
            try:
                chunk = os.read(handle, 8192)
            except OSError as exc:
                if exc.errno == errno.EAGAIN:
                    break
                if exc.errno == errno.EPIPE:  # a record was overwritten while reading: go on
                    continue
                raise Skip(f"cannot read /dev/kmsg: {exc.strerror}") from exc
            if not chunk:
                break
            records.append(chunk.decode("utf-8", "replace"))
    finally:
        os.close(handle)
    return records


# node-problem-detector's kernel monitor patterns, grouped by what an operator does about them.
KERNEL_PATTERNS = {
    "kernel.hung_task": (r"task \S+:\w+ blocked for more than \w+ seconds",),
    "kernel.fs_errors": (
        r"EXT4-fs error",
        r"Buffer I/O error",
        r"XFS .* Shutting down filesystem",
        r"Remounting filesystem read-only",
    ),
    "kernel.oom_kill": (r"Killed process \d+",),
    "kernel.unregister_netdevice": (r"unregister_netdevice: waiting for",),
    "kernel.nvme_errors": (r"I/O error, dev nvme",),
    "kernel.oops": (r"BUG: unable to handle kernel", r"divide error:"),
}
KERNEL_SEVERITY = {"kernel.oom_kill": WARN, "kernel.unregister_netdevice": WARN}


def _pattern_check(check_id, patterns):
    compiled = re.compile("|".join(f"(?:{p})" for p in patterns))

    def run(ctx):
        hits = [line for line in kernel_log(ctx) if compiled.search(line)]
        lookback = ctx.setting("kernel_log_lookback_s")
        if hits:
            return failed(
                {"count": len(hits), "last": hits[-1][-300:]},
                0,
                f"{len(hits)} matching kernel log line(s) in the last {lookback} s",
            )
        return passed({"count": 0}, 0, f"none in the last {lookback} s")

    run.__name__ = check_id.replace(".", "_")
    return run


for _check_id, _patterns in KERNEL_PATTERNS.items():
    check(_check_id, "kernel_log", severity=KERNEL_SEVERITY.get(_check_id, "fail"))(
        _pattern_check(_check_id, _patterns)
    )


@check("kernel.hardware_errors", "kernel_log")
def hardware_errors(ctx):
    lines = [line for line in kernel_log(ctx) if "[Hardware Error]:" in line]
    # Machine checks the hardware corrected are worth a look; anything else is fatal for jobs.
    corrected = [
        line
        for line in lines
        if re.search(r"\bcorrected\b", line, re.IGNORECASE) and not re.search(r"\buncorrected\b", line, re.IGNORECASE)
    ]
    fatal = [line for line in lines if line not in corrected]
    observed = {"fatal": len(fatal), "corrected": len(corrected)}
    if fatal:
        return failed(observed, {"fatal": 0}, f"hardware errors in the kernel log: {fatal[-1][-200:]}")
    if corrected:
        return warned(observed, {"fatal": 0}, f"{len(corrected)} corrected hardware error line(s)")
    return passed(observed, {"fatal": 0}, "no hardware errors")


@check("fs.read_only", "filesystems")
def read_only_mounts(ctx):
    mounts = parse_mounts(ctx.read("/proc/mounts"))
    # The host's data folders (those of its parts) and the root, unless given.
    paths = ctx.setting("writable_paths") or list(dict.fromkeys(["/", *data_dirs(ctx)]))
    read_only = {}
    for path in paths:
        entry = mount_for(path, mounts)
        if entry and "ro" in entry[3]:
            read_only[path] = entry[1]
    if read_only:
        return failed(read_only, {}, "mounted read-only: " + ", ".join(f"{p} (on {m})" for p, m in read_only.items()))
    return passed({}, {}, f"writable: {', '.join(paths)}")


@check("process.d_state", "processes", severity=WARN)
def d_state(ctx):
    limit = int(ctx.setting("d_state_max"))
    stuck = []
    try:
        pids = [name for name in os.listdir(ctx.path("/proc")) if name.isdigit()]
    except OSError as exc:
        raise Skip(f"cannot list /proc: {exc.strerror}") from exc
    for pid in pids:
        try:
            with open(ctx.path(f"/proc/{pid}/stat"), encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except OSError:
            continue  # the process ended meanwhile
        name_end = text.rfind(")")
        fields = text[name_end + 2 :].split()
        if fields and fields[0] == "D":
            stuck.append(f"{pid} {text[text.find('(') + 1 : name_end]}")
    if len(stuck) > limit:
        return failed(stuck[:20], f"<= {limit}", f"{len(stuck)} process(es) in uninterruptible sleep (D)")
    return passed(len(stuck), f"<= {limit}", "no processes stuck in D state")
