"""node_problem_detector filters: the monitor configurations (checked against NPD's documented fields,
tests/tools/npd_schemas.py), what their patterns match as NPD matches them (anchored at the end of the
log), the per-host plugin file and the role's input checks."""

import re
from pathlib import Path

import npd_schemas
import pytest
import yaml

from ansible_collections.aiplatform.cluster.plugins.filter.node_problem_detector import (
    node_problem_detector_problems,
    npd_custom_plugin_monitor,
    npd_host_checks,
    npd_kernel_monitor,
)

DEFAULTS = yaml.safe_load(
    (Path(__file__).resolve().parents[4] / "roles/node_problem_detector/defaults/main.yml").read_text()
)
GROUPS = DEFAULTS["node_problem_detector_check_groups"]
MONITOR = {
    "xid_drain": [],
    "xid_application": [],
    "invoke_interval": "60s",
    "timeout": "30s",
    "max_output_length": 80,
    "concurrency": 3,
}


def npd_matches(config, line):
    """The reasons whose pattern matches ``line`` as NPD matches: the pattern anchored at the end (\\z)."""
    return [rule["reason"] for rule in config["rules"] if re.search("(?:" + rule["pattern"] + r")\Z", line)]


def test_kernel_monitor_is_valid_and_matches_what_it_should():
    config = npd_kernel_monitor(MONITOR)
    npd_schemas.validate_kernel_monitor(config)
    xid79 = "NVRM: Xid (PCI:0000:ab:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus."
    assert npd_matches(config, xid79) == ["DrainClassXid"]
    assert npd_matches(config, "NVRM: Xid (PCI:0000:ab:00): 13, Graphics SM Warp Exception") == ["GPUApplicationXid"]
    assert npd_matches(config, "NVRM: Xid (PCI:0000:ab:00): 7, something") == []
    assert npd_matches(config, "NVRM: Xid (PCI:0000:ab:00): 148, NVLink") == ["DrainClassXid"]
    assert npd_matches(config, "task containerd:1234 blocked for more than 120 seconds.") == [
        "TaskHung",
        "ContainerRuntimeHung",
    ]
    assert npd_matches(config, "task python3:99 blocked for more than 120 seconds.") == ["TaskHung"]
    assert npd_matches(config, "EXT4-fs (nvme0n1p2): Remounting filesystem read-only") == [
        "FilesystemError",
        "FilesystemIsReadOnly",
    ]
    assert npd_matches(config, "XFS (sdb1): Corruption detected. Shutting down filesystem") == [
        "FilesystemError",
        "XfsHasShutdown",
    ]
    assert npd_matches(config, "e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex") == []


def test_kernel_monitor_takes_the_configured_xid_lists():
    config = npd_kernel_monitor({**MONITOR, "xid_drain": [31], "xid_application": ["13"]})
    assert npd_matches(config, "NVRM: Xid (PCI:0000:ab:00): 31, fault") == ["DrainClassXid"]
    assert npd_matches(config, "NVRM: Xid (PCI:0000:ab:00): 79, off the bus") == []


def test_custom_plugin_monitor_is_valid():
    config = npd_custom_plugin_monitor(
        GROUPS, ["/usr/bin/python3", "/usr/local/libexec/aiplatform/npd-check.py"], MONITOR
    )
    npd_schemas.validate_custom_plugin_monitor(config)
    assert [c["type"] for c in config["conditions"]] == [
        "GPUHealthProblem",
        "GPUFabricProblem",
        "TimeSyncProblem",
        "ContainerRuntimeProblem",
        "DiskProblem",
    ]
    assert config["rules"][0] == {
        "type": "permanent",
        "condition": "GPUHealthProblem",
        "reason": "GPUHealthCheckFailed",
        "path": "/usr/sbin/chroot",
        "args": ["/host", "/usr/bin/python3", "/usr/local/libexec/aiplatform/npd-check.py", "gpu"],
        "timeout": "30s",
    }
    with pytest.raises(ValueError, match="above the global timeout"):
        config["rules"][0]["timeout"] = "31s"
        npd_schemas.validate_custom_plugin_monitor(config)


def test_schema_refuses_unknown_fields_and_missing_conditions():
    config = npd_kernel_monitor(MONITOR)
    with pytest.raises(npd_schemas.jsonschema.ValidationError):
        npd_schemas.validate_kernel_monitor({**config, "lookBack": "5m"})
    with pytest.raises(ValueError, match="no default condition"):
        npd_schemas.validate_kernel_monitor({**config, "conditions": config["conditions"][:1]})


def test_host_checks_leave_gpu_groups_off_other_nodes():
    worker = npd_host_checks(GROUPS, False, {"gpu_count": 8}, 80, 10)
    gpu = npd_host_checks(GROUPS, True, {"gpu_count": 8}, 80, 10)
    assert worker["groups"]["gpu"] == [] and worker["groups"]["time"] == ["time.sync", "time.offset"]
    assert gpu["groups"]["gpu"][0] == "gpu.nvidia_smi"
    assert gpu["settings"] == {"gpu_count": 8} and gpu["max_output_length"] == 80


SETTINGS = {
    "node_problem_detector_check_groups": GROUPS,
    "node_problem_detector_check_settings": {},
    "node_problem_detector_invoke_interval": "60s",
    "node_problem_detector_plugin_timeout": "30s",
    "node_problem_detector_max_output_length": 80,
    "node_problem_detector_concurrency": "3",
    "node_problem_detector_xid_drain": [],
    "node_problem_detector_xid_application": [],
}


def test_problems():
    assert node_problem_detector_problems(SETTINGS) == []
    bad_group = {
        **GROUPS[1],
        "name": "time2",
        "condition": "TimeSyncProblem",
        "checks": ["time.sync", "time.nope"],
        "colour": 1,
    }
    problems = node_problem_detector_problems(
        {
            **SETTINGS,
            "node_problem_detector_check_groups": [*GROUPS, bad_group],
            "node_problem_detector_invoke_interval": "60",
            "node_problem_detector_max_output_length": 0,
            "node_problem_detector_xid_drain": [79, "x"],
            "node_problem_detector_check_settings": [],
        }
    )
    assert problems == [
        "node_problem_detector_check_groups[time2]: has unknown keys (name, condition, ok_reason, problem_reason, "
        "gpu_only, checks) (got ['colour'])",
        "node_problem_detector_check_groups[time2].condition: must differ from every other group's condition "
        "(got 'TimeSyncProblem')",
        "node_problem_detector_check_groups[time2].checks: names checks the library does not have (got ['time.nope'])",
        "node_problem_detector_invoke_interval: must be a duration such as 30s or 5m (got '60')",
        "node_problem_detector_max_output_length: must be a whole number of 1 or more (got 0)",
        "node_problem_detector_xid_drain: must be a list of Xid numbers (empty: the check library's list) (got "
        "[79, 'x'])",
        "node_problem_detector_check_settings: must be a dict of check settings (got [])",
    ]
    assert node_problem_detector_problems(
        {**SETTINGS, "node_problem_detector_xid_drain": [79, 13], "node_problem_detector_xid_application": [13]}
    ) == ["node_problem_detector_xid_application: must not repeat a drain-class Xid (got [13])"]
