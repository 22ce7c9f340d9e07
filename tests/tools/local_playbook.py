"""Run a playbook text with ansible-playbook against an inventory of local hosts, with extra variables.

For the roles' preflight tests: the play, the inventory and the variables are written as files under
``tmp_path`` and ansible-playbook from this venv runs them with the checkout's ansible.cfg and collection.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_local_playbook(
    tmp_path: Path, playbook: str, inventory: dict, extra_vars: dict, *, args: tuple = (), env: dict | None = None
) -> subprocess.CompletedProcess:
    """``args``: more ansible-playbook arguments (``--check``); ``env``: more environment (a stdout callback)."""
    (tmp_path / "play.yml").write_text(playbook, encoding="utf-8")
    (tmp_path / "inventory.json").write_text(json.dumps(inventory), encoding="utf-8")
    (tmp_path / "vars.json").write_text(json.dumps(extra_vars), encoding="utf-8")
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / "build/collections"),
        **(env or {}),
    )
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("ansible-playbook")),
            "-i",
            str(tmp_path / "inventory.json"),
            "-e",
            f"@{tmp_path / 'vars.json'}",
            *args,
            str(tmp_path / "play.yml"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
