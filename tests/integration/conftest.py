"""Helpers for tests that drive the lab through the Makefile and the Ansible CLIs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RECAP = re.compile(
    r"^(?P<host>\S+)\s+: ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)",
    re.MULTILINE,
)


# What the Makefile exports, so that `pytest tests/integration` also works outside make.
MAKEFILE_ENV = {
    "CONTAINERS_CONF": str(REPO / "tests/lab/containers.conf"),
    "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
    "ANSIBLE_COLLECTIONS_PATH": str(REPO / "build/collections"),
}


def run(cmd, *, env=None, cwd=REPO, check=True, timeout=1800):
    """Run a command, return the CompletedProcess; on failure show its output in the assertion."""
    merged = {**MAKEFILE_ENV, **os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", **(env or {})}
    merged["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{merged.get('PATH', '')}"
    result = subprocess.run(cmd, cwd=cwd, env=merged, capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        command = " ".join(map(str, cmd))
        pytest.fail(f"{command} exited {result.returncode}\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}")
    return result


def recap(output):
    """Parse PLAY RECAP lines: {host: {'ok': n, 'changed': n, 'unreachable': n, 'failed': n}}.

    A playbook with several plays prints one recap; hosts appear once.
    """
    fields = ("ok", "changed", "unreachable", "failed")
    found = {m["host"]: {k: int(m[k]) for k in fields} for m in RECAP.finditer(output)}
    assert found, f"no PLAY RECAP in output:\n{output[-3000:]}"
    return found


def podman_json(*args):
    return json.loads(run(["podman", *args, "--format", "json"]).stdout or "[]")
