"""Which hosts each play of each playbook targets for an inventory, as ansible-playbook resolves them.

Every playbook imports playbooks/topology.yml first, whose plays link the inventory's groups under the
collection's aiplatform_* groups at run time; `--list-hosts` cannot show that. This tool writes one
playbook that imports topology.yml and then resolves each play's `hosts:` (templated, as Ansible does)
with the inventory_hostnames lookup, and prints {playbook: [[play name, [hosts]], ...]} as JSON.
Nothing connects to a host: the topology plays run add_host and group_by only.
    python tests/tools/render_plays.py INVENTORY [PLAYBOOK ...]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"


def plays_of(path: Path) -> list[dict]:
    """The plays of a playbook with its imports followed, except the topology pre-play itself."""
    plays = []
    for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
        target = entry.get("ansible.builtin.import_playbook") or entry.get("import_playbook")
        if target:
            if Path(target).name != "topology.yml":
                plays.extend(plays_of(path.parent / target))
        else:
            plays.append(entry)
    return plays


def render(inventory: Path, playbooks: list[Path]) -> dict:
    """Run one ansible-playbook that resolves every play's hosts after the topology pre-play."""
    queries = []
    for playbook in playbooks:
        for play in plays_of(playbook):
            pattern = play["hosts"]
            if isinstance(pattern, list):
                pattern = ":".join(pattern)
            queries.append({"playbook": playbook.name, "play": play.get("name", ""), "pattern": pattern})
    with tempfile.TemporaryDirectory() as tmp:
        render_play = Path(tmp) / "render.yml"
        tasks = [
            {
                "name": f"{q['playbook']} :: {q['play']}",
                "ansible.builtin.debug": {"msg": "{{ query('ansible.builtin.inventory_hostnames', __pattern) }}"},
                "vars": {"__pattern": q["pattern"]},
            }
            for q in queries
        ]
        render_play.write_text(
            yaml.safe_dump(
                [
                    {"ansible.builtin.import_playbook": str(PLAYBOOKS / "topology.yml")},
                    {"name": "Render", "hosts": "localhost", "gather_facts": False, "tasks": tasks},
                ],
                sort_keys=False,
            ),
            encoding="utf-8",
        )
        env = dict(
            os.environ,
            ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
            ANSIBLE_COLLECTIONS_PATH=str(ROOT / "build/collections"),
            ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
            ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        )
        run = subprocess.run(
            [str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(inventory), str(render_play)],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=False,
        )
    if run.returncode != 0:
        raise RuntimeError(f"ansible-playbook failed ({run.returncode}):\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}")
    results = json.loads(run.stdout)["plays"][-1]["tasks"]
    out: dict = {}
    for query, result in zip(queries, results, strict=True):
        hosts = result["hosts"]["localhost"]["msg"]
        out.setdefault(query["playbook"], []).append([query["play"], sorted(hosts)])
    return out


def main(argv: list[str]) -> int:
    inventory = Path(argv[1])
    playbooks = [Path(p) for p in argv[2:]] or sorted(p for p in PLAYBOOKS.glob("*.yml") if p.name != "topology.yml")
    print(json.dumps(render(inventory, playbooks), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
