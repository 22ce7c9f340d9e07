# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""The slow GPU probes, run only in the ``gpu_burnin`` profile (asked for with node_preflight_profiles, or one
by one with include), each when its tool is installed, all within one time budget (gpu_burnin_budget_s):
DCGM diagnostics at a chosen level, nvbandwidth's host-device and peer copies, a single-node NCCL
all-reduce and an NCCL all-reduce forced through the NICs (GPUDirect RDMA loopback). Thresholds per GPU
model: preflight_gpu_models. The probes change nothing on the host; they load the GPUs for their run."""

from __future__ import annotations

import time

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_checks_gpu import gpu_query, gpu_thresholds
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_core import (
    BURNIN_PROFILES,
    CheckError,
    Skip,
    check,
    failed,
    passed,
    warned,
)
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_parsers_gpu import (
    parse_dcgm_diag,
    parse_nccl_busbw,
    parse_nvbandwidth,
)

NVBANDWIDTH_TESTS = ("host_to_device_memcpy_ce", "device_to_host_memcpy_ce")
NVBANDWIDTH_P2P = "device_to_device_memcpy_read_ce"
# NCCL through the NICs only: no peer-to-peer over NVLink/PCIe, no shared memory, GPUDirect RDMA at any
# distance (the variables AzureHPC NHC's check_nccl_allreduce_ib_loopback sets).
LOOPBACK_ENV = ("NCCL_P2P_DISABLE=1", "NCCL_SHM_DISABLE=1", "NCCL_NET_GDR_LEVEL=5")


def _run_within_budget(ctx, tool, args, limit=None):
    """Run a probe with what is left of gpu_burnin_budget_s (and at most ``limit`` s): (rc, out, err)."""
    if ctx.which(tool) is None:
        raise Skip(f"{tool} not found")
    spent = ctx.cache.get("burnin_spent_s", 0.0)
    left = float(ctx.setting("gpu_burnin_budget_s")) - spent
    if left <= 1:
        raise Skip(f"the burn-in time budget (gpu_burnin_budget_s) is spent ({spent:.0f} s)")
    timeout = min(left, float(limit)) if limit else left
    started = time.monotonic()
    try:
        rc, out, err = ctx.run(tool, args, timeout=timeout)
    finally:
        ctx.cache["burnin_spent_s"] = spent + time.monotonic() - started
    if rc == 124:
        raise CheckError(f"{tool} ran out of its time ({timeout:.0f} s of gpu_burnin_budget_s)")
    return rc, out, err


def _threshold(ctx, key):
    value = gpu_thresholds(ctx)[key]
    if value is None:
        raise Skip(f"no public {key} for this GPU model: give it in gpu_thresholds")
    return value


@check("gpu.dcgm_diag", "gpu_burnin", profiles=BURNIN_PROFILES)
def dcgm_diag(ctx):
    """``dcgmi diag -r <gpu_dcgm_diag_level> -j``: every test passes (level 1 takes seconds, 2 minutes,
    3 and 4 much longer); warnings of passing tests warn."""
    level = int(ctx.setting("gpu_dcgm_diag_level"))
    rc, out, err = _run_within_budget(
        ctx, "dcgmi", ["diag", "-r", str(level), "-j"], ctx.setting("gpu_dcgm_diag_timeout_s")
    )
    if not out.strip():
        raise CheckError(f"dcgmi diag exited {rc} without a report: {err.strip()[:200]}")
    results = parse_dcgm_diag(out)
    observed = {f"{category}/{test}": status for category, test, status, _w in results}
    bad = [
        f"{test}: {status}" + (f" ({text[:120]})" if text else "")
        for _c, test, status, text in results
        if status.lower() == "fail"
    ]
    if bad or rc != 0:
        return failed(observed, "every test Pass", f"dcgmi diag -r {level}: " + ("; ".join(bad) or f"exited {rc}"))
    warnings = [f"{test}: {text[:120]}" for _c, test, status, text in results if status.lower() == "warn" or text]
    if warnings:
        return warned(observed, "every test Pass", f"dcgmi diag -r {level} warnings: " + "; ".join(warnings))
    return passed(observed, "every test Pass", f"dcgmi diag -r {level}: {len(results)} result(s) pass or skip")


@check("gpu.perf.nvbandwidth", "gpu_burnin", profiles=BURNIN_PROFILES)
def nvbandwidth(ctx):
    """Host-to-device and device-to-host copy bandwidth of every GPU (and GPU-to-GPU reads where the
    model has a figure) at least the model's minimum."""
    h2d = float(_threshold(ctx, "h2d_gbps_min"))
    p2p = gpu_thresholds(ctx)["p2p_gbps_min"]
    tests = list(NVBANDWIDTH_TESTS) + ([NVBANDWIDTH_P2P] if p2p else [])
    rc, out, err = _run_within_budget(ctx, "nvbandwidth", ["-t", *tests])
    if rc != 0:
        raise CheckError(f"nvbandwidth exited {rc}: {(err or out).strip()[:200]}")
    measured = parse_nvbandwidth(out)
    observed = {test: min(values) for test, values in measured.items() if values}
    missing = [test for test in tests if test not in observed]
    if missing:
        raise CheckError(f"nvbandwidth printed no matrix for {', '.join(missing)}")
    limits = {test: (float(p2p) if test == NVBANDWIDTH_P2P else h2d) for test in tests}
    slow = [f"{test} {observed[test]:.2f} GB/s < {limits[test]:g}" for test in tests if observed[test] < limits[test]]
    if slow:
        return failed(observed, limits, "copy bandwidth below the model's minimum: " + "; ".join(slow))
    return passed(observed, limits, "copy bandwidth at the model's minimum or above")


def _all_reduce(ctx, env=()):
    """nccl-tests' all_reduce_perf on every GPU of this node in one process: its average bus bandwidth."""
    gpus = len(gpu_query(ctx))
    size = str(gpu_thresholds(ctx)["nccl_bytes"])
    tool = ctx.which("all_reduce_perf")
    if tool is None:
        raise Skip("all_reduce_perf (nccl-tests) not found")
    args = ["-b", size, "-e", size, "-f", "2", "-g", str(gpus), "-c", "1"]
    rc, out, err = (
        _run_within_budget(ctx, "env", [*env, tool, *args]) if env else _run_within_budget(ctx, "all_reduce_perf", args)
    )
    if rc != 0:
        raise CheckError(f"all_reduce_perf exited {rc}: {(err or out).strip()[-200:]}")
    return gpus, size, parse_nccl_busbw(out)


@check("gpu.perf.nccl_allreduce", "gpu_burnin", profiles=BURNIN_PROFILES)
def nccl_allreduce(ctx):
    """Single-node NCCL all-reduce bus bandwidth (NVLink/NVSwitch) at least the model's minimum."""
    minimum = float(_threshold(ctx, "nccl_busbw_gbps_min"))
    gpus, size, busbw = _all_reduce(ctx)
    if busbw < minimum:
        return failed(
            busbw, f">= {minimum:g} GB/s", f"all-reduce of {size} on {gpus} GPUs: bus bandwidth {busbw:g} GB/s"
        )
    return passed(busbw, f">= {minimum:g} GB/s", f"all-reduce of {size} on {gpus} GPUs: {busbw:g} GB/s")


@check("gpu.perf.gdr_loopback", "gpu_burnin", profiles=BURNIN_PROFILES)
def gdr_loopback(ctx):
    """NCCL all-reduce with peer-to-peer and shared memory off: every byte goes GPU -> NIC -> NIC -> GPU
    (GPUDirect RDMA through the node's own fabric ports); bus bandwidth at least the model's minimum."""
    minimum = float(_threshold(ctx, "gdr_loopback_gbps_min"))
    gpus, size, busbw = _all_reduce(ctx, LOOPBACK_ENV)
    expected = f">= {minimum:g} GB/s"
    if busbw < minimum:
        return failed(busbw, expected, f"all-reduce through the NICs on {gpus} GPUs: {busbw:g} GB/s")
    return passed(busbw, expected, f"all-reduce through the NICs of {size} on {gpus} GPUs: {busbw:g} GB/s")
