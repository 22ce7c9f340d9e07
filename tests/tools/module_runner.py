"""Run one of the collection's modules as Ansible runs it: a JSON argument file, the module as a program."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_module(name, args, tmp_path, timeout=60):
    """The module's JSON result; ``args`` may carry Ansible's internal keys (``_ansible_check_mode``...)."""
    args_file = tmp_path / f"{name}-args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    proc = subprocess.run(
        [sys.executable, "-m", f"ansible_collections.aiplatform.cluster.plugins.modules.{name}", str(args_file)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={"PYTHONPATH": str(REPO / "build/collections"), "PATH": "/usr/bin:/bin"},
    )
    assert proc.stdout, proc.stderr
    return json.loads(proc.stdout)
