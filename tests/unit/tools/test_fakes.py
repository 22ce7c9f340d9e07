"""The stand-in nvidia-smi and chronyc answer only the command lines recorded in
tests/fixtures/preflight/README.md, so a flag dropped from the real command line fails the tests."""

import subprocess
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "preflight"
NVIDIA_SMI = FIXTURES / "nvidia-smi" / "fake-nvidia-smi"
CHRONYC = FIXTURES / "chrony" / "fake-chronyc"
# The recorded command lines, written out as the README's table gives them.
QUERY_GPU = [
    "--query-gpu=index,pci.bus_id,driver_version,persistence_mode,ecc.errors.uncorrected.volatile.total,"
    "retired_pages.pending,clocks_throttle_reasons.hw_slowdown",
    "--format=csv,noheader,nounits",
]
QUERY_GPU_EVENT = [QUERY_GPU[0].replace("clocks_throttle_reasons", "clocks_event_reasons"), QUERY_GPU[1]]
PROBE = ["--query-gpu=driver_version,name", "--format=csv,noheader"]
QUERY_ECC = [
    "--query-gpu=index,pci.bus_id,ecc.mode.current,ecc.errors.uncorrected.aggregate.sram,"
    "ecc.errors.corrected.aggregate.sram,ecc.errors.uncorrected.aggregate.dram,ecc.errors.corrected.aggregate.dram",
    "--format=csv,noheader,nounits",
]
QUERY_FABRIC = ["--query-gpu=index,pci.bus_id,fabric.state,fabric.status", "--format=csv,noheader"]
QUERY_REMAP = [
    "--query-remapped-rows=gpu_bus_id,remapped_rows.correctable,remapped_rows.uncorrectable,"
    "remapped_rows.pending,remapped_rows.failure",
    "--format=csv,noheader",
]


def run(tool, *args, **env):
    return subprocess.run([str(tool), *args], capture_output=True, text=True, check=False, env=env)


def test_the_readme_records_the_command_lines_the_fakes_accept():
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    queries = (PROBE, QUERY_GPU, QUERY_GPU_EVENT, QUERY_ECC, QUERY_FABRIC, QUERY_REMAP)
    for line in [" ".join(["nvidia-smi", *args]) for args in queries] + ["nvidia-smi nvlink -s"]:
        assert f"`{line}`" in readme
    assert "`chronyc -n tracking`" in readme


@pytest.mark.parametrize(
    ("args", "recorded"),
    [
        (PROBE, "query-driver.csv"),
        (QUERY_GPU, "query-gpu.csv"),
        (QUERY_GPU_EVENT, "query-gpu.csv"),
        (QUERY_ECC, "query-ecc.csv"),
        (QUERY_FABRIC, "query-fabric.csv"),
        (QUERY_REMAP, "query-remapped-rows.csv"),
        (["nvlink", "-s"], "nvlink-s.txt"),
    ],
)
def test_nvidia_smi_stand_in_answers_the_recorded_command_lines(args, recorded):
    answer = run(NVIDIA_SMI, *args, FAKE_NVIDIA_SMI_CASE="ecc-7of8")
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout == (FIXTURES / "nvidia-smi" / "ecc-7of8" / recorded).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "args",
    [
        QUERY_GPU[:1],  # --format dropped
        [QUERY_GPU[0], "--format=csv,noheader"],  # nounits dropped: the parser would get units
        [QUERY_GPU[0].replace("index,pci.bus_id", "pci.bus_id,index"), QUERY_GPU[1]],  # fields reordered
        QUERY_REMAP[:1],
        [PROBE[0], "--format=csv"],  # the probe with a header line
        [QUERY_ECC[0].replace(".sram", ".dram", 1), QUERY_ECC[1]],  # a counter asked for twice
        [QUERY_FABRIC[0], "--format=csv,noheader,nounits"],
        ["nvlink", "--status"],
        ["-q"],
        [],
    ],
)
def test_nvidia_smi_stand_in_refuses_any_other_command_line(args):
    answer = run(NVIDIA_SMI, *args, FAKE_NVIDIA_SMI_CASE="healthy-8gpu")
    assert answer.returncode == 2
    assert answer.stdout == ""
    assert "not a recorded command line" in answer.stderr


def test_nvidia_smi_stand_in_keeps_the_recorded_exit_code():
    answer = run(NVIDIA_SMI, *QUERY_GPU, FAKE_NVIDIA_SMI_CASE="exit-9")
    assert answer.returncode == 9


@pytest.mark.parametrize(
    ("case", "args", "field"),
    [
        ("driver-570-event-names-only", QUERY_GPU, "clocks_throttle_reasons.hw_slowdown"),
        ("driver-525-throttle-names-only", QUERY_GPU_EVENT, "clocks_event_reasons.hw_slowdown"),
        ("v100-retired-pending", QUERY_FABRIC, "fabric.state"),
    ],
)
def test_nvidia_smi_stand_in_refuses_the_fields_its_driver_does_not_know(case, args, field):
    answer = run(NVIDIA_SMI, *args, FAKE_NVIDIA_SMI_CASE=case)
    assert (answer.returncode, answer.stdout) == (2, f'Field "{field}" is not a valid field to query.\n')


def test_nvidia_smi_stand_in_answers_the_names_its_driver_knows():
    assert run(NVIDIA_SMI, *QUERY_GPU_EVENT, FAKE_NVIDIA_SMI_CASE="driver-570-event-names-only").returncode == 0
    assert run(NVIDIA_SMI, *QUERY_GPU, FAKE_NVIDIA_SMI_CASE="driver-525-throttle-names-only").returncode == 0


def test_chronyc_stand_in_answers_only_dash_n_tracking():
    answer = run(CHRONYC, "-n", "tracking", FAKE_CHRONYC_CASE="local")
    assert answer.returncode == 0
    assert answer.stdout == (FIXTURES / "chrony" / "tracking-local.txt").read_text(encoding="utf-8")
    assert run(CHRONYC, "-n", "tracking", FAKE_CHRONYC_CASE="daemon-down").returncode == 1
    for args in (["tracking"], ["-n", "sources"], ["-n", "tracking", "-v"], []):
        refused = run(CHRONYC, *args, FAKE_CHRONYC_CASE="synced")
        assert refused.returncode == 1 and "not the recorded command line" in refused.stderr, args
