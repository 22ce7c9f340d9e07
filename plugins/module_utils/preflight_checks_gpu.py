# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""GPU health through nvidia-smi (one CSV query shared by the checks), Xid codes in the kernel log, and
what the GPU Operator's validator needs from the host (nouveau unloaded, the fabric manager on NVSwitch
systems)."""

from __future__ import annotations

import os

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_checks_host import kernel_log
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_core import (
    GPU_PROFILES,
    WARN,
    CheckError,
    Skip,
    check,
    failed,
    passed,
    warned,
)
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_parsers import (
    nvidia_flag,
    nvidia_int,
    parse_nvidia_csv,
    parse_nvlink_status,
    parse_xids,
    version_tuple,
)

GPU_FIELDS = (
    "index",
    "pci.bus_id",
    "driver_version",
    "persistence_mode",
    "ecc.errors.uncorrected.volatile.total",
    "retired_pages.pending",
    "clocks_throttle_reasons.hw_slowdown",
)
REMAP_FIELDS = (
    "gpu_bus_id",
    "remapped_rows.correctable",
    "remapped_rows.uncorrectable",
    "remapped_rows.pending",
    "remapped_rows.failure",
)
# nvidia-smi's documented return codes (nvidia-smi(1), RETURN VALUE).
EXIT_CODES = {
    2: "a supplied argument or flag is invalid",
    3: "the requested operation is not available on the target device",
    4: "the current user does not have permission to access this device",
    6: "a query to find an object was unsuccessful",
    8: "a device's external power cables are not properly attached",
    9: "the NVIDIA driver is not loaded",
    10: "the NVIDIA kernel detected an interrupt issue with a GPU",
    12: "the NVML shared library could not be found or loaded",
    13: "a function is not implemented in the local NVML library",
    14: "the infoROM is corrupted",
    15: "the GPU has fallen off the bus or has otherwise become inaccessible",
    255: "other error or internal driver error",
}
# Xids after which the GPU needs a reset, a reboot or a replacement (REFERENCE.md); configurable.
DEFAULT_XID_DRAIN = (
    46,
    48,
    62,
    64,
    74,
    79,
    95,
    119,
    120,
    136,
    140,
    143,
    144,
    145,
    146,
    147,
    148,
    149,
    150,
    155,
    156,
    158,
)
# Xids caused by applications: the GPU is fine.
DEFAULT_XID_APPLICATION = (13, 31, 43, 45, 68)


def gpu_query(ctx):
    """The per-GPU rows of the main query; Skip with the reason when nvidia-smi cannot answer."""
    return ctx.memo("gpu_rows", lambda: _gpu_query(ctx))


def _gpu_query(ctx):
    rows = _nvidia_rows(ctx, "--query-gpu", GPU_FIELDS, "csv,noheader,nounits")
    if not rows:
        raise CheckError("nvidia-smi printed no GPU rows")
    return rows


def _nvidia_rows(ctx, query, fields, csv_format):
    """The rows of one nvidia-smi CSV query (``query`` e.g. --query-gpu); Skip when nvidia-smi fails."""
    rc, out, _err = ctx.run("nvidia-smi", [f"{query}={','.join(fields)}", f"--format={csv_format}"])
    if rc != 0:
        raise Skip(f"nvidia-smi {query} exited {rc}: {EXIT_CODES.get(rc, 'unknown error')}")
    return parse_nvidia_csv(out, fields)


@check("gpu.nvidia_smi", "gpu", profiles=GPU_PROFILES)
def nvidia_smi(ctx):
    if ctx.which("nvidia-smi") is None:
        return failed(None, "nvidia-smi answers", f"nvidia-smi not found on {':'.join(ctx.search_path)}")
    rc, out, err = ctx.run("nvidia-smi", [f"--query-gpu={','.join(GPU_FIELDS)}", "--format=csv,noheader,nounits"])
    if rc == 0:
        return passed(0, 0, "nvidia-smi answers")
    text = (err or out).strip().splitlines()
    reason = EXIT_CODES.get(rc, "unknown error")
    return failed(rc, 0, f"nvidia-smi exited {rc} ({reason}): {text[0][:200] if text else 'no output'}")


@check("gpu.count", "gpu", profiles=GPU_PROFILES)
def gpu_count(ctx):
    rows = gpu_query(ctx)
    expected = ctx.setting("gpu_count")
    if expected is None:
        return passed(len(rows), None, f"{len(rows)} GPUs (no expected count set)")
    if len(rows) != int(expected):
        return failed(len(rows), int(expected), f"{len(rows)} GPUs visible, {expected} expected")
    return passed(len(rows), int(expected), f"{len(rows)} GPUs")


@check("gpu.driver_version", "gpu", profiles=GPU_PROFILES)
def driver_version(ctx):
    versions = sorted({row["driver_version"] for row in gpu_query(ctx) if row["driver_version"]})
    if not versions:
        raise CheckError("nvidia-smi reported no driver version")
    minimum = ctx.setting("gpu_min_driver")
    if minimum is None:
        return passed(versions[0], None, f"driver {versions[0]} (no minimum set)")
    if version_tuple(versions[0]) < version_tuple(str(minimum)):
        return failed(versions[0], f">= {minimum}", f"driver {versions[0]} is older than {minimum}")
    return passed(versions[0], f">= {minimum}", f"driver {versions[0]}")


@check("gpu.ecc.uncorrected", "gpu", profiles=GPU_PROFILES)
def ecc_uncorrected(ctx):
    counts = {row["index"]: nvidia_int(row["ecc.errors.uncorrected.volatile.total"], "ecc") for row in gpu_query(ctx)}
    bad = {index: count for index, count in counts.items() if count}
    if bad:
        return failed(
            counts,
            0,
            "uncorrected ECC errors since the driver loaded: " + ", ".join(f"GPU {i}: {n}" for i, n in bad.items()),
        )
    return passed(counts, 0, "no uncorrected ECC errors (N/A where ECC is off)")


def remapped_rows(ctx):
    return ctx.memo("gpu_remap", lambda: _remapped_rows(ctx))


def _remapped_rows(ctx):
    return _nvidia_rows(ctx, "--query-remapped-rows", REMAP_FIELDS, "csv,noheader")


def _remap_check(ctx, field, what):
    rows = remapped_rows(ctx)
    if not rows:
        raise Skip("no GPU supports row remapping (pre-Ampere GPUs retire pages instead)")
    flags = {row["gpu_bus_id"]: nvidia_flag(row[field], field) for row in rows}
    bad = [bus for bus, flag in flags.items() if flag]
    if bad:
        return failed(flags, False, f"row remapping {what} on {', '.join(bad)}")
    return passed(flags, False, f"no row remapping {what}")


@check("gpu.row_remap.pending", "gpu", profiles=GPU_PROFILES)
def row_remap_pending(ctx):
    return _remap_check(ctx, "remapped_rows.pending", "pending (reset the GPU)")


@check("gpu.row_remap.failed", "gpu", profiles=GPU_PROFILES)
def row_remap_failed(ctx):
    return _remap_check(ctx, "remapped_rows.failure", "failed (replace the GPU)")


@check("gpu.retired_pages.pending", "gpu", profiles=GPU_PROFILES)
def retired_pages_pending(ctx):
    flags = {row["index"]: nvidia_flag(row["retired_pages.pending"], "retired_pages.pending") for row in gpu_query(ctx)}
    if all(flag is None for flag in flags.values()):
        raise Skip("page retirement not reported (GPUs with row remapping)")
    bad = [index for index, flag in flags.items() if flag]
    if bad:
        return failed(flags, False, f"retired pages pending a reset on GPU {', '.join(bad)}")
    return passed(flags, False, "no retired pages pending")


@check("gpu.persistence_mode", "gpu", severity=WARN, profiles=GPU_PROFILES)
def persistence_mode(ctx):
    flags = {row["index"]: nvidia_flag(row["persistence_mode"], "persistence_mode") for row in gpu_query(ctx)}
    off = [index for index, flag in flags.items() if flag is False]
    if off:
        return failed(flags, True, f"persistence mode off on GPU {', '.join(off)}")
    return passed(flags, True, "persistence mode on")


@check("gpu.hw_slowdown", "gpu", profiles=GPU_PROFILES)
def hw_slowdown(ctx):
    field = "clocks_throttle_reasons.hw_slowdown"
    flags = {row["index"]: nvidia_flag(row[field], field) for row in gpu_query(ctx)}
    slow = [index for index, flag in flags.items() if flag]
    if slow:
        return failed(flags, False, f"hardware slowdown active on GPU {', '.join(slow)}")
    return passed(flags, False, "no hardware slowdown")


@check("gpu.nvlink", "gpu", profiles=GPU_PROFILES)
def nvlink(ctx):
    rc, out, err = ctx.run("nvidia-smi", ["nvlink", "-s"])
    if rc != 0:
        raise Skip(f"nvidia-smi nvlink -s exited {rc}: {(err or out).strip()[:200]}")
    status = parse_nvlink_status(out)
    if not any(gpu["links"] for gpu in status.values()):
        raise Skip("no NVLink links reported")
    inactive = {index: gpu["inactive"] for index, gpu in status.items() if gpu["inactive"]}
    observed = {index: gpu["links"] - len(gpu["inactive"]) for index, gpu in status.items()}
    if inactive:
        return failed(
            observed,
            "every link active",
            "inactive NVLink links: "
            + "; ".join(f"GPU {i}: {', '.join(map(str, links))}" for i, links in inactive.items()),
        )
    return passed(observed, "every link active", "every NVLink link active")


@check("gpu.xid", "gpu", profiles=GPU_PROFILES)
def xid(ctx):
    drain = {int(code) for code in ctx.setting("gpu_xid_drain", DEFAULT_XID_DRAIN)}
    application = {int(code) for code in ctx.setting("gpu_xid_application", DEFAULT_XID_APPLICATION)}
    found = parse_xids(kernel_log(ctx))
    codes = sorted({code for _pci, code in found})
    to_drain = sorted({f"{pci} Xid {code}" for pci, code in found if code in drain})
    unknown = [code for code in codes if code not in drain and code not in application]
    if to_drain:
        return failed(codes, "no drain-class Xid", f"drain-class Xid in the kernel log: {', '.join(to_drain)}")
    if unknown:
        return warned(codes, "no drain-class Xid", f"Xid codes in neither list: {', '.join(map(str, unknown))}")
    return passed(codes, "no drain-class Xid", "no drain-class Xid" + (" (application Xids only)" if codes else ""))


# What the GPU Operator's validator (and the NVIDIA driver) need from the host before it can pass.
NVSWITCH_DEVICES = "/proc/driver/nvidia-nvswitch/devices"


@check("gpu.nouveau", "gpu", profiles=GPU_PROFILES)
def nouveau(ctx):
    loaded = {line.split()[0] for line in ctx.read("/proc/modules").splitlines() if line.strip()}
    if "nouveau" in loaded:
        return failed(
            "loaded",
            "not loaded",
            "the nouveau module is loaded: blacklist it in modprobe.d, rebuild the initramfs and reboot",
        )
    return passed("not loaded", "not loaded", "nouveau not loaded")


@check("gpu.fabric_manager", "gpu", profiles=GPU_PROFILES)
def fabric_manager(ctx):
    """NVSwitch systems (HGX/DGX) need the fabric manager running; elsewhere there is nothing to check."""
    try:
        switches = sorted(os.listdir(ctx.path(NVSWITCH_DEVICES)))
    except OSError:
        switches = []
    if not switches:
        return passed(0, None, "no NVSwitch: no fabric manager needed")
    service = ctx.setting("fabric_manager_service", "nvidia-fabricmanager")
    rc, out, _err = ctx.run("systemctl", ["is-active", service])
    state = out.strip() or f"rc {rc}"
    if rc != 0 or state != "active":
        return failed(
            state,
            "active",
            f"{len(switches)} NVSwitch device(s) but {service} is {state}: GPUs cannot talk over NVLink",
        )
    return passed(state, "active", f"{service} active for {len(switches)} NVSwitch device(s)")
