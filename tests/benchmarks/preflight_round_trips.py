"""Time the preflight's round trips per host against the floor (figures for docs/benchmarks.md).

In one run, on one inventory of N local-connection hosts (each with its own fixture root from
tests/tools/preflight_fixture_root.py, in the contract's node and gpu groups; forks 20):

(a) the floor: one trivial module call per host (ansible.builtin.ping), nothing else;
(a2) the node_preflight module alone, one call per host with the same checks and settings, no role, no
    reports: the floor for this work (the checks' own cost on top of (a));
(b) playbooks/preflight.yml with every report (<host>.json, summary.json, summary.md, junit.xml), the
    admission mark and the textfile metrics, as the role runs by default;
(c) tests/benchmarks/preflight_per_task.yml: the same checks written one Ansible task per check.

It prints the wall-clock and CPU seconds (ansible-playbook and every process it started: the controller's
forks and, with the local connection, the modules) of each ansible-playbook run, the load average when each
started, and the ratios b/a, b/a2 and c/b. CPU seconds per host are the basis for a projection to another
controller: they do not depend on what else shares the machine as much as wall-clock seconds do.
(b) must pass on every host and leave a report per host: a run that does not is refused,
not timed. --per-task-hosts M runs (c) on the first M hosts only (the per-task form takes many minutes at
200 hosts) and prints its figure scaled to N hosts, marked as scaled: the forks are saturated, so the cost
grows with the number of hosts.

Run: .venv/bin/python tests/benchmarks/preflight_round_trips.py [--hosts 200] [--per-task-hosts 200]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "tests" / "tools")]

from preflight_fixture_root import build_root, local_host_vars  # noqa: E402

FORKS = 20
ENV = {
    **os.environ,
    "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
    "ANSIBLE_COLLECTIONS_PATH": str(REPO / "build/collections"),
    "ANSIBLE_FORKS": str(FORKS),
    "ANSIBLE_NOCOLOR": "1",
    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
}
FLOOR_PLAY = """- name: The floor, one trivial module call per host
  hosts: all
  gather_facts: false
  tasks:
    - name: Touch the host once
      ansible.builtin.ping:
"""
MODULE_PLAY = """- name: The node_preflight module alone, one call per host
  hosts: all
  gather_facts: false
  tasks:
    - name: Run the checks, nothing else
      aiplatform.cluster.node_preflight:
        profiles: "{{ node_preflight_profiles }}"
        exclude: "{{ node_preflight_exclude }}"
        settings: "{{ node_preflight_settings }}"
        root: "{{ node_preflight_root }}"
        search_path: "{{ node_preflight_search_path }}"
"""


def inventory(workdir, roots, count):
    """An inventory of the first ``count`` hosts of ``roots`` (host name -> module parameters of its root)."""
    members = {}
    for name, params in list(roots.items())[:count]:
        members[name] = local_host_vars(params)
    data = {
        "all": {
            "vars": {"topology_report_dir": str(workdir / f"reports-{count}")},
            "children": {"kube_node": {"children": {"gpu": {"hosts": members}}}},
        }
    }
    path = workdir / f"inventory-{count}.json"
    path.write_text(json.dumps(data))
    return path


def build_roots(workdir, count):
    """One healthy fixture root per host, in host order."""
    roots = {}
    for number in range(1, count + 1):
        name = f"node{number:03d}"
        roots[name] = build_root(workdir / "roots" / name, hostname=name)
    return roots


def children_cpu_s():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_playbook(inventory_path, playbook, limit_s):
    """Wall-clock seconds, CPU seconds (ansible-playbook and every process it started) and the load average
    when it started."""
    load = os.getloadavg()[0]
    cpu = children_cpu_s()
    started = time.perf_counter()
    proc = subprocess.run(
        ["ansible-playbook", "-i", str(inventory_path), str(playbook)],
        env=ENV,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=limit_s,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"{playbook} failed (rc {proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    return elapsed, children_cpu_s() - cpu, load


def check_reports(report_dir, hosts):
    """(b) counts only when it did the whole job: a JSON report per host, and every host passed."""
    folder = report_dir / "preflight"
    missing = [name for name in hosts if not (folder / f"{name}.json").is_file()]
    summary = json.loads((folder / "summary.json").read_text())
    if missing or summary["passed"] != sorted(hosts) or not (folder / "junit.xml").is_file():
        sys.exit(f"preflight.yml left incomplete reports in {folder}: missing {missing[:5]}, summary {summary}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--per-task-hosts", type=int, help="run (c) on this many hosts and scale (default: --hosts)")
    parser.add_argument("--limit-s", type=int, default=3600, help="stop a playbook run after this many seconds")
    options = parser.parse_args()
    per_task_hosts = min(options.per_task_hosts or options.hosts, options.hosts)
    with tempfile.TemporaryDirectory(prefix="preflight-round-trips-") as scratch:
        workdir = Path(scratch)
        roots = build_roots(workdir, options.hosts)
        path = inventory(workdir, roots, options.hosts)
        floor_play, module_play = workdir / "floor.yml", workdir / "module.yml"
        floor_play.write_text(FLOOR_PLAY)
        module_play.write_text(MODULE_PLAY)
        print(f"| what ({options.hosts} local hosts, forks {FORKS}) | seconds | CPU seconds | load average at start |")
        print("| --- | --- | --- | --- |", flush=True)
        # Each figure is printed as soon as it exists: a long per-task run must not take the others with it.
        floor_s, floor_cpu, load = timed_playbook(path, floor_play, options.limit_s)
        print(
            f"| (a) floor: one ansible.builtin.ping per host | {floor_s:.1f} | {floor_cpu:.1f} | {load:.1f} |",
            flush=True,
        )
        module_s, module_cpu, load = timed_playbook(path, module_play, options.limit_s)
        print(
            f"| (a2) the node_preflight module alone, one call per host | {module_s:.1f} | {module_cpu:.1f} "
            f"| {load:.1f} |",
            flush=True,
        )
        preflight_s, preflight_cpu, load = timed_playbook(path, REPO / "playbooks" / "preflight.yml", options.limit_s)
        check_reports(workdir / f"reports-{options.hosts}", list(roots))
        print(
            f"| (b) playbooks/preflight.yml, every report, admission mark, textfile | {preflight_s:.1f} | "
            f"{preflight_cpu:.1f} | {load:.1f} |",
            flush=True,
        )
        per_task_path = inventory(workdir, roots, per_task_hosts)
        per_task_s, per_task_cpu, load = timed_playbook(
            per_task_path, REPO / "tests" / "benchmarks" / "preflight_per_task.yml", options.limit_s
        )
        factor = options.hosts / per_task_hosts
        scaled, scaled_cpu = per_task_s * factor, per_task_cpu * factor
        if per_task_hosts == options.hosts:
            label, figure = "", f"{per_task_s:.1f} | {per_task_cpu:.1f}"
        else:
            label = f" (run on {per_task_hosts} hosts, scaled)"
            figure = f"{scaled:.1f} ({per_task_s:.1f} measured) | {scaled_cpu:.1f} ({per_task_cpu:.1f} measured)"
        print(f"| (c) tests/benchmarks/preflight_per_task.yml, one task per check{label} | {figure} | {load:.1f} |")
        print(f"| b / a | {preflight_s / floor_s:.2f}x | {preflight_cpu / floor_cpu:.2f}x | |")
        print(f"| b / a2 | {preflight_s / module_s:.2f}x | {preflight_cpu / module_cpu:.2f}x | |")
        print(f"| c / b | {scaled / preflight_s:.1f}x | {scaled_cpu / preflight_cpu:.1f}x | |")
        walls = ", ".join(f"{value / options.hosts:.3f}" for value in (floor_s, module_s, preflight_s, scaled))
        cpus = ", ".join(f"{value / options.hosts:.3f}" for value in (floor_cpu, module_cpu, preflight_cpu, scaled_cpu))
        print(f"| per host: a, a2, b, c | {walls} | {cpus} | |")


if __name__ == "__main__":
    main()
