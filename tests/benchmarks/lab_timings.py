"""Time the lab's life cycle on this machine and print the figures for docs/benchmarks.md.

Run with `make bench-lab` (add `BENCH_ARGS=--cold-image` to also time a build of the image from
nothing). Measures: the image step, lab-up from nothing, lab-up again (no change), site.yml on the
8 hosts, lab-down. Each step runs the real make target or playbook.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

STEPS = [
    ("lab image, cached (make lab-image)", ["make", "-s", "lab-image"]),
    ("lab-up from nothing, 8 hosts to systemd running", ["make", "-s", "lab-up"]),
    ("lab-up again, no change", ["make", "-s", "lab-up"]),
    ("site.yml on 8 hosts (facts + report)", ["ansible-playbook", "-i", "inventories/lab", "playbooks/site.yml"]),
    ("lab-down", ["make", "-s", "lab-down"]),
]


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


def main() -> int:
    subprocess.run(["make", "-s", "lab-down"], cwd=REPO, check=True, capture_output=True)
    steps = list(STEPS)
    if "--cold-image" in sys.argv[1:]:
        remove_lab_images()
        steps[0] = ("lab image from nothing (debootstrap + import)", STEPS[0][1])
    print(f"machine: {os.cpu_count()} CPUs, {platform.machine()}, kernel {platform.release()}")
    print("| step | seconds |")
    print("| --- | --- |")
    for title, cmd in steps:
        start = time.monotonic()
        result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
        elapsed = time.monotonic() - start
        if result.returncode != 0:
            print(result.stdout[-3000:], result.stderr[-2000:], file=sys.stderr)
            print(f"step failed: {title}", file=sys.stderr)
            return 1
        print(f"| {title} | {elapsed:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
