"""The harness works: systemd hosts on the lab network, reachable by name, and the site report."""

import json
import os

import testinfra
import yaml

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


# site.yml's runtime play covers the control planes as well as the workers (issue 17): these run on cp1 and gpu1.
def test_containerd_runs(host):
    containerd = host.service("containerd")
    assert containerd.is_running
    assert containerd.is_enabled
    assert host.socket("unix:///run/containerd/containerd.sock").is_listening


def test_kubelet_configuration_is_written(host):
    config = host.file("/var/lib/kubelet/config.yaml")
    assert config.exists
    assert (config.user, config.group, config.mode) == ("root", "root", 0o600)
    data = yaml.safe_load(config.content_string)
    assert data["kind"] == "KubeletConfiguration"
    assert data["containerRuntimeEndpoint"] == "unix:///run/containerd/containerd.sock"


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
