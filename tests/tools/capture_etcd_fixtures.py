# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Capture real etcdctl outputs as unit-test fixtures (see the README next to the fixtures).

python tests/tools/capture_etcd_fixtures.py VERSION ETCD ETCDCTL [RUNNER...]

Starts 3-member clusters of plain processes on 127.0.0.1 (through RUNNER, e.g. ``podman exec NAME``),
and records what the etcd_status module runs, in each state: healthy, with an unstarted learner,
one member down, a NOSPACE alarm, nothing answering.
"""

from __future__ import annotations

import json
import pathlib
import sys
import time

from etcd_local_cluster import LocalCluster

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "unit/plugins/module_utils/fixtures/etcd"
COMMANDS = {
    "member_list": ("member", "list"),
    "endpoint_status": ("endpoint", "status"),
    "endpoint_health": ("endpoint", "health"),
    "alarm_list": ("alarm", "list"),
}
NOSPACE_QUOTA_BYTES = 256 * 1024


def record(cluster, directory, names=tuple(COMMANDS)):
    directory.mkdir(parents=True, exist_ok=True)
    meta = {"endpoints": cluster.endpoints}
    for name in names:
        result = cluster.etcdctl_run("-w", "json", *COMMANDS[name], check=False)
        meta[name] = {"rc": result.returncode}
        (directory / f"{name}.stdout").write_text(result.stdout)
        (directory / f"{name}.stderr").write_text(result.stderr)
    (directory / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def main(version, etcd, etcdctl, *runner):
    root = FIXTURES / version
    data_root = f"/tmp/etcd-fixtures-{version}"
    runner = list(runner)

    cluster = LocalCluster(etcd, etcdctl, data_root + "/a", runner=runner).start()
    try:
        for index in range(5):
            cluster.etcdctl_run("put", f"/fixture/key{index}", f"value{index}")
        record(cluster, root / "healthy")
        learner_peer = "http://127.0.0.1:1"  # never started: a learner that has not joined yet
        add_learner(cluster, learner_peer)
        record(cluster, root / "learner", names=("member_list",))
        cluster.etcdctl_run("member", "remove", learner_member_id(cluster))
        cluster.stop_member(cluster.members[2])
        record(cluster, root / "member_down")
        cluster.stop()
        record(cluster, root / "all_down")
    finally:
        cluster.stop()

    nospace = LocalCluster(etcd, etcdctl, data_root + "/b", quota_bytes=NOSPACE_QUOTA_BYTES, runner=runner).start()
    try:
        filler = "x" * 16384
        for index in range(200):
            if cluster_full(nospace.etcdctl_run("put", f"/fill/{index}", filler, check=False)):
                break
        record(nospace, root / "nospace")
    finally:
        nospace.stop()


def add_learner(cluster, peer_url):
    # etcd refuses reconfiguration until every member has been up for a few seconds.
    for _attempt in range(30):
        result = cluster.etcdctl_run("member", "add", "learner1", "--learner", f"--peer-urls={peer_url}", check=False)
        if result.returncode == 0:
            return
        time.sleep(0.5)
    raise RuntimeError(f"member add --learner failed: {result.stderr}")


def cluster_full(result):
    return result.returncode != 0 and "database space exceeded" in result.stderr


def learner_member_id(cluster):
    members = json.loads(cluster.etcdctl_run("-w", "json", "member", "list").stdout)["members"]
    return next(format(m["ID"], "x") for m in members if m.get("isLearner"))


if __name__ == "__main__":
    main(*sys.argv[1:])
