"""Time the node preflight (figures for docs/benchmarks.md).

1. The check library in-process on one fixture root: the default gpu catalogue without the
   etcd disk probe, median of --repeat runs.
2. --container NAME: the node_preflight module on a running lab container (podman connection), the
   module's own elapsed_s for the gpu + control_plane profiles, excluding the disk probe.

The inventory figures (playbooks/preflight.yml against the floor and against one task per check, on N
local hosts) are tests/benchmarks/preflight_round_trips.py's.

Run: .venv/bin/python tests/benchmarks/preflight_bench.py [--container NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "build" / "collections"), str(REPO / "tests" / "tools")]

from preflight_fixture_root import build_root  # noqa: E402

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_catalogue import catalogue  # noqa: E402
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_core import (  # noqa: E402
    Context,
    run_profile,
    select_checks,
)

ENV = {
    **os.environ,
    "CONTAINERS_CONF": str(REPO / "tests/lab/containers.conf"),
    "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
    "ANSIBLE_COLLECTIONS_PATH": str(REPO / "build/collections"),
    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    "ANSIBLE_NOCOLOR": "1",
}


def in_process(workdir, repeat):
    params = build_root(workdir / "one")
    checks = select_checks(catalogue(), params["profiles"], exclude=[*params["exclude"], "disk.etcd_fdatasync"])
    times = []
    for _run in range(repeat):
        ctx = Context(
            root=params["root"],
            settings=params["settings"],
            profiles=params["profiles"],
            search_path=params["search_path"],
        )
        started = time.perf_counter()
        run_profile(ctx, checks)
        times.append(time.perf_counter() - started)
    return len(checks), statistics.median(times)


def on_container(name):
    args = json.dumps({"profiles": ["gpu", "control_plane"], "fail_on_failure": False})
    proc = subprocess.run(
        [
            "ansible",
            "all",
            "-i",
            f"{name},",
            "-c",
            "containers.podman.podman",
            "-e",
            "ansible_python_interpreter=/usr/bin/python3",
            "-m",
            "aiplatform.cluster.node_preflight",
            "-a",
            args,
        ],
        env={**ENV, "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    data = json.loads(proc.stdout[proc.stdout.index("{") :])
    result = next(iter(data["plays"][0]["tasks"][0]["hosts"].values()))
    return result["summary"]["total"], result["elapsed_s"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--container", help="a running lab container to time the module on")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="preflight-bench-") as scratch:
        workdir = Path(scratch)
        count, median = in_process(workdir, options.repeat)
        print(
            f"| check library, one fixture root, in-process ({count} checks, no disk probe, median of "
            f"{options.repeat}) | {median:.3f} s |",
            flush=True,
        )
        if options.container:
            count, elapsed = on_container(options.container)
            print(
                f"| node_preflight module on lab container {options.container} ({count} checks, no disk probe)"
                f" | {elapsed:.3f} s |"
            )


if __name__ == "__main__":
    main()
