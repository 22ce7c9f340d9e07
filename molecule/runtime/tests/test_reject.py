"""Bad settings are rejected by the preflight, naming the variable, before any change on the host."""

import os
import re
import sys
from pathlib import Path

import pytest
import testinfra

sys.path.insert(0, str(Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / "tests" / "tools"))
from scenario_playbook import run_scenario_playbook

SCENARIO = Path(__file__).resolve().parent.parent
BAD_SETTINGS = {
    "mirror without a host": (
        {"containerd_registry_mirrors": [{"registry": "docker.io", "mirrors": [{"capabilities": ["pull"]}]}]},
        "containerd_registry_mirrors[0]",
    ),
    "unknown snapshotter": ({"containerd_snapshotter": "zfs-remote"}, "containerd_snapshotter must be one of"),
    "stargz without its daemon": (
        {"containerd_snapshotter": "stargz", "containerd_stargz_enabled": False},
        "needs containerd_stargz_enabled",
    ),
    "reservations larger than the node": (
        {"kubelet_kube_reserved_override": {"memory": "64Ti"}},
        "kubelet reservations do not fit",
    ),
    "eviction threshold that does not parse": (
        {"kubelet_eviction_hard": {"memory.available": "lots"}},
        "memory.available: 'lots' is neither",
    ),
}


def preflight(extra):
    """reject.yml (the roles' preflight only) with ``extra`` as -e; its return code and flattened output."""
    return run_scenario_playbook(SCENARIO / "reject.yml", extra)


@pytest.mark.parametrize("case", sorted(BAD_SETTINGS))
def test_bad_settings_fail_in_preflight(case):
    extra, message = BAD_SETTINGS[case]
    returncode, output = preflight(extra)
    assert returncode != 0, output[-2000:]
    assert message in output, output[-2000:]
    assert re.search(r"molecule-runtime-gpu1 *: ok=\d+ +changed=0 ", output), output[-2000:]


def test_ssd_gate_refuses_a_rotational_containerd_root():
    """The scenario waives the SSD gate (this machine's virtio disk rotates); with the gate on, the role must
    refuse exactly when the disk under containerd_root rotates. The flag is read here independently."""
    worker = testinfra.get_host("podman://molecule-runtime-gpu1")
    device = worker.check_output("findmnt --noheadings --output MAJ:MIN --target /var/lib/containerd").strip()
    flag = worker.run(
        f"cat /sys/dev/block/{device}/queue/rotational 2>/dev/null || cat /sys/dev/block/{device}/../queue/rotational"
    ).stdout.strip()
    returncode, output = preflight({"containerd_root_require_ssd": True})
    assert flag in {"0", "1"}, f"no queue/rotational for {device}: {flag!r}"
    if flag == "1":
        assert returncode != 0, output[-2000:]
        assert f"containerd_root /var/lib/containerd is on a rotational medium (device {device})" in output
        assert "containerd_root_require_ssd needs an SSD" in output
        assert re.search(r"molecule-runtime-gpu1 *: ok=\d+ +changed=0 ", output), output[-2000:]
    else:
        assert returncode == 0, output[-2000:]
