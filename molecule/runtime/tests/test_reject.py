"""Bad settings are rejected by the preflight, naming the variable, before any change on the host."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

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


@pytest.mark.parametrize("case", sorted(BAD_SETTINGS))
def test_bad_settings_fail_in_preflight(case):
    extra, message = BAD_SETTINGS[case]
    run = subprocess.run(
        [
            "ansible-playbook",
            "-i",
            os.environ["MOLECULE_INVENTORY_FILE"],
            str(SCENARIO / "reject.yml"),
            "-e",
            json.dumps(extra),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"},
    )
    output = " ".join(re.sub(r"\x1b\[[0-9;]*m", "", run.stdout + run.stderr).split())
    assert run.returncode != 0, output[-2000:]
    assert message in output, output[-2000:]
    assert re.search(r"molecule-runtime-gpu1 *: ok=\d+ +changed=0 ", output), output[-2000:]
