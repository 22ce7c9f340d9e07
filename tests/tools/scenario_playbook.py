"""Run a playbook of a molecule scenario against the scenario's inventory with extra variables.

For a scenario's verify step (testinfra under molecule): ``ansible-playbook -i $MOLECULE_INVENTORY_FILE
PLAYBOOK -e JSON``, without colour, and the output flattened to one line (runs of whitespace made one
space) so that a test can look for a message however Ansible wrapped it. Values in ``extra`` keep their
JSON types: a string such as ``"false"`` arrives as `-e name=false` gives it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def flatten(text: str) -> str:
    """``text`` without colour codes, every run of whitespace one space."""
    return " ".join(_COLOUR.sub("", text).split())


def run_scenario_playbook(playbook: Path | str, extra: dict, *args: str) -> tuple[int, str]:
    """The return code and the flattened output (stdout then stderr) of the run; ``args`` go on the command line."""
    run = subprocess.run(
        [
            "ansible-playbook",
            "-i",
            os.environ["MOLECULE_INVENTORY_FILE"],
            str(playbook),
            "-e",
            json.dumps(extra),
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"},
    )
    return run.returncode, flatten(run.stdout + run.stderr)
