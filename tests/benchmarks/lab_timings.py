"""Time the lab's life cycle on this machine and print the figures for docs/benchmarks.md.

Run with `make bench-lab` (add `BENCH_ARGS=--cold-image` to also time a build of the image from
nothing). Measures, in one run: the image step, lab-up from nothing, lab-up again (no change), site.yml's
first converge of the 8 hosts, site.yml again (must change nothing) and the ratio of the two (issue 14: a
no-change rerun at most 30% of the first converge), lab-down. Each step runs the real make target or
playbook, as `make demo` does (Ansible's own SSH connection). The site.yml runs carry ansible.posix's
profile_tasks; their output is kept in build/bench-lab/ with the slowest tasks printed after the table.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "build" / "bench-lab"
SITE = ["ansible-playbook", "-i", "inventories/lab", "playbooks/site.yml", "-e", f"topology_report_dir={OUT}/reports"]
FIRST = "site.yml, first converge of the 8 hosts"
SECOND = "site.yml again, no change"
STEPS = [
    ("lab image, cached (make lab-image)", ["make", "-s", "lab-image"]),
    ("lab-up from nothing, 8 hosts to systemd running", ["make", "-s", "lab-up"]),
    ("lab-up again, no change", ["make", "-s", "lab-up"]),
    (FIRST, SITE),
    (SECOND, SITE),
    ("lab-down", ["make", "-s", "lab-down"]),
]
RECAP = re.compile(r"^(?P<host>\S+)\s+: ok=\d+\s+changed=(?P<changed>\d+)", re.M)
PROFILE_LINE = re.compile(r"^(?P<task>.+?) -+ (?P<s>\d+\.\d+)s$", re.M)


def remove_lab_images() -> None:
    """Drop every tag of the lab image so that the next lab-image builds it from nothing."""
    listing = subprocess.run(
        ["podman", "images", "--format", "{{.Repository}}:{{.Tag}}", "localhost/aiplatform-lab"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if listing:
        subprocess.run(["podman", "rmi", *listing], check=True, capture_output=True)


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def main() -> int:
    subprocess.run(["make", "-s", "lab-down"], cwd=REPO, check=True, capture_output=True)
    OUT.mkdir(parents=True, exist_ok=True)
    steps = list(STEPS)
    if "--cold-image" in sys.argv[1:]:
        remove_lab_images()
        steps[0] = ("lab image from nothing (debootstrap + import)", STEPS[0][1])
    profile = {"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks", "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "25"}
    env = {**os.environ, **profile}
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} CPUs, {platform.machine()}, kernel {platform.release()}, load {load:.1f}")
    print("| step | seconds |")
    print("| --- | --- |")
    times: dict[str, float] = {}
    for title, cmd in steps:
        start = time.monotonic()
        result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False, env=env)
        times[title] = time.monotonic() - start
        (OUT / f"{slug(title)}.log").write_text(result.stdout + result.stderr, encoding="utf-8")
        if result.returncode != 0:
            print(result.stdout[-3000:], result.stderr[-2000:], file=sys.stderr)
            print(f"step failed: {title}", file=sys.stderr)
            return 1
        if title == SECOND:
            changed = {m["host"]: int(m["changed"]) for m in RECAP.finditer(result.stdout)}
            if any(changed.values()):
                print(f"the second site.yml changed something: {changed}", file=sys.stderr)
                return 1
        print(f"| {title} | {times[title]:.1f} |")
    print(f"| second / first site.yml | {times[SECOND] / times[FIRST]:.0%} |")
    for title in (FIRST, SECOND):
        log = (OUT / f"{slug(title)}.log").read_text(encoding="utf-8")
        print(f"\nslowest tasks, {title}:")
        for match in PROFILE_LINE.finditer(log.split("PLAY RECAP")[-1]):
            print(f"  {match['s']:>8} s  {match['task']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
