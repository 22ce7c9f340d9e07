"""The gpu_burnin probes on fixture roots with stand-in tools that answer only the exact command lines the
checks run: DCGM diagnostics, nvbandwidth, NCCL all-reduce, the GPUDirect RDMA loopback, the time budget."""

import os
import shutil

from conftest import CATALOGUE, put_file, run
from preflight_fixture_root import FIXTURES

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_core import REGISTRY, select_checks

BURNIN = ("gpu.dcgm_diag", "gpu.perf.nvbandwidth", "gpu.perf.nccl_allreduce", "gpu.perf.gdr_loopback")


def stand_in(host, tool, args, fixture, *, rc=0, extra=""):
    """A tool in the fixture root's bin that prints a recorded output for exactly ``args``, else exits 64."""
    script = f'#!/bin/sh\n{extra}[ "$*" = "{args}" ] || {{ echo "not the recorded command line: $*" >&2; exit 64; }}\n'
    script += f'cat "{FIXTURES / fixture}"\nexit {rc}\n'
    put_file(host.root, f"bin/{tool}", script, 0o755)


def test_burnin_probes_run_only_when_asked(host):
    assert not set(BURNIN) & {c.check_id for c in select_checks(REGISTRY, ["gpu", "nodes", "control_plane"])}
    assert {c.check_id for c in select_checks(REGISTRY, ["gpu_burnin"])} == set(BURNIN)
    assert all(CATALOGUE[i].profiles == frozenset({"gpu_burnin"}) for i in BURNIN)


def test_probes_skip_without_their_tools(host):
    for check_id in BURNIN:
        assert run(host(), check_id)["status"] == "skip", check_id


def test_dcgm_diag(host):
    stand_in(host, "dcgmi", "diag -r 1 -j", "dcgmi/diag-r1-pass.json")
    assert run(host(), "gpu.dcgm_diag")["message"] == "dcgmi diag -r 1: 9 result(s) pass or skip"
    stand_in(host, "dcgmi", "diag -r 1 -j", "dcgmi/diag-r1-fail.json", rc=226)
    result = run(host(), "gpu.dcgm_diag")
    assert result["status"] == "fail"
    assert result["message"] == (
        "dcgmi diag -r 1: Page Retirement/Row Remap: Fail "
        "(GPU 3 had uncorrectable memory errors and row remapping failed.)"
    )
    stand_in(host, "dcgmi", "diag -r 3 -j", "dcgmi/diag-r1-pass.json")
    assert run(host(settings={"gpu_dcgm_diag_level": 3}), "gpu.dcgm_diag")["status"] == "pass"
    stand_in(host, "dcgmi", "diag -r 1 -j", "dcgmi/hostengine-down.txt", rc=255)
    assert run(host(), "gpu.dcgm_diag")["message"].startswith(
        "could not evaluate: dcgmi diag -j: not the diagnostic JSON"
    )


H2D = "-t host_to_device_memcpy_ce device_to_host_memcpy_ce"


def test_nvbandwidth_against_the_models_minimum(host):
    stand_in(host, "nvbandwidth", H2D, "nvbandwidth/h100-8gpu.txt")
    result = run(host(), "gpu.perf.nvbandwidth")
    assert (result["status"], result["expected"]) == (
        "pass",
        {"host_to_device_memcpy_ce": 52.0, "device_to_host_memcpy_ce": 52.0},
    )
    stand_in(host, "nvbandwidth", H2D, "nvbandwidth/h100-8gpu-slow-gpu2.txt")
    result = run(host(), "gpu.perf.nvbandwidth")
    assert result["message"] == "copy bandwidth below the model's minimum: host_to_device_memcpy_ce 31.02 GB/s < 52"
    stand_in(host, "nvbandwidth", H2D, "nvbandwidth/malformed.txt")
    assert run(host(), "gpu.perf.nvbandwidth")["message"] == (
        "could not evaluate: nvbandwidth: no bandwidth matrix in its output"
    )


def test_nvbandwidth_adds_peer_reads_where_the_model_has_a_figure(host):
    (host.root / "bin/nvidia-smi.d/case").write_text("driver-570-event-names-only")  # H200: 48 and 335 GB/s
    stand_in(host, "nvbandwidth", H2D + " device_to_device_memcpy_read_ce", "nvbandwidth/h100-8gpu.txt")
    result = run(host(), "gpu.perf.nvbandwidth")
    assert result["message"] == "could not evaluate: nvbandwidth printed no matrix for device_to_device_memcpy_read_ce"


def test_models_without_figures_skip(host):
    stand_in(host, "nvbandwidth", H2D, "nvbandwidth/h100-8gpu.txt")
    result = run(host(settings={"gpu_model": "B200"}), "gpu.perf.nvbandwidth")
    assert (result["status"], result["message"]) == (
        "skip",
        "no public h2d_gbps_min for this GPU model: give it in gpu_thresholds",
    )
    given = host(settings={"gpu_model": "B200", "gpu_thresholds": {"h2d_gbps_min": 50}})
    assert run(given, "gpu.perf.nvbandwidth")["status"] == "pass"


ALL_REDUCE = "-b 16G -e 16G -f 2 -g 8 -c 1"


def all_reduce(host, fixture, loopback="nccl-tests/all-reduce-h100-8gpu-loopback.txt"):
    script = (
        "#!/bin/sh\n"
        f'if [ "$*" = "{ALL_REDUCE}" ] && [ -z "$NCCL_P2P_DISABLE" ]; then cat "{FIXTURES / fixture}"; exit 0; fi\n'
        f'if [ "$*" = "{ALL_REDUCE}" ] && [ "$NCCL_P2P_DISABLE$NCCL_SHM_DISABLE$NCCL_NET_GDR_LEVEL" = 115 ]; then\n'
        f'  cat "{FIXTURES / loopback}"; exit 0\nfi\n'
        'echo "not the recorded command line: $*" >&2; exit 64\n'
    )
    put_file(host.root, "bin/all_reduce_perf", script, 0o755)
    if not (host.root / "bin/env").exists():
        os.symlink(shutil.which("env"), host.root / "bin/env")


def test_nccl_allreduce_and_gdr_loopback(host):
    all_reduce(host, "nccl-tests/all-reduce-h100-8gpu.txt")
    result = run(host(), "gpu.perf.nccl_allreduce")
    assert (result["status"], result["observed"], result["expected"]) == ("pass", 470.645, ">= 460 GB/s")
    loop = run(host(), "gpu.perf.gdr_loopback")
    assert (loop["status"], loop["observed"], loop["expected"]) == ("pass", 77.085, ">= 40 GB/s")
    all_reduce(host, "nccl-tests/all-reduce-h100-8gpu-slow.txt", "nccl-tests/all-reduce-h100-8gpu-slow.txt")
    assert run(host(), "gpu.perf.nccl_allreduce")["message"] == (
        "all-reduce of 16G on 8 GPUs: bus bandwidth 301.025 GB/s"
    )
    all_reduce(host, "nccl-tests/nccl-error.txt", "nccl-tests/nccl-error.txt")
    assert run(host(), "gpu.perf.nccl_allreduce")["message"] == (
        "could not evaluate: all_reduce_perf: no '# Avg bus bandwidth' line"
    )


def test_the_time_budget(host):
    stand_in(host, "nvbandwidth", H2D, "nvbandwidth/h100-8gpu.txt")
    spent = host(settings={"gpu_burnin_budget_s": 1})
    assert run(spent, "gpu.perf.nvbandwidth")["message"] == (
        "the burn-in time budget (gpu_burnin_budget_s) is spent (0 s)"
    )
    stand_in(host, "nvbandwidth", H2D, "nvbandwidth/h100-8gpu.txt", extra="exec sleep 30\n")
    result = run(host(settings={"gpu_burnin_budget_s": 2}), "gpu.perf.nvbandwidth")
    assert result["message"] == "could not evaluate: nvbandwidth ran out of its time (2 s of gpu_burnin_budget_s)"
