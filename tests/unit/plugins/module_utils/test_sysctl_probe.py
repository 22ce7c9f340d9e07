"""sysctl_probe reads a /proc/sys tree: value, presence, writability (on a temporary tree)."""

import os

from ansible_collections.aiplatform.cluster.plugins.module_utils.sysctl_probe import probe, sysctl_path


def test_probe(tmp_path):
    (tmp_path / "net" / "ipv4").mkdir(parents=True)
    (tmp_path / "net" / "ipv4" / "ip_forward").write_text("1\n")
    ports = tmp_path / "net" / "ipv4" / "ip_local_port_range"
    ports.write_text("32768\t60999\n")
    ports.chmod(0o444)
    found = probe(["net.ipv4.ip_forward", "net.ipv4.ip_local_port_range", "vm.max_map_count"], str(tmp_path))
    assert found["net.ipv4.ip_forward"] == {"present": True, "value": "1", "writable": True}
    assert found["net.ipv4.ip_local_port_range"]["value"] == "32768 60999"
    assert found["net.ipv4.ip_local_port_range"]["writable"] is (os.geteuid() == 0)
    assert found["vm.max_map_count"] == {"present": False, "value": None, "writable": False}
    assert sysctl_path("net.ipv4.ip_forward") == "/proc/sys/net/ipv4/ip_forward"
