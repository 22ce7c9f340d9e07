# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""GPU health through nvidia-smi (one CSV query shared by the checks, its field names chosen by driver
version), the ECC history, Xid codes in the kernel log decided from NVIDIA's catalogue, and what the GPU
Operator's validator needs from the host (nouveau unloaded). The fabric, PCIe and InfiniBand checks are in
preflight_checks_fabric, the slow probes in preflight_checks_gpu_perf."""

from __future__ import annotations

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_checks_host import now, uptime
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
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_gpu_models import model_of, thresholds
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_parsers import (
    log_line_epoch,
    nvidia_flag,
    nvidia_int,
    parse_nvidia_csv,
    parse_nvlink_status,
    version_tuple,
)
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_xid import (
    APPLICATION,
    DRAIN,
    INFO,
    UNKNOWN,
    WATCH,
    codes_with,
    decide,
    repeats_across_boots,
    xid_events,
)
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_xid_log import xid_log_lines

# The shared query; its last field is named by driver version (gpu_fields).
GPU_BASE_FIELDS = (
    "index",
    "pci.bus_id",
    "driver_version",
    "persistence_mode",
    "ecc.errors.uncorrected.volatile.total",
    "retired_pages.pending",
)
# Drivers from 535.54.03 call the clock reasons clocks_event_reasons.*; older ones know only
# clocks_throttle_reasons.*, and a newer nvidia-smi may refuse the old names (then the whole query fails).
CLOCK_EVENT_NAMES_FROM = (535, 54, 3)
# The first call: the driver version, and the GPU names for the per-model thresholds. Every driver knows
# both fields.
DRIVER_PROBE = ("--query-gpu=driver_version,name", "--format=csv,noheader")
REMAP_FIELDS = (
    "gpu_bus_id",
    "remapped_rows.correctable",
    "remapped_rows.uncorrectable",
    "remapped_rows.pending",
    "remapped_rows.failure",
)
# Aggregate (lifetime, kept in the InfoROM) ECC counters by memory kind: what a reboot does not clear.
ECC_FIELDS = (
    "index",
    "pci.bus_id",
    "ecc.mode.current",
    "ecc.errors.uncorrected.aggregate.sram",
    "ecc.errors.corrected.aggregate.sram",
    "ecc.errors.uncorrected.aggregate.dram",
    "ecc.errors.corrected.aggregate.dram",
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
# The Xid lists node-problem-detector's kernel monitor and gpu.xid start from: NVIDIA's catalogue,
# decided code by code in preflight_xid (154 is decided from its message, so it is in neither list).
DEFAULT_XID_DRAIN = codes_with(DRAIN)
DEFAULT_XID_APPLICATION = codes_with(APPLICATION)


def clock_reason_prefix(driver):
    """The name nvidia-smi gives the clock reasons on this driver."""
    return "clocks_event_reasons" if version_tuple(driver) >= CLOCK_EVENT_NAMES_FROM else "clocks_throttle_reasons"


def gpu_fields(driver):
    return (*GPU_BASE_FIELDS, f"{clock_reason_prefix(driver)}.hw_slowdown")


def _failure(ctx, args, rc, out, err):
    text = (err or out).strip().splitlines()
    return (
        f"nvidia-smi {args[0]} exited {rc} ({EXIT_CODES.get(rc, 'unknown error')}): "
        f"{text[0][:200] if text else 'no output'}"
    )


def driver_info(ctx):
    """{"driver": version, "names": [GPU names]} from the probe; CheckError when nvidia-smi fails."""
    return ctx.memo("gpu_driver", lambda: _driver_info(ctx))


def _driver_info(ctx):
    rc, out, err = ctx.run("nvidia-smi", list(DRIVER_PROBE))
    if rc != 0:
        raise CheckError(_failure(ctx, DRIVER_PROBE, rc, out, err))
    rows = parse_nvidia_csv(out, ("driver_version", "name"))
    versions = sorted({row["driver_version"] for row in rows if row["driver_version"]})
    if not versions:
        raise CheckError("nvidia-smi reported no driver version")
    version_tuple(versions[0])  # CheckError when it is not a version
    return {"driver": versions[0], "names": [row["name"] or "" for row in rows]}


def gpu_model(ctx):
    """The model whose thresholds apply (setting gpu_model, else from the first GPU's name)."""
    forced = ctx.setting("gpu_model")
    if forced:
        return str(forced)
    names = driver_info(ctx)["names"]
    return model_of(names[0]) if names else None


def gpu_thresholds(ctx):
    return thresholds(gpu_model(ctx), ctx.setting("gpu_thresholds"))


def gpu_query(ctx):
    """The per-GPU rows of the shared query. Skip only when nvidia-smi is not installed (gpu.nvidia_smi
    fails then); a query nvidia-smi refuses or cannot answer is a failure of every check built on it."""
    return ctx.memo("gpu_rows", lambda: _gpu_query(ctx))


def _gpu_query(ctx):
    if ctx.which("nvidia-smi") is None:
        raise Skip("nvidia-smi not found (see gpu.nvidia_smi)")
    fields = gpu_fields(driver_info(ctx)["driver"])
    rows = _nvidia_rows(ctx, "--query-gpu", fields, "csv,noheader,nounits")
    if not rows:
        raise CheckError("nvidia-smi printed no GPU rows")
    return rows


def _nvidia_rows(ctx, query, fields, csv_format):
    """The rows of one nvidia-smi CSV query (``query`` e.g. --query-gpu); CheckError when nvidia-smi fails."""
    args = [f"{query}={','.join(fields)}", f"--format={csv_format}"]
    rc, out, err = ctx.run("nvidia-smi", args)
    if rc != 0:
        raise CheckError(_failure(ctx, args, rc, out, err))
    return parse_nvidia_csv(out, fields)


@check("gpu.nvidia_smi", "gpu", profiles=GPU_PROFILES)
def nvidia_smi(ctx):
    if ctx.which("nvidia-smi") is None:
        return failed(None, "nvidia-smi answers", f"nvidia-smi not found on {':'.join(ctx.search_path)}")
    rc, out, err = ctx.run("nvidia-smi", list(DRIVER_PROBE))
    if rc != 0:
        return failed(rc, 0, _failure(ctx, DRIVER_PROBE, rc, out, err))
    driver = driver_info(ctx)["driver"]
    query = [f"--query-gpu={','.join(gpu_fields(driver))}", "--format=csv,noheader,nounits"]
    rc, out, err = ctx.run("nvidia-smi", query)
    if rc != 0:
        return failed(rc, 0, _failure(ctx, query, rc, out, err))
    return passed(0, 0, f"nvidia-smi answers (driver {driver}, {clock_reason_prefix(driver)}.*)")


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
    rows = gpu_query(ctx)
    field = next(name for name in rows[0] if name.endswith(".hw_slowdown"))
    flags = {row["index"]: nvidia_flag(row[field], field) for row in rows}
    slow = [index for index, flag in flags.items() if flag]
    if slow:
        return failed(flags, False, f"hardware slowdown active on GPU {', '.join(slow)}")
    return passed(flags, False, "no hardware slowdown")


@check("gpu.nvlink", "gpu", profiles=GPU_PROFILES)
def nvlink(ctx):
    rc, out, err = ctx.run("nvidia-smi", ["nvlink", "-s"])
    if rc != 0:
        raise CheckError(_failure(ctx, ["nvlink -s"], rc, out, err))
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


def ecc_history(ctx):
    return ctx.memo("gpu_ecc", lambda: _nvidia_rows(ctx, "--query-gpu", ECC_FIELDS, "csv,noheader,nounits"))


def _ecc_counts(ctx, kind):
    """{GPU index: (uncorrected, corrected)} of one memory kind's lifetime counters; ECC-off GPUs left out."""
    counts = {}
    for row in ecc_history(ctx):
        if nvidia_flag(row["ecc.mode.current"], "ecc.mode.current") is False:
            continue
        counts[row["index"]] = (
            nvidia_int(row[f"ecc.errors.uncorrected.aggregate.{kind}"], kind) or 0,
            nvidia_int(row[f"ecc.errors.corrected.aggregate.{kind}"], kind) or 0,
        )
    if not counts:
        raise Skip("ECC is off on every GPU")
    return counts


@check("gpu.ecc.sram", "gpu", profiles=GPU_PROFILES)
def ecc_sram(ctx):
    """Lifetime SRAM errors: the history a reboot does not clear (AzureHPC NHC's limits by default)."""
    limits = gpu_thresholds(ctx)
    counts = _ecc_counts(ctx, "sram")
    expected = f"uncorrected <= {limits['ecc_sram_uncorrected_max']}, corrected <= {limits['ecc_sram_corrected_max']}"
    bad = [
        f"GPU {i}: {u} uncorrected, {c} corrected"
        for i, (u, c) in counts.items()
        if u > int(limits["ecc_sram_uncorrected_max"]) or c > int(limits["ecc_sram_corrected_max"])
    ]
    observed = {i: {"uncorrected": u, "corrected": c} for i, (u, c) in counts.items()}
    if bad:
        return failed(
            observed, expected, "SRAM ECC history over the limits (drain, contact support): " + "; ".join(bad)
        )
    return passed(observed, expected, "SRAM ECC history within the limits")


@check("gpu.ecc.dram", "gpu", profiles=GPU_PROFILES)
def ecc_dram(ctx):
    """Lifetime DRAM errors and uncorrectable remapped rows; a DRAM uncorrected history under the limits warns
    (row remapping repairs them: gpu.row_remap.* says whether a reset is due)."""
    limits = gpu_thresholds(ctx)
    counts = _ecc_counts(ctx, "dram")
    remap_max = int(limits["row_remap_uncorrectable_max"])
    remapped = {
        row["gpu_bus_id"]: nvidia_int(row["remapped_rows.uncorrectable"], "remapped_rows.uncorrectable") or 0
        for row in remapped_rows(ctx)
    }
    expected = f"counts <= {limits['ecc_dram_max']}, uncorrectable remapped rows <= {remap_max}"
    bad = [
        f"GPU {i}: {u} uncorrected, {c} corrected"
        for i, (u, c) in counts.items()
        if max(u, c) > int(limits["ecc_dram_max"])
    ]
    bad += [f"{bus}: {n} uncorrectable remapped rows" for bus, n in remapped.items() if n > remap_max]
    observed = {i: {"uncorrected": u, "corrected": c} for i, (u, c) in counts.items()}
    if bad:
        return failed(
            observed, expected, "DRAM ECC history over the limits (drain, contact support): " + "; ".join(bad)
        )
    history = [f"GPU {i}: {u}" for i, (u, _c) in counts.items() if u]
    if history:
        return warned(observed, expected, "uncorrected DRAM errors in the GPU's history: " + ", ".join(history))
    return passed(observed, expected, "no uncorrected DRAM errors in the GPU's history")


def _xid_lines(ctx):
    """(recent lines, history lines): the lookback window's, and gpu_xid_history_s's across boots."""
    lookback = float(ctx.setting("kernel_log_lookback_s"))
    history = xid_log_lines(ctx, max(lookback, float(ctx.setting("gpu_xid_history_s"))))
    start = now(ctx) - lookback
    recent = []
    for line in history:
        epoch, _message = log_line_epoch(line, now(ctx), uptime(ctx))
        if epoch is None or epoch >= start:
            recent.append(line)
    return recent, history


@check("gpu.xid", "gpu", profiles=GPU_PROFILES)
def xid(ctx):
    """Xids of the lookback window decided code by code (preflight_xid), and drain-class Xids that came back
    after a reboot within gpu_xid_history_s (hardware inspection)."""
    drain = {int(code) for code in ctx.setting("gpu_xid_drain", ())}
    application = {int(code) for code in ctx.setting("gpu_xid_application", ())}
    recent, history = _xid_lines(ctx)
    decided = []
    for _boot, pci, code, rest in xid_events(recent):
        decided.append((pci, code, *decide(code, rest, drain, application)))
    codes = sorted({item[1] for item in decided})
    events = xid_events(history)
    repeats = repeats_across_boots(events, [decide(c, r, drain, application)[0] for _b, _p, c, r in events])
    to_drain = sorted(
        {f"{pci} Xid {code} ({bucket}: {why})" for pci, code, decision, bucket, why in decided if decision == DRAIN}
    )
    expected = "no drain-class Xid, none back after a reboot"
    if repeats:
        again = ", ".join(f"{pci} Xid {code} in {n} boots" for (pci, code), n in sorted(repeats.items()))
        return failed(codes, expected, f"Xid back after a reboot, hardware inspection needed: {again}")
    if to_drain:
        return failed(codes, expected, "drain-class Xid in the kernel log: " + "; ".join(to_drain))
    odd = sorted({f"{code} ({why})" for _pci, code, decision, _bucket, why in decided if decision in (WATCH, UNKNOWN)})
    if odd:
        return warned(codes, expected, "Xids to watch: " + "; ".join(odd))
    kinds = {decision for _pci, _code, decision, _bucket, _why in decided}
    detail = " (application or informational Xids only)" if kinds & {APPLICATION, INFO} else ""
    return passed(codes, expected, "no drain-class Xid" + detail)


# What the GPU Operator's validator (and the NVIDIA driver) need from the host before it can pass.
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
