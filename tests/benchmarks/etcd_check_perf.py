"""Run `etcdctl check perf` against an etcd cluster of a molecule scenario and print its figures.

Usage: python tests/benchmarks/etcd_check_perf.py CONTAINER [CLIENT_PORT] [LOAD]
e.g.   python tests/benchmarks/etcd_check_perf.py molecule-apiserver-cp1 2379 s
Runs etcdctl inside the member's container with the operations client certificate, against every
member of the cluster (from `member list`). LOAD is etcdctl's workload: s, m, l, xl.
"""

from __future__ import annotations

import json
import subprocess
import sys

PKI = "/etc/etcd/pki"


def etcdctl(container: str, port: str, *args: str) -> str:
    command = (
        f"E=$(ls /opt/etcd/v*/etcdctl /usr/bin/etcdctl 2>/dev/null | head -1); $E --cacert={PKI}/ca.crt "
        f"--cert={PKI}/ops-client.crt --key={PKI}/ops-client.key --endpoints=https://127.0.0.1:{port} " + " ".join(args)
    )
    return subprocess.run(
        ["podman", "exec", container, "bash", "-c", command], capture_output=True, text=True, check=True
    ).stdout


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    container, port = argv[1], argv[2] if len(argv) > 2 else "2379"
    load = argv[3] if len(argv) > 3 else "s"
    members = json.loads(etcdctl(container, port, "member", "list", "-w", "json"))["members"]
    urls = ",".join(url for m in members for url in m["clientURLs"])
    version = etcdctl(container, port, "version").splitlines()[0]
    print(f"{version}; {len(members)} members; load {load}")
    result = subprocess.run(
        [
            "podman",
            "exec",
            container,
            "bash",
            "-c",
            f"E=$(ls /opt/etcd/v*/etcdctl /usr/bin/etcdctl 2>/dev/null | head -1); $E --cacert={PKI}/ca.crt "
            f"--cert={PKI}/ops-client.crt --key={PKI}/ops-client.key --endpoints={urls} check perf --load={load}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    print(result.stdout + result.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv))
