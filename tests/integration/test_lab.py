"""The lab's life cycle and the collection as users run it, against real systemd hosts.

The tests run in file order: `make demo` from a fresh machine's state converges the lab (site.yml from the
checkout: the one first converge of these tests), the lab is brought up again without change, site.yml
runs again from the built collection (the lab's idempotence proof), and the lab is removed without a
trace. `make test` therefore replaces a lab you had running.

On a fresh machine the first lab container used to be created before podman turned forwarding on, so it
kept ip_forward=0 in its own namespace and the demo failed: the first test sets the machine's ip_forward
to 0 (a fresh machine's value; podman sets it back to 1 when it sets up the lab's network) and restores
the previous value whatever happens.
"""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import pytest
from conftest import REPO, podman_json, recap, run

pytestmark = pytest.mark.lab

LAB_HOSTS = ["cp1", "cp2", "cp3", "ev1", "ev2", "ev3", "gpu1", "gpu2"]
LAB_NETWORK = "aiplatform-lab"
# `make demo` writes its reports here (the Makefile's topology_report_dir); the run by FQCN writes into the
# same folder and must find nothing to change, the controller-side reports included.
DEMO_REPORTS = REPO / "reports"
IP_FORWARD = Path("/proc/sys/net/ipv4/ip_forward")
# Hosts per part of the topology contract (host_report's summary.json), etcd per cluster.
EXPECTED_PARTS = {"control_plane": 3, "nodes": 2, "gpu": 2, "monitoring": 1, "etcd:main": 3, "etcd:events": 3}


def lab_containers():
    return podman_json("ps", "-a", "--filter", "label=io.aiplatform.lab=hosts")


def test_demo_from_a_fresh_machine_state_reports_every_host():
    run(["make", "-s", "lab-down"])
    previous = IP_FORWARD.read_text().strip()
    try:
        IP_FORWARD.write_text("0\n")
        assert IP_FORWARD.read_text().strip() == "0"
        # A first converge of the 8 lab hosts: 737 s alone here, more beside the scenarios of make test.
        result = run(["make", "demo"], check=False, timeout=3600)
    finally:
        IP_FORWARD.write_text(previous + "\n")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    counts = recap(result.stdout)
    assert set(LAB_HOSTS) <= set(counts)
    assert all(c["failed"] == 0 and c["unreachable"] == 0 for c in counts.values()), counts
    # Every lab host, the first one created included, forwards in its own namespace.
    for host in LAB_HOSTS:
        forward = run(["podman", "exec", f"aiplatform-lab-{host}", "cat", str(IP_FORWARD)]).stdout.strip()
        assert forward == "1", host
    # The host report: every host with its parts of the topology contract.
    report = json.loads((DEMO_REPORTS / "hosts" / "summary.json").read_text())
    assert sorted(h["host"] for h in report["hosts"]) == LAB_HOSTS
    assert report["parts"] == EXPECTED_PARTS
    by_host = {h["host"]: h for h in report["hosts"]}
    assert set(by_host["gpu2"]["parts"]) == {"nodes", "gpu"}
    assert set(by_host["ev1"]["parts"]) == {"monitoring", "etcd:events"}
    assert by_host["ev1"]["address"] == "10.213.77.21"
    table = (DEMO_REPORTS / "hosts" / "summary.md").read_text()
    assert sorted(re.findall(r"^\| (\w+) +\|", table, re.M)[1:]) == LAB_HOSTS
    assert table.count("| gpu") == 2
    # The fleet's preflight covers every host and passed time.sync for real (no waiver left for it);
    # join_nodes.yml preflights the nodes again at join time, into its own folder.
    assert json.loads((DEMO_REPORTS / "preflight" / "summary.json").read_text())["hosts"] == len(LAB_HOSTS)
    for host in LAB_HOSTS:
        data = json.loads((DEMO_REPORTS / "preflight" / f"{host}.json").read_text())
        results = {r["id"]: r for r in data["results"]}
        assert results["time.sync"]["status"] == "pass", (host, results["time.sync"])
        assert "time.sync" not in data["summary"]["ignored"]
    assert json.loads((DEMO_REPORTS / "join" / "preflight" / "summary.json").read_text())["hosts"] == 2


def test_lab_up_starts_every_host_with_systemd_running():
    run(["make", "-s", "lab-up"])
    containers = {c["Labels"]["io.aiplatform.lab.host"]: c for c in lab_containers()}
    assert sorted(containers) == sorted(LAB_HOSTS)
    for host in LAB_HOSTS:
        name = f"aiplatform-lab-{host}"
        assert containers[host]["State"] == "running"
        assert run(["podman", "exec", name, "systemctl", "is-system-running"]).stdout.strip() == "running"
        assert run(["podman", "exec", name, "hostname"]).stdout.strip() == host
    # Every host resolves every other by name to its inventory address.
    hosts_line = run(["podman", "exec", "aiplatform-lab-cp1", "getent", "hosts", "ev3"]).stdout.split()
    assert hosts_line[0] == "10.213.77.23"


def test_second_lab_up_changes_nothing():
    before = {c["Id"] for c in lab_containers()}
    result = run(["make", "-s", "lab-up"])
    changed = {host: counts["changed"] for host, counts in recap(result.stdout).items()}
    assert set(changed) == {"localhost", *LAB_HOSTS}
    assert all(n == 0 for n in changed.values()), changed
    assert {c["Id"] for c in lab_containers()} == before, "lab-up recreated containers"


@pytest.mark.parametrize(
    ("extra_var", "message"),
    [
        ("host_report_dir=reports", "host_report_dir: must be an absolute path"),
        ("host_report_write_files=maybe", "host_report_write_files"),
    ],
)
def test_site_playbook_rejects_bad_report_settings(extra_var, message):
    result = run(
        ["ansible-playbook", "-i", "inventories/lab", "playbooks/site.yml", "-e", extra_var],
        check=False,
    )
    assert result.returncode != 0
    assert message in result.stdout
    assert all(c["changed"] == 0 for c in recap(result.stdout).values())


def test_built_collection_installs_and_runs_site_by_fqcn(tmp_path):
    run(["ansible-galaxy", "collection", "build", "--output-path", str(tmp_path), str(REPO)])
    (tarball,) = tmp_path.glob("aiplatform-cluster-*.tar.gz")
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
    for expected in (
        "MANIFEST.json",
        "FILES.json",
        "meta/runtime.yml",
        "playbooks/site.yml",
        "roles/host_report/tasks/main.yml",
        "plugins/filter/host_report.py",
        "README.md",
    ):
        assert expected in names, f"{expected} missing from {tarball.name}"
    for unwanted in ("tests", "molecule", ".ci", ".venv", "build", "reports", "Makefile"):
        assert not any(n == unwanted or n.startswith(unwanted + "/") for n in names), f"{unwanted} shipped"

    installed = tmp_path / "collections"
    # Only the installed copy is on the collections path, for the install and the run: the checkout
    # link is not. Dependencies come from the `ansible` package in the venv (no Galaxy here).
    env = {"ANSIBLE_COLLECTIONS_PATH": str(installed)}
    run(["ansible-galaxy", "collection", "install", "--no-deps", "-p", str(installed), str(tarball)], env=env)
    assert (installed / "ansible_collections/aiplatform/cluster/MANIFEST.json").is_file()

    # `make demo` converged the lab from the checkout (the first test): this second run of the same site,
    # from the installed copy, is also the lab's idempotence proof.
    result = run(
        [
            "ansible-playbook",
            "-i",
            "inventories/lab",
            "aiplatform.cluster.site",
            "-e",
            f"topology_report_dir={DEMO_REPORTS}",
        ],
        env=env,
    )
    counts = recap(result.stdout)
    assert set(counts) >= set(LAB_HOSTS)
    assert all(c["failed"] == 0 and c["unreachable"] == 0 for c in counts.values())
    assert {host: counts[host]["changed"] for host in LAB_HOSTS} == dict.fromkeys(LAB_HOSTS, 0)
    report = json.loads((DEMO_REPORTS / "hosts" / "summary.json").read_text())
    assert report["parts"] == EXPECTED_PARTS


def test_lab_down_leaves_no_container_network_or_volume():
    run(["make", "-s", "lab-down"])
    assert lab_containers() == []
    assert run(["podman", "network", "exists", LAB_NETWORK], check=False).returncode != 0
    assert not [v for v in podman_json("volume", "ls") if "aiplatform" in json.dumps(v)]
    # A second lab-down on an absent lab succeeds and changes nothing.
    second = run(["make", "-s", "lab-down"])
    assert recap(second.stdout)["localhost"]["changed"] == 0
