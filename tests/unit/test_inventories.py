"""Both shipped inventories honour the group contract of docs/inventory.md."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
# The contract's groups, read from where it is defined (roles/topology), not written again here.
_TOPOLOGY = yaml.safe_load((REPO / "roles" / "topology" / "defaults" / "main.yml").read_text())
CONTRACT = tuple(
    [g for part, g in _TOPOLOGY["topology_groups"].items() if part != "monitoring"]
    + [c["group"] for c in _TOPOLOGY["topology_etcd_clusters"]]
)


def inventory(name):
    cli = Path(sys.executable).with_name("ansible-inventory")
    out = subprocess.run(
        [str(cli), "-i", str(REPO / "inventories" / name), "--list"], capture_output=True, text=True, check=True
    ).stdout
    data = json.loads(out)

    def members(group):
        entry = data.get(group, {})
        hosts = set(entry.get("hosts", []))
        for child in entry.get("children", []):
            hosts |= members(child)
        return hosts

    return data, members


@pytest.mark.parametrize("name", ["lab", "sample"])
def test_every_contract_group_exists(name):
    _data, members = inventory(name)
    for group in CONTRACT:
        assert members(group), f"{name}: group {group} is empty"
    assert members("gpu") <= members("kube_node"), "every GPU host is a worker"


def test_lab_topology():
    data, members = inventory("lab")
    assert members("etcd_main") == members("kube_control_plane") == {"cp1", "cp2", "cp3"}
    assert members("etcd_events") == {"ev1", "ev2", "ev3"}
    assert members("gpu") == members("kube_node") == {"gpu1", "gpu2"}
    hostvars = data["_meta"]["hostvars"]
    addresses = [hostvars[h]["lab_ip"] for h in sorted(members("all"))]
    assert len(set(addresses)) == 8, "lab addresses are unique"
    assert {hostvars[h]["ansible_connection"] for h in hostvars} == {"ansible.builtin.ssh"}
    assert all(hostvars[h]["ansible_host"] == "{{ lab_ip | default(inventory_hostname) }}" for h in hostvars), (
        "SSH to each host's address"
    )
    # site.yml runs containerd on the control planes and the workers: their containers are privileged with
    # the runtime's roots as volumes; the events etcd hosts stay unprivileged.
    privileged = {h for h in hostvars if hostvars[h].get("lab_privileged")}
    assert privileged == {"cp1", "cp2", "cp3", "gpu1", "gpu2"}
    for host in privileged:
        assert hostvars[host]["lab_volumes"] == ["/var/lib/containerd", "/var/lib/containerd-stargz-grpc"]
    assert not any("lab_volumes" in hostvars[h] for h in ("ev1", "ev2", "ev3"))


def test_sample_is_production_shaped():
    data, members = inventory("sample")
    assert len(members("etcd_main")) == 5
    assert len(members("etcd_events")) == 5
    assert not members("etcd_main") & members("etcd_events"), "events etcd on dedicated hosts"
    assert len(members("kube_control_plane")) == 5
    assert len(data["gpu"]["children"]) >= 2, "several GPU pools"
    hostvars = data["_meta"]["hostvars"]
    assert {hostvars[h]["ansible_connection"] for h in hostvars} == {"ansible.builtin.ssh"}


def test_molecule_declares_the_lab_limits_of_node_os():
    lab = yaml.safe_load((REPO / "inventories" / "lab" / "group_vars" / "all" / "node_os.yml").read_text())
    base = yaml.safe_load((REPO / ".config" / "molecule" / "config.yml").read_text())
    molecule = base["provisioner"]["inventory"]["group_vars"]["all"]
    limits = {k: v for k, v in lab.items() if k.startswith("node_os_env_")}
    assert limits == {
        "node_os_env_sysctl_writable": ["net.*"],
        "node_os_env_load_modules": False,
        "node_os_env_swapoff": False,
        "node_os_env_adjust_clock": False,
        "node_os_env_limits_ok": True,
    }
    assert {k: molecule[k] for k in limits} == limits


@pytest.mark.parametrize("name", ["lab", "sample"])
def test_topology_playbook_accepts_the_inventory(name, tmp_path):
    # Every playbook starts with playbooks/topology.yml, whose first play runs on the implicit localhost
    # (no inventory_dir there) and validates the contract's variables as the inventory sets them. Its
    # tasks only link groups: no host is contacted.
    cli = Path(sys.executable).with_name("ansible-playbook")
    result = subprocess.run(
        [str(cli), "-i", str(REPO / "inventories" / name), str(REPO / "playbooks" / "topology.yml"),
         "-e", f"topology_report_dir={tmp_path}"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
