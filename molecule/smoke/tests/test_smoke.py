"""The harness works: systemd hosts on the lab network, reachable by name, and the site report."""

import json
import os

import testinfra

# The parts of the topology contract each host plays (host_report's summary.json).
EXPECTED_PARTS = {
    "molecule-smoke-cp1": {"control_plane", "etcd:main"},
    "molecule-smoke-gpu1": {"nodes", "gpu"},
}


def test_systemd_is_running(host):
    assert host.run("systemctl is-system-running").stdout.strip() == "running"


def test_hostname_is_the_lab_name(host):
    expected = "cp1" if host.backend.get_hostname().endswith("cp1") else "gpu1"
    assert host.check_output("hostname") == expected


def test_hosts_reach_each_other_by_name(host):
    for peer, address in (("cp1", "10.213.78.11"), ("gpu1", "10.213.78.31")):
        assert host.check_output(f"getent hosts {peer}").split()[0] == address
        # Bash's /dev/tcp needs no extra package; port 22 is closed, so a refusal proves routing.
        probe = host.run(f"timeout 3 bash -c 'exec 3<>/dev/tcp/{address}/9' ; echo rc=$?")
        assert "Connection refused" in probe.stderr, probe


def test_site_report_lists_every_host_with_its_groups():
    controller = testinfra.get_host("local://")
    folder = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "reports", "hosts")
    report = controller.file(os.path.join(folder, "summary.json"))
    assert report.exists
    assert report.mode == 0o644
    data = json.loads(report.content_string)
    assert {h["host"]: set(h["parts"]) for h in data["hosts"]} == EXPECTED_PARTS
    parts = {"control_plane": 1, "nodes": 1, "gpu": 1, "monitoring": 0, "etcd:main": 1, "etcd:events": 0}
    assert data["parts"] == parts
    for entry in data["hosts"]:
        assert entry["os"].startswith("Debian 12")
        assert entry["service_mgr"] == "systemd"
        assert entry["address"].startswith("10.213.78.")
