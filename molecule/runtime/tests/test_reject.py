"""Bad settings are rejected by the roles' preflight, naming the variable, before any change on the host; the
node preflight's disk.ssd judges the containerd role's real folders."""

import json
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
    "unknown snapshotter": (
        {"containerd_snapshotter": "zfs-remote"},
        "value of containerd_snapshotter must be one of: overlayfs, native, stargz",
    ),
    "stargz without its daemon": (
        {"containerd_snapshotter": "stargz", "containerd_stargz_enabled": False},
        "containerd_snapshotter: stargz needs containerd_stargz_enabled: true",
    ),
    "stargz without its daemon, given as a string": (
        {"containerd_snapshotter": "stargz", "containerd_stargz_enabled": "false"},
        "containerd_snapshotter: stargz needs containerd_stargz_enabled: true",
    ),
    "reservations larger than the node": (
        {"kubelet_kube_reserved_override": {"memory": "64Ti"}},
        "kubelet reservations do not fit",
    ),
    "eviction threshold that does not parse": (
        {"kubelet_eviction_hard": {"memory.available": "lots"}},
        "kubelet_eviction_hard: memory.available: 'lots' is neither",
    ),
}


def preflight(extra, playbook="reject.yml", *args):
    """A playbook of the scenario (reject.yml: the roles' preflight only) with ``extra`` as -e and ``args``;
    its return code and flattened output."""
    return run_scenario_playbook(SCENARIO / playbook, extra, "--tags", "preflight", *args)


@pytest.mark.parametrize("case", sorted(BAD_SETTINGS))
def test_bad_settings_fail_in_preflight(case):
    extra, message = BAD_SETTINGS[case]
    returncode, output = preflight(extra)
    assert returncode != 0, output[-2000:]
    assert message in output, output[-2000:]
    assert re.search(r"molecule-runtime-gpu1 *: ok=\d+ +changed=0 ", output), output[-2000:]


@pytest.mark.parametrize("require_ssd", ["true", "false"])
def test_disk_ssd_judges_the_containerd_roots(tmp_path, require_ssd):
    """The lab waives the SSD requirement (this machine's virtio disk rotates); with it on, node_preflight's
    disk.ssd must fail exactly when the disk under containerd's root rotates, on the folders the containerd
    role passes (its root and the stargz root). The flag is read here independently. Inputs as strings (-e)."""
    worker = testinfra.get_host("podman://molecule-runtime-gpu1")
    device = worker.check_output("findmnt --noheadings --output MAJ:MIN --target /var/lib/containerd").strip()
    flag = worker.run(
        f"cat /sys/dev/block/{device}/queue/rotational 2>/dev/null || cat /sys/dev/block/{device}/../queue/rotational"
    ).stdout.strip()
    assert flag in {"0", "1"}, f"no queue/rotational for {device}: {flag!r}"
    strings = [
        f"node_preflight_require_ssd={require_ssd}",
        "node_preflight_fail_hosts=false",
        # The scenario's list without disk.ssd, as one string.
        "node_preflight_ignore=binaries.required,cgroup.controllers,cri.socket,kernel.modules,gpu.*,disk.etcd_fdatasync",
        f"node_preflight_report_dir={tmp_path}",
    ]
    returncode, output = preflight({}, "ssd.yml", *[a for s in strings for a in ("-e", s)])
    assert returncode == 0, output[-2000:]
    results = {r["id"]: r for r in json.loads((tmp_path / "molecule-runtime-gpu1.json").read_text())["results"]}
    medium = "rotational" if flag == "1" else "ssd"
    assert results["disk.ssd"]["observed"] == {
        "/var/lib/containerd": medium,
        "/var/lib/containerd-stargz-grpc": medium,
    }
    expected = "pass" if flag == "0" else ("fail" if require_ssd == "true" else "warn")
    assert results["disk.ssd"]["status"] == expected, results["disk.ssd"]
