"""etcd operations on the scenario's real clusters: the health report, snapshot restore on 3.5 (etcdutl)
and 3.4 (etcdctl), defragmentation member by member with the leader last, NOSPACE recovery, and the
certificate renewal under a continuous writer.

The operations are playbook runs from the controller, in file order; no test takes testinfra's
per-host ``host`` fixture, so each runs exactly once (never skipped by host name) and reaches the members
through ``podman exec``. Each step leaves both clusters healthy for the next."""

import datetime
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import pytest
import testinfra
from cryptography import x509

FIRST = "molecule-etcd_ops-ops1"
# The kube_apiserver role's manifest and where its entry point stop sets it aside (docs/etcd-operations.md).
MANIFEST = "/etc/kubernetes/manifests/kube-apiserver.yaml"
STOPPED_MANIFEST = "/etc/kubernetes/kube-apiserver.stopped-for-etcd-restore.yaml"
HOSTS = ["molecule-etcd_ops-ops1", "molecule-etcd_ops-ops2", "molecule-etcd_ops-ops3"]
ADDRESSES = ["10.213.82.11", "10.213.82.12", "10.213.82.13"]
PROJECT = pathlib.Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
EPHEMERAL = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
# The report convention: topology_report_dir (the scenario sets it) / etcd_health / <cluster>.json and .md.
REPORTS = EPHEMERAL / "reports" / "etcd_health"
sys.path.insert(0, str(PROJECT / "tests" / "tools"))
from etcd_writer import WRITER, overlapping_downtimes, writer_figures  # noqa: E402

CLUSTERS = {
    "main": {"env": "/etc/etcd/main/etcdctl.env", "etcdctl": "/opt/etcd/v3.5.1/etcdctl", "version": "3.5.1"},
    "events": {"env": "/etc/etcd/events/etcdctl.env", "etcdctl": "/usr/bin/etcdctl", "version": "3.4.23"},
}


@pytest.fixture(scope="module")
def ops1():
    return testinfra.get_host(f"podman://{FIRST}")


def node(name):
    return testinfra.get_host(f"podman://{name}")


def flat(text):
    """Output with its line wrapping undone (the yaml callback folds long messages)."""
    return " ".join(text.split())


def playbook(name, *extra, json_output=False, inventories=()):
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(EPHEMERAL / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(PROJECT / "build" / "collections"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    }
    if json_output:
        env.update({"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json", "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1"})
    return subprocess.run(
        [
            "ansible-playbook",
            "-i",
            os.environ["MOLECULE_INVENTORY_FILE"],
            *(arg for inventory in inventories for arg in ("-i", str(inventory))),
            str(PROJECT / "playbooks" / name),
            *extra,
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=900,
    )


def etcdctl(host, cluster, *args, endpoints="all"):
    """etcdctl on ``host`` for ``cluster`` with the operations certificate (the role's env file)."""
    settings = CLUSTERS[cluster]
    command = f"set -a; . {settings['env']}; set +a; "
    if endpoints == "all":
        port = 2379 if cluster == "main" else 2382
        urls = ",".join(f"https://{address}:{port}" for address in ADDRESSES)
        command += f"export ETCDCTL_ENDPOINTS={urls}; "
    return host.run(command + " ".join([settings["etcdctl"], *args]))


def debug_messages(result, task_name):
    """The msg of every run of a debug task whose name starts with ``task_name`` (json callback output;
    a role's task is named ``<role> : <name>`` there)."""
    output = json.loads(result.stdout)
    return [
        outcome["msg"]
        for play in output["plays"]
        for task in play["tasks"]
        if task["task"]["name"].split(" : ", 1)[-1].startswith(task_name)
        for outcome in task["hosts"].values()
        if "msg" in outcome
    ]


def leader_name(host, cluster):
    statuses = json.loads(etcdctl(host, cluster, "-w", "json", "endpoint", "status").stdout)
    members = json.loads(etcdctl(host, cluster, "-w", "json", "member", "list").stdout)["members"]
    leader = statuses[0]["Status"]["leader"]
    return next(m["name"] for m in members if m["ID"] == leader)


def test_health_report_is_correct(ops1):
    result = playbook("etcd_health.yml")
    assert result.returncode == 0, result.stdout[-3000:]
    for cluster, settings in CLUSTERS.items():
        report = json.loads((REPORTS / f"{cluster}.json").read_text())
        status = report["status"]
        assert report["verdict"] == {"ok": True, "problems": []}
        assert sorted(m["name"] for m in status["members"]) == HOSTS
        assert status["versions"] == [settings["version"]]
        assert status["leader"]["name"] == leader_name(ops1, cluster)
        assert status["quorum"]["ok"] and status["quorum"]["healthy"] == 3
        assert status["alarms"] == []
        assert all(e["healthy"] for e in status["endpoints"])
        markdown = (REPORTS / f"{cluster}.md").read_text()
        assert f"etcd cluster {cluster}: HEALTHY" in markdown
    main = json.loads((REPORTS / "main.json").read_text())["status"]
    assert main["db"]["quota_bytes"] == 2 * 1024**2  # the scenario's per-cluster override
    events = json.loads((REPORTS / "events.json").read_text())["status"]
    assert events["db"]["quota_bytes"] == 8 * 1024**3  # the role's default


def test_health_fails_when_a_member_is_down(ops1):
    ops3 = node(HOSTS[2])
    assert ops3.run("systemctl stop etcd-events.service").rc == 0
    try:
        result = playbook("etcd_health.yml", "-e", '{"etcd_health_clusters": ["events"]}')
        assert result.returncode != 0
        assert "etcd cluster events is unhealthy" in flat(result.stdout + result.stderr)
        report = json.loads((REPORTS / "events.json").read_text())
        assert not report["verdict"]["ok"]
        assert any(p.startswith("https://10.213.82.13:2382") for p in report["verdict"]["problems"])
        assert report["status"]["quorum"]["up"] == 2 and report["status"]["quorum"]["ok"]
        assert "UNHEALTHY" in (REPORTS / "events.md").read_text()
    finally:
        ops3.run("systemctl start etcd-events.service")
    # Back in the cluster before the next step (a second playbook run would cost a minute here).
    wait_events_healthy(ops1)


def wait_events_healthy(ops1, seconds=30):
    """Wait until the events cluster answers a health check again (after a member was stopped and started)."""
    for _attempt in range(seconds):
        if etcdctl(ops1, "events", "endpoint", "health").rc == 0:
            break
        time.sleep(1)
    assert etcdctl(ops1, "events", "endpoint", "health").rc == 0


def test_rolling_restart_refuses_to_start_with_a_member_down(ops1):
    """With one member down, one restart more would lose the quorum: the restart must not begin (issue 13)."""
    ops3 = node(HOSTS[2])
    pids = [node(h).check_output("systemctl show -p MainPID --value etcd-events") for h in HOSTS[:2]]
    assert ops3.run("systemctl stop etcd-events.service").rc == 0
    try:
        result = playbook("etcd_rolling_restart.yml", "-e", '{"etcd_restart_clusters": ["events"]}')
        output = flat(result.stdout + result.stderr)
        assert result.returncode != 0, output[-3000:]
        assert "etcd cluster events is not fully up before its rolling restart" in output, output[-3000:]
        assert "https://10.213.82.13:2382" in output and "etcd_restart_allow_degraded" in output
        # No member was restarted.
        assert [node(h).check_output("systemctl show -p MainPID --value etcd-events") for h in HOSTS[:2]] == pids
    finally:
        ops3.run("systemctl start etcd-events.service")
    wait_events_healthy(ops1)


def main_pids():
    return [node(h).check_output("systemctl show -p MainPID --value etcd-main") for h in HOSTS]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"etcd_restore_cluster": "nosuch", "etcd_restore_snapshot": "/tmp/x.db"},
            "etcd_restore_cluster: must name a cluster",
        ),
        ({"etcd_restore_cluster": "main"}, "etcd_restore_snapshot: must be an absolute path"),
        (
            {"etcd_restore_cluster": "main", "etcd_restore_snapshot": "/tmp/x.db"},
            "etcd_restore_confirm: must repeat etcd_restore_cluster (main) to confirm the restore",
        ),
        (
            {"etcd_restore_cluster": "main", "etcd_restore_confirm": "events", "etcd_restore_snapshot": "/tmp/x.db"},
            "etcd_restore_confirm: must repeat etcd_restore_cluster (main) to confirm the restore",
        ),
        (
            {
                "etcd_restore_cluster": "main",
                "etcd_restore_confirm": "main",
                "etcd_restore_snapshot": "/var/backups/etcd/main/none.db",
                "etcd_restore_snapshot_host": FIRST,
            },
            "etcd_restore_snapshot: /var/backups/etcd/main/none.db is not a file",
        ),
    ],
)
def test_restore_refuses_bad_input_before_touching_hosts(ops1, extra, message):
    before = main_pids()
    result = playbook("etcd_restore.yml", "-e", json.dumps(extra))
    assert result.returncode != 0
    assert message in flat(result.stdout + result.stderr)
    assert main_pids() == before


def newest_backup(host, cluster):
    return host.check_output(f"ls -1t /var/backups/etcd/{cluster}/*.db | head -n 1")


def restore_request(cluster, snapshot, **more):
    return json.dumps(
        {
            "etcd_restore_cluster": cluster,
            "etcd_restore_confirm": cluster,
            "etcd_restore_snapshot": snapshot,
            "etcd_restore_snapshot_host": FIRST,
            **more,
        }
    )


def controller_copies():
    """Folders or files the restore may have left on the controller (this machine), by their name prefixes."""
    tmp = pathlib.Path(tempfile.gettempdir())
    return sorted(str(p) for pattern in ("aiplatform-etcd-restore-*", "etcd-restore-*") for p in tmp.glob(pattern))


def test_the_backup_writes_each_snapshots_identity(ops1):
    backup = playbook("etcd_backup.yml")
    assert backup.returncode == 0, backup.stdout[-3000:]
    for cluster in ("main", "events"):
        snapshot = newest_backup(ops1, cluster)
        identity = json.loads(ops1.file(f"{snapshot}.json").content_string)
        assert identity["cluster"] == cluster
        assert identity["snapshot"] == snapshot.rsplit("/", 1)[1]
        assert identity["sha256"] == ops1.check_output(f"sha256sum {snapshot}").split()[0]
        assert identity["status"]["totalKey"] > 0
        # Kept snapshots and identity files come in pairs (etcd_backup_keep of them).
        names = ops1.check_output(f"ls /var/backups/etcd/{cluster}").split()
        snapshots = [n for n in names if n.endswith(".db")]
        assert sorted(n for n in names if n.endswith(".json")) == sorted(f"{n}.json" for n in snapshots)


@pytest.mark.parametrize(
    ("prepare", "snapshot_of", "message"),
    [
        # An events snapshot, its identity file with it, named for a restore of main.
        ("cp {src} {dst} && cp {src}.json {dst}.json", "events", "is a snapshot of cluster 'events'"),
        # A main snapshot changed after its backup (one byte added).
        ("cp {src} {dst} && cp {src}.json {dst}.json && printf x >> {dst}", "main", "changed after the backup"),
        # A main snapshot without its identity file.
        ("cp {src} {dst}", "main", "has no identity file"),
    ],
)
def test_restore_refuses_a_snapshot_of_another_cluster_or_changed_or_unidentified(ops1, prepare, snapshot_of, message):
    dst = "/var/tmp/restore-candidate.db"
    ops1.check_output(f"rm -f {dst} {dst}.json && " + prepare.format(src=newest_backup(ops1, snapshot_of), dst=dst))
    before = main_pids()
    try:
        result = playbook("etcd_restore.yml", "-e", restore_request("main", dst))
        output = flat(result.stdout + result.stderr)
        assert result.returncode != 0, output[-3000:]
        assert message in output, output[-3000:]
        assert "etcd_restore_snapshot: " in output
        assert main_pids() == before
    finally:
        ops1.run(f"rm -f {dst} {dst}.json")


@pytest.mark.parametrize(("cluster", "wipe"), [("main", True), ("events", False)])
def test_restore_brings_back_the_keys_of_the_snapshot(ops1, cluster, wipe, tmp_path):
    for index in range(20):
        assert etcdctl(ops1, cluster, "put", f"/restore/before/{index}", f"v{index}").rc == 0
    backup = playbook("etcd_backup.yml")
    assert backup.returncode == 0, backup.stdout[-3000:]
    snapshot = newest_backup(ops1, cluster)
    for index in range(5):
        assert etcdctl(ops1, cluster, "put", f"/restore/after/{index}", "lost").rc == 0
    members = [node(h) for h in HOSTS]
    if wipe:
        # Disaster: every member of the cluster lost its data.
        for member in members:
            member.check_output(f"systemctl stop etcd-{cluster}.service && rm -rf /var/lib/etcd/{cluster}/member")

    copies_before = controller_copies()
    # ops1 as a control plane for this run (a second inventory source), with a stand-in static pod manifest:
    # the restore must set it aside before any member stops and put it back after the cluster is healthy.
    control_plane = tmp_path / "control-plane.yml"
    control_plane.write_text(f"all:\n  children:\n    kube_control_plane:\n      hosts:\n        {FIRST}:\n")
    ops1.check_output(f"mkdir -p /etc/kubernetes/manifests && echo 'stand-in {cluster}' > {MANIFEST}")
    try:
        result = playbook("etcd_restore.yml", "-e", restore_request(cluster, snapshot), inventories=[control_plane])
        assert result.returncode == 0, result.stdout[-4000:]
        order = [
            "Move the kube-apiserver's static pod manifest out of the kubelet's folder",
            f"Stop the members of this cluster only, {cluster}",
            "Wait until the restored cluster is healthy",
            "Put the kube-apiserver's static pod manifest back into the kubelet's folder",
        ]
        positions = [result.stdout.find(task) for task in order]
        assert -1 not in positions and positions == sorted(positions), list(zip(order, positions, strict=True))
        assert ops1.file(MANIFEST).content_string.strip() == f"stand-in {cluster}"
        assert not ops1.file(STOPPED_MANIFEST).exists
    finally:
        ops1.run(f"rm -rf /etc/kubernetes {STOPPED_MANIFEST}")
    # The snapshot went through a private folder on the controller, removed again.
    assert "Remove the controller's folder with its copy of the snapshot" in result.stdout
    assert controller_copies() == copies_before
    keys = etcdctl(ops1, cluster, "get", "--prefix", "--keys-only", "/restore/").stdout.split()
    assert sorted(keys) == sorted(f"/restore/before/{index}" for index in range(20))
    for member in members:
        # The old data directory was moved aside, not deleted.
        assert member.run(f"ls -d /var/lib/etcd/{cluster}.before-restore-*").rc == 0
        assert member.file(f"/var/lib/etcd/{cluster}").mode == 0o700
        assert member.file(f"/var/lib/etcd/{cluster}").user == "etcd"
    # The other cluster was not stopped.
    other = "events" if cluster == "main" else "main"
    assert all(m.service(f"etcd-{other}").is_running for m in members)
    assert etcdctl(ops1, cluster, "del", "--prefix", "/restore/").rc == 0


def defrag_summary(result, cluster):
    messages = [m for m in debug_messages(result, "Report the defragmentation of cluster") if m["cluster"] == cluster]
    assert len(messages) == 1, messages
    return messages[0]


def test_defrag_skips_members_below_the_threshold(ops1):
    # The usual command-line form: every value a string.
    result = playbook("etcd_defrag.yml", "-e", "etcd_defrag_clusters=events", json_output=True)
    assert result.returncode == 0, result.stdout[-3000:]
    summary = defrag_summary(result, "events")
    assert summary["defragmented"] == []
    assert sorted(summary["skipped"]) == HOSTS
    assert all(p["reason"].startswith("below threshold") for p in summary["plan"])


def test_defrag_runs_member_by_member_leader_last(ops1):
    leader = leader_name(ops1, "events")
    # key=value strings, as typed on a command line: the role types them.
    extra = [
        "-e",
        "etcd_defrag_clusters=events",
        "-e",
        "etcd_defrag_min_fragmentation=0",
        "-e",
        "etcd_defrag_min_free_bytes=0",
    ]
    result = playbook("etcd_defrag.yml", *extra, json_output=True)
    assert result.returncode == 0, result.stdout[-3000:]
    summary = defrag_summary(result, "events")
    assert sorted(summary["defragmented"]) == HOSTS
    assert summary["defragmented"][-1] == leader
    assert summary["healthy"] is True


def test_defrag_clears_a_nospace_alarm(ops1):
    # Overwrite one key with 256 KiB values until the 2 MiB quota of main is exhausted.
    ops1.check_output("head -c 262144 /dev/zero | tr '\\0' x > /tmp/etcd-filler")
    for _attempt in range(40):
        put = etcdctl(ops1, "main", "put", "/filler", "< /tmp/etcd-filler")
        if put.rc != 0:
            break
    assert "database space exceeded" in put.stderr
    assert "NOSPACE" in etcdctl(ops1, "main", "alarm", "list").stdout
    leader = leader_name(ops1, "main")

    # -e etcd_defrag_compact=true arrives as the string 'true'.
    result = playbook(
        "etcd_defrag.yml", "-e", "etcd_defrag_clusters=main", "-e", "etcd_defrag_compact=true", json_output=True
    )
    assert result.returncode == 0, result.stdout[-4000:]
    summary = defrag_summary(result, "main")
    assert summary["nospace_disarmed"] is True
    assert sorted(summary["defragmented"]) == HOSTS and summary["defragmented"][-1] == leader
    assert etcdctl(ops1, "main", "alarm", "list").stdout.strip() == ""
    assert etcdctl(ops1, "main", "put", "/after-nospace", "ok").rc == 0
    assert etcdctl(ops1, "main", "del", "/filler", "/after-nospace").rc == 0


# --- Certificate renewal (playbooks/etcd_cert_renew.yml) ----------------------------------------------------
PKI = "/etc/etcd/pki"
PORTS = {"main": {"server": 2379, "peer": 2380}, "events": {"server": 2382, "peer": 2383}}
# The certificate a member presents on a port, read with the operations client certificate (the peer listener
# asks for one too): what the member serves now, not what its files say.
SERVED = r"""
import json, socket, ssl, sys
a = json.loads(sys.argv[1])
ctx = ssl.create_default_context(cafile=a["ca"])
ctx.check_hostname = False
ctx.load_cert_chain(a["cert"], a["key"])
with socket.create_connection((a["address"], a["port"]), timeout=10) as raw:
    with ctx.wrap_socket(raw, server_hostname=a["address"]) as tls:
        print(tls.getpeercert(binary_form=True).hex())
"""


def certificate_file(name, path):
    return x509.load_pem_x509_certificate(node(name).file(path).content)


def served_serial(address, port):
    args = {"address": address, "port": port, "ca": f"{PKI}/ca.crt", "cert": f"{PKI}/ops-client.crt",
            "key": f"{PKI}/ops-client.key"}  # fmt: skip
    out = node(FIRST).check_output("python3 -c %s %s", SERVED, json.dumps(args))
    return x509.load_der_x509_certificate(bytes.fromhex(out)).serial_number


def member_serials(cluster):
    """{(host, kind): serial} of the members' files and of what they serve, kind server or peer."""
    files = {
        (h, k): certificate_file(h, f"{PKI}/{cluster}-{k}.crt").serial_number for h in HOSTS for k in PORTS[cluster]
    }
    served = {
        (h, k): served_serial(a, p) for h, a in zip(HOSTS, ADDRESSES, strict=True) for k, p in PORTS[cluster].items()
    }
    return files, served


def down_interval(name, cluster):
    """When the member's unit last stopped and became active again (CLOCK_MONOTONIC µs: the containers share
    the host kernel, so the members' intervals compare exactly)."""
    shown = node(name).check_output(
        f"systemctl show -p ActiveExitTimestampMonotonic -p ActiveEnterTimestampMonotonic etcd-{cluster}"
    )
    values = dict(line.split("=", 1) for line in shown.splitlines() if "=" in line)
    return int(values["ActiveExitTimestampMonotonic"]), int(values["ActiveEnterTimestampMonotonic"])


def test_certificate_renewal_reissues_and_restarts_while_the_cluster_keeps_serving(ops1):
    """playbooks/etcd_cert_renew.yml on the events cluster (3.4) while a writer puts keys through the members:
    every member's server and peer certificate and the operations client certificate are new (new serials,
    etcd_cert_validity_days long, the old serials served nowhere), each member restarted one at a time with
    the leader last, the cluster healthy, no acknowledged write lost, no writes failing back to back; the
    main cluster's certificates untouched."""
    files_before, served_before = member_serials("events")
    assert served_before == files_before  # the probe reads what the members serve
    main_before = member_serials("main")
    ops_client_before = certificate_file(FIRST, f"{PKI}/ops-client.crt").serial_number
    intervals_before = {h: down_interval(h, "events") for h in HOSTS}
    leader = leader_name(ops1, "events")

    # The writer uses the members' own operations client files, which the renewal replaces under it.
    urls = ",".join(f"https://{address}:2382" for address in ADDRESSES)
    ops1.run(f"cat > /usr/local/bin/etcd-writer <<'EOF'\n{WRITER}EOF\nchmod 755 /usr/local/bin/etcd-writer")
    ops1.run("rm -f /root/writer-renew.log /root/writer-renew.log.stop")
    started = ops1.run(
        "systemd-run --unit=etcd-writer-renew /usr/local/bin/etcd-writer /root/writer-renew.log /usr/bin/etcdctl "
        f"--cacert={PKI}/ca.crt --cert={PKI}/ops-client.crt --key={PKI}/ops-client.key --command-timeout=3s "
        f"--dial-timeout=2s --endpoints={urls}"
    )
    assert started.rc == 0, started.stderr
    time.sleep(3)
    began = time.time()
    result = playbook("etcd_cert_renew.yml", "-e", '{"etcd_renew_clusters": ["events"]}')
    window = (began, time.time())
    time.sleep(3)
    ops1.run("touch /root/writer-renew.log.stop")
    for _second in range(30):
        if ops1.run("systemctl is-active etcd-writer-renew").stdout.strip() != "active":
            break
        time.sleep(1)
    figures = writer_figures(ops1.check_output("cat /root/writer-renew.log").splitlines(), window)
    acked = figures.pop("acked_keys")
    print(json.dumps({"renewal_playbook_s": round(window[1] - window[0], 1)} | figures, indent=2))
    assert result.returncode == 0, result.stdout[-4000:]

    files_after, served_after = member_serials("events")
    now = datetime.datetime.now(datetime.UTC)
    for (name, kind), number in files_after.items():
        assert number != files_before[(name, kind)], f"{name} {kind} certificate not reissued"
        issued = certificate_file(name, f"{PKI}/events-{kind}.crt")
        lifetime = issued.not_valid_after_utc - issued.not_valid_before_utc
        assert abs(lifetime - datetime.timedelta(days=365)) < datetime.timedelta(minutes=5), (name, kind, lifetime)
        assert issued.not_valid_after_utc - now > datetime.timedelta(days=364)
    # Every member serves its new certificate, and no old serial is served anywhere.
    assert served_after == files_after
    assert not set(served_after.values()) & set(files_before.values())
    assert member_serials("main") == main_before
    ops_client = {certificate_file(h, f"{PKI}/ops-client.crt").serial_number for h in HOSTS}
    assert len(ops_client) == 1 and ops_client != {ops_client_before}

    # One member down at a time, every member restarted, the leader last.
    intervals = {h: down_interval(h, "events") for h in HOSTS}
    assert all(intervals[h][1] > intervals_before[h][1] for h in HOSTS), (intervals_before, intervals)
    assert not overlapping_downtimes(intervals), intervals
    assert max(intervals, key=lambda h: intervals[h][1]) == leader
    assert etcdctl(ops1, "events", "endpoint", "health").rc == 0

    stored = etcdctl(ops1, "events", "get", "writer/", "--prefix", "--keys-only")
    assert stored.rc == 0, stored.stderr
    keys = {int(k.split("/")[1]) for k in stored.stdout.split() if k.startswith("writer/")}
    assert acked, "the writer acknowledged no write"
    assert not sorted(set(acked) - keys), "acknowledged writes lost"
    assert figures["attempts_during_restarts"] > 0
    # As the rolling restart's test: a put in flight to the member that stops fails alone; failures back to
    # back are an outage.
    assert figures["longest_run_of_failed_writes"] <= 2, figures
