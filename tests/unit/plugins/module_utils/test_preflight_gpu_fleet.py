"""GPU fleet health (issue 19) on fixture roots: nvidia-smi by driver version, a failed query failing, the ECC
history, Xid decisions and repeats, the fabric manager and fabric state, SXids, PCIe, NUMA, InfiniBand."""

import shutil

import pytest
from conftest import NOW, put_file, run
from preflight_fixture_root import FIXTURES

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_checks_gpu import gpu_fields
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_gpu_models import model_of, thresholds
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_xid import (
    APPLICATION,
    DRAIN,
    INFO,
    UNKNOWN,
    WATCH,
    XID_DECISIONS,
    codes_with,
    decide,
)

NVIDIA_SMI_CHECKS = (
    "gpu.nvidia_smi",
    "gpu.count",
    "gpu.driver_version",
    "gpu.ecc.uncorrected",
    "gpu.ecc.sram",
    "gpu.ecc.dram",
    "gpu.row_remap.pending",
    "gpu.row_remap.failed",
    "gpu.hw_slowdown",
    "gpu.nvlink",
)


def case(host, name):
    (host.root / "bin/nvidia-smi.d/case").write_text(name)


def copy_case(host, source, name, files):
    """A new recorded case from an existing one with some files replaced ({file name: text})."""
    folder = host.root / "bin/nvidia-smi.d" / name
    shutil.copytree(FIXTURES / "nvidia-smi" / source, folder)
    for file_name, text in files.items():
        (folder / file_name).write_text(text)
    case(host, name)


def statuses(host, *ids, **settings):
    ctx = host(settings=settings or None)
    return {check_id: run(ctx, check_id)["status"] for check_id in ids}


@pytest.mark.parametrize(
    ("driver", "name"),
    [
        ("470.256.02", "clocks_throttle_reasons.hw_slowdown"),
        ("535.54.02", "clocks_throttle_reasons.hw_slowdown"),
        ("535.54.03", "clocks_event_reasons.hw_slowdown"),
        ("535.129.03", "clocks_event_reasons.hw_slowdown"),
        ("570.86.15", "clocks_event_reasons.hw_slowdown"),
    ],
)
def test_the_clock_reason_field_is_named_by_driver_version(driver, name):
    assert gpu_fields(driver)[-1] == name


@pytest.mark.parametrize(
    ("name", "names"), [("driver-570-event-names-only", "event"), ("driver-525-throttle-names-only", "throttle")]
)
def test_the_shared_query_works_on_drivers_that_know_only_one_name(host, name, names):
    case(host, name)
    result = statuses(host, *NVIDIA_SMI_CHECKS, gpu_count=8)
    assert set(result.values()) == {"pass"}, result
    assert f"clocks_{names}_reasons.*" in run(host(), "gpu.nvidia_smi")["message"]


def test_a_refused_shared_query_fails_every_check_built_on_it(host):
    # A driver past 535.54.03 whose nvidia-smi does not know the new names (or any field we ask for): the
    # query fails, and so does every check that reads it: nothing is silently skipped.
    copy_case(host, "healthy-8gpu", "refuses-event-names", {"unsupported-fields": "clocks_event_reasons.hw_slowdown\n"})
    result = run(host(), "gpu.nvidia_smi")
    assert (result["status"], result["observed"]) == ("fail", 2)
    assert 'Field "clocks_event_reasons.hw_slowdown" is not a valid field to query.' in result["message"]
    for check_id in ("gpu.count", "gpu.driver_version", "gpu.ecc.uncorrected", "gpu.hw_slowdown"):
        failed = run(host(), check_id)
        assert failed["status"] == "fail", check_id
        assert failed["message"].startswith("could not evaluate: nvidia-smi --query-gpu=index,"), failed["message"]


def test_the_driver_probe_failing_is_a_failure_with_the_reason(host):
    case(host, "exit-9")
    result = run(host(), "gpu.ecc.sram")
    assert result["status"] == "fail"
    assert "exited 9 (the NVIDIA driver is not loaded)" in result["message"]


def test_ecc_history_a_reboot_does_not_clear(host):
    case(host, "ecc-history")
    assert statuses(host, "gpu.ecc.uncorrected", "gpu.ecc.sram", "gpu.ecc.dram") == {
        "gpu.ecc.uncorrected": "pass",  # the volatile counters were cleared by the reboot
        "gpu.ecc.sram": "fail",
        "gpu.ecc.dram": "fail",
    }
    sram = run(host(), "gpu.ecc.sram")
    assert sram["message"].endswith("GPU 1: 0 uncorrected, 12000 corrected")
    assert sram["observed"]["1"] == {"uncorrected": 0, "corrected": 12000}
    assert run(host(), "gpu.ecc.dram")["message"].endswith("00000000:BA:00.0: 600 uncorrectable remapped rows")


def test_ecc_thresholds_are_settings(host):
    case(host, "ecc-history")
    raised = {"ecc_sram_corrected_max": 20000, "row_remap_uncorrectable_max": 1000}
    assert run(host(settings={"gpu_thresholds": raised}), "gpu.ecc.sram")["status"] == "pass"
    dram = run(host(settings={"gpu_thresholds": raised}), "gpu.ecc.dram")
    assert (dram["status"], dram["message"]) == ("warn", "uncorrected DRAM errors in the GPU's history: GPU 5: 3")


def test_the_lab_broken_gpu_fails_the_ecc_history(host):
    case(host, "ecc-7of8")
    result = run(host(), "gpu.ecc.sram")
    assert (result["status"], result["message"]) == (
        "fail",
        "SRAM ECC history over the limits (drain, contact support): GPU 3: 2 uncorrected, 14 corrected",
    )
    assert run(host(), "gpu.ecc.dram")["status"] == "warn"


def test_ecc_history_off_malformed_and_missing(host):
    off = "0, 00000000:18:00.0, Disabled, [N/A], [N/A], [N/A], [N/A]\n"
    copy_case(host, "healthy-8gpu", "ecc-off", {"query-ecc.csv": off})
    assert run(host(), "gpu.ecc.sram")["status"] == "skip"
    case(host, "malformed")
    assert run(host(), "gpu.ecc.sram")["message"].startswith("could not evaluate: nvidia-smi line 1 has 4 fields")
    (host.root / "bin/nvidia-smi").unlink()
    assert run(host(), "gpu.ecc.dram")["status"] == "skip"


def test_thresholds_per_gpu_model():
    assert model_of("NVIDIA H100 80GB HBM3") == "H100"
    assert model_of("NVIDIA H200") == "H200"
    assert model_of("NVIDIA A100-SXM4-80GB") == "A100"
    assert model_of("NVIDIA GB200") == "GB200"
    assert model_of("NVIDIA B200") == "B200"
    assert model_of("Tesla V100-SXM2-32GB") is None
    assert thresholds("H100")["nccl_busbw_gbps_min"] == 460.0
    assert thresholds("A100")["h2d_gbps_min"] == 24
    assert thresholds("H200")["p2p_gbps_min"] == 335
    assert thresholds("B200")["h2d_gbps_min"] is None
    assert thresholds("B200")["ecc_dram_max"] == 20000000
    assert thresholds("H100", {"h2d_gbps_min": 50})["h2d_gbps_min"] == 50


def test_every_xid_decision_of_the_table():
    # Written out from NVIDIA's catalogue (the immediate-action buckets), not from the table under test.
    assert codes_with(DRAIN) == (
        *(46, 48, 54, 62, 64, 74, 79, 95, 109, 110, 119, 120, 136, 140, 142, 143),
        *(144, 145, 146, 147, 148, 149, 150, 151, 155, 156, 158, 167, 169, 171, 172),
    )
    assert codes_with(WATCH) == (38, 44, 63, 67, 78, 92, 93, 121, 137, 141, 152, 153, 157, 159, 160, 161)
    assert codes_with(INFO) == (37, 66, 106, 107)
    assert codes_with(APPLICATION) == (
        *(8, 11, 13, 25, 31, 32, 39, 40, 41, 43, 45, 60, 68, 69, 70, 71, 72, 75, 76, 77, 80, 82, 83, 84, 85, 86),
        *(88, 89, 94, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 126, 127, 128, 129, 130, 131, 132, 133),
        *(134, 135, 139),
    )
    assert all(bucket and reason for _decision, bucket, reason in XID_DECISIONS.values())


@pytest.mark.parametrize(
    ("code", "message", "decision", "bucket"),
    [
        (79, "GPU has fallen off the bus.", DRAIN, "RESTART_BM"),
        (48, "", DRAIN, "WORKFLOW_XID_48"),
        (54, "", DRAIN, "CHECK_MECHANICALS"),
        (109, "", DRAIN, "RESET_GPU"),
        (110, "", DRAIN, "RESET_GPU"),
        (142, "", DRAIN, "CONTACT_SUPPORT"),
        (151, "", DRAIN, "RESTART_VM"),
        (63, "Row Remapper: New row marked for remapping", WATCH, "IGNORE"),
        (64, "", DRAIN, "RESET_GPU"),
        (13, "", APPLICATION, "RESTART_APP"),
        (94, "", APPLICATION, "RESTART_APP"),
        (1, "", UNKNOWN, ""),
        (999, "", UNKNOWN, ""),
        (154, "GPU recovery action changed from 0x0 (None) to 0x1 (GPU Reset Required)", DRAIN, "XID_154"),
        (154, "GPU recovery action changed from 0x0 (None) to 0x2 (Node Reboot Required)", DRAIN, "XID_154"),
        (154, "GPU recovery action changed from 0x1 (GPU Reset Required) to 0x0 (None)", INFO, "XID_154"),
        (154, "garbled", DRAIN, "XID_154"),
    ],
)
def test_xid_decisions(code, message, decision, bucket):
    assert decide(code, message)[:2] == (decision, bucket)


def test_xid_overrides():
    assert decide(63, "", drain={63})[0] == DRAIN
    assert decide(79, "", application={79})[0] == APPLICATION


def log(host, name, lookback):
    shutil.copy(FIXTURES / "kernel-log" / name, host.root / "var/log/kern.log")
    return run(host(settings={"kernel_log_lookback_s": lookback}), "gpu.xid")


def test_an_xid_back_after_a_reboot_means_inspection(host):
    result = log(host, "xid-repeat.log", 1200)
    assert result["status"] == "fail"
    assert result["message"] == "Xid back after a reboot, hardware inspection needed: PCI:0000:5d:00 Xid 48 in 2 boots"
    # Outside the lookback window too: the history (gpu_xid_history_s) still holds both boots.
    assert log(host, "xid-repeat.log", 600)["status"] == "fail"
    shutil.copy(FIXTURES / "kernel-log" / "xid-repeat.log", host.root / "var/log/kern.log")
    short = run(host(settings={"kernel_log_lookback_s": 600, "gpu_xid_history_s": 1800}), "gpu.xid")
    assert short["status"] == "pass"


def test_an_xid_cleared_by_a_reboot_leaves_a_watch(host):
    result = log(host, "xid-cleared-by-reboot.log", 1200)
    assert (result["status"], result["observed"]) == ("warn", [63])
    assert "63 (row remap recorded" in result["message"]
    assert log(host, "xid-cleared-by-reboot.log", 3600)["status"] == "fail"  # 79 and 154 in the window


def test_xid_154_names_its_action(host):
    result = log(host, "xid-cleared-by-reboot.log", 3600)
    assert "PCI:0000:ab:00 Xid 154 (XID_154: GPU recovery action: Node Reboot Required)" in result["message"]


def test_fabric_state(host):
    assert run(host(), "gpu.fabric_state")["status"] == "pass"
    case(host, "ecc-7of8")
    result = run(host(), "gpu.fabric_state")
    assert result["status"] == "fail"
    assert "GPU 3: Not Started/N/A" in result["message"]
    case(host, "v100-retired-pending")
    assert run(host(), "gpu.fabric_state")["message"] == "driver 470.256.02's nvidia-smi does not report fabric.state"
    case(host, "exit-15")
    assert run(host(), "gpu.fabric_state")["status"] == "fail"


STOPPED = '#!/bin/sh\n[ "$*" = "is-active nvidia-fabricmanager" ] || exit 64\necho inactive\nexit 3\n'


def test_fabric_manager(host):
    assert run(host(), "gpu.fabric_manager")["message"] == (
        "nvidia-fabricmanager 535.129.03 active for 8 GPU(s) on an NVSwitch fabric"
    )
    put_file(host.root, "bin/nv-fabricmanager", '#!/bin/sh\necho "Fabric Manager version is : 535.104.05"\n', 0o755)
    result = run(host(), "gpu.fabric_manager")
    assert result["status"] == "fail"
    assert result["message"].startswith("fabric manager 535.104.05 does not match driver 535.129.03")
    put_file(host.root, "bin/systemctl", STOPPED, 0o755)
    result = run(host(), "gpu.fabric_manager")
    assert (result["status"], result["observed"]) == ("fail", "inactive")


def test_fabric_manager_without_a_fabric_and_with_switch_devices(host):
    not_supported = "".join(f"{i}, 00000000:1{i}:00.0, Not Supported, N/A\n" for i in range(8))
    copy_case(host, "healthy-8gpu", "pcie-gpus", {"query-fabric.csv": not_supported})
    put_file(host.root, "bin/systemctl", STOPPED, 0o755)
    assert run(host(), "gpu.fabric_manager")["message"] == "no NVSwitch: no fabric manager needed"
    assert run(host(), "gpu.fabric_state")["message"] == "no GPU on an NVSwitch fabric (Not Supported)"
    put_file(host.root, "proc/driver/nvidia-nvswitch/devices/0000:05:00.0", "")
    put_file(host.root, "proc/driver/nvidia-nvswitch/devices/0000:06:00.0", "")
    result = run(host(), "gpu.fabric_manager")
    assert result["message"].startswith("2 NVSwitch device(s) but nvidia-fabricmanager is inactive")


def test_sxid(host):
    shutil.copy(FIXTURES / "kernel-log" / "sxid.log", host.root / "var/log/kern.log")
    result = run(host(), "gpu.sxid")
    assert (result["status"], result["observed"]) == ("fail", [12028, 24007])
    assert result["message"] == "fatal NVSwitch errors: nvidia-nvswitch0 (PCI:0000:c3:00.0) SXid 24007"
    shutil.copy(FIXTURES / "kernel-log" / "sxid-nonfatal.log", host.root / "var/log/kern.log")
    assert run(host(), "gpu.sxid")["status"] == "warn"
    shutil.copy(FIXTURES / "kernel-log" / "xid79.log", host.root / "var/log/kern.log")
    assert run(host(), "gpu.sxid")["status"] == "pass"


def sysfs(host, name):
    """A recorded sysfs tree under the fixture root. Its PCI device folders are stored with '_' for ':'
    (0000_05_00.0): ansible-test refuses ':' in file names. The copy gets the kernel's names back."""
    devices = host.root / "sys/bus/pci/devices"
    shutil.copytree(FIXTURES / "sysfs" / name / "sys", host.root / "sys", dirs_exist_ok=True)
    for folder in devices.iterdir() if devices.is_dir() else ():
        folder.rename(devices / folder.name.replace("_", ":"))


def test_pcie_numa_and_infiniband_on_a_healthy_hgx(host):
    sysfs(host, "hgx-healthy")
    result = statuses(host, "gpu.pcie", "gpu.numa", "gpu.ib.ports", "gpu.ib.link_flaps")
    assert set(result.values()) == {"pass"}, result
    ports = run(host(), "gpu.ib.ports")
    assert ports["expected"] == "ACTIVE, LinkUp, >= 400 Gb/sec"  # the H100's rate (the GPUs' model)
    assert sorted(ports["observed"]) == ["mlx5_0/1", "mlx5_1/1"]  # the Ethernet-layer port is not judged


def test_pcie_numa_and_infiniband_degraded(host):
    sysfs(host, "hgx-degraded")
    result = {
        check_id: run(host(), check_id) for check_id in ("gpu.pcie", "gpu.numa", "gpu.ib.ports", "gpu.ib.link_flaps")
    }
    assert {i: r["status"] for i, r in result.items()} == dict.fromkeys(result, "fail")
    assert result["gpu.pcie"]["message"] == (
        "degraded PCIe links: 0000:9a:00.0 runs x8 of x16; NIC 0000:99:00.0 at 16.0 GT/s PCIe of 32.0 GT/s PCIe"
    )
    assert result["gpu.numa"]["message"] == "no NUMA node reported for 0000:18:00.0"
    assert result["gpu.ib.ports"]["message"] == (
        "InfiniBand ports down or slow: mlx5_0/1 at 200 Gb/sec (4X HDR) (expected 400 Gb/sec); "
        "mlx5_1/1 is 1: DOWN / 3: Disabled"
    )
    assert result["gpu.ib.link_flaps"]["message"] == "InfiniBand links went down: mlx5_0/1 7x"
    assert run(host(settings={"ib_rate_gbps": 200, "ib_link_downed_max": 10}), "gpu.ib.link_flaps")["status"] == "pass"


def test_gpu_without_a_nic_on_its_node_and_a_slot_below_the_model(host):
    sysfs(host, "hgx-misplaced")
    assert run(host(), "gpu.numa")["status"] == "warn"
    pcie = run(host(), "gpu.pcie")
    assert pcie["message"] == "degraded PCIe links: GPU 0000:18:00.0 reaches PCIe Gen4, the model needs Gen5"


def test_pcie_and_infiniband_malformed_and_missing(host):
    assert run(host(), "gpu.pcie")["status"] == "skip"
    assert run(host(), "gpu.ib.ports")["message"] == "no InfiniBand port in /sys/class/infiniband"
    sysfs(host, "malformed")
    assert run(host(), "gpu.pcie")["message"] == "could not evaluate: not a PCIe link speed: 'fast'"
    assert run(host(), "gpu.ib.ports")["status"] == "fail"


def test_xid_history_from_the_journal_reads_every_boot(host):
    # `journalctl -k` means the current boot only: the history asks for the kernel transport instead.
    since = int(NOW - 604800)
    script = (
        "#!/bin/sh\n"
        f'[ "$*" = "_TRANSPORT=kernel -q --no-pager -o short-iso --since @{since}" ] || exit 64\n'
        f'cat "{FIXTURES / "kernel-log/xid-repeat.log"}"\n'
    )
    put_file(host.root, "bin/journalctl", script, 0o755)
    result = run(host(settings={"kernel_log_source": "journal"}), "gpu.xid")
    assert result["message"] == "Xid back after a reboot, hardware inspection needed: PCI:0000:5d:00 Xid 48 in 2 boots"
