"""Time the node preflight (figures for docs/benchmarks.md).

1. The check library in-process on one fixture root: the default gpu catalogue without the
   etcd disk probe, median of --repeat runs.
2. --container NAME: the node_preflight module on a running lab container (podman connection), the
   module's own elapsed_s for the gpu + control_plane profiles, excluding the disk probe.
3. An inventory of --hosts local-connection hosts, each with its own fixture root: playbooks/preflight.yml
   (one module call per host, plus the reports) against tests/benchmarks/preflight_per_task.yml (the same
   checks, one Ansible task per check). Wall-clock seconds of ansible-playbook, forks from ansible.cfg.

Run: .venv/bin/python tests/benchmarks/preflight_bench.py [--hosts 200] [--container NAME] [--skip-inventory]
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


def inventory(workdir, hosts):
    lines = ["all:", "  hosts:"]
    for number in range(1, hosts + 1):
        name = f"node{number:03d}"
        params = build_root(workdir / "roots" / name, hostname=name)
        lines += [
            f"    {name}:",
            "      ansible_connection: local",
            f"      ansible_python_interpreter: {sys.executable}",
            f"      node_preflight_root: {params['root']}",
            f"      node_preflight_search_path: {json.dumps(params['search_path'])}",
            f"      node_preflight_profiles: {json.dumps(params['profiles'])}",
            f"      node_preflight_exclude: {json.dumps(params['exclude'])}",
            f"      node_preflight_settings: {json.dumps(params['settings'])}",
            f"      node_preflight_report_dir: {workdir / 'reports'}",
        ]
    path = workdir / "inventory.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


def timed_playbook(inventory_path, playbook, limit_s):
    started = time.perf_counter()
    proc = subprocess.run(
        ["ansible-playbook", "-i", str(inventory_path), str(playbook)],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=limit_s,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"{playbook} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--container", help="a running lab container to time the module on")
    parser.add_argument("--skip-inventory", action="store_true", help="only the single-host figures")
    parser.add_argument("--limit-s", type=int, default=3600, help="stop a playbook run after this many seconds")
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
        if options.skip_inventory:
            return
        path = inventory(workdir, options.hosts)
        # Each figure is printed as soon as it exists: a long per-task run must not take the first with it.
        module_s = timed_playbook(path, REPO / "playbooks" / "preflight.yml", options.limit_s)
        print(
            f"| playbooks/preflight.yml, {options.hosts} local hosts (one module call each + reports) "
            f"| {module_s:.1f} s |",
            flush=True,
        )
        per_task_s = timed_playbook(path, REPO / "tests" / "benchmarks" / "preflight_per_task.yml", options.limit_s)
        print(
            f"| tests/benchmarks/preflight_per_task.yml, {options.hosts} local hosts (one task per check) "
            f"| {per_task_s:.1f} s |",
            flush=True,
        )
        print(f"| ratio per-task / module | {per_task_s / module_s:.1f}x |")


if __name__ == "__main__":
    main()
