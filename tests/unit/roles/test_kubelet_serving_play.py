"""playbooks/kubelet_serving_csrs.yml approves only the kubelet-serving CSRs the inventory vouches for.

No Kubernetes apiserver can run here, so a stand-in kubectl on PATH serves a CSR list (real requests made
with cryptography, objects valid against the 1.34 OpenAPI schema) and records every call; `certificate
approve` marks the CSR Approved in its list, as the apiserver would. The playbook runs against local hosts
(two control planes and two nodes, their addresses pinned by kubelet_node_addresses, one node left to its
gathered facts).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import kube_schemas
from kubelet_csrs import csr, csr_list, request
from local_playbook import run_local_playbook

PLAY = "- ansible.builtin.import_playbook: aiplatform.cluster.kubelet_serving_csrs\n"
STANDIN = f"""#!{sys.executable}
import json, pathlib, sys
here = pathlib.Path(__file__).resolve().parent
with open(here / "calls.jsonl", "a", encoding="utf-8") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
args = sys.argv[1:]
assert args[0] == "--kubeconfig", args
args = args[2:]
state = here / "csrs.json"
listed = json.loads(state.read_text(encoding="utf-8"))
if args == ["get", "certificatesigningrequests", "--output", "json"]:
    print(json.dumps(listed))
elif args[:2] == ["certificate", "approve"]:
    for item in listed["items"]:
        if item["metadata"]["name"] == args[2]:
            item["status"]["conditions"] = [{{"type": "Approved", "status": "True", "reason": "KubectlApprove",
                                              "message": "approved", "lastUpdateTime": "2026-12-01T00:00:02Z"}}]
    state.write_text(json.dumps(listed), encoding="utf-8")
    print(f"certificatesigningrequest.certificates.k8s.io/{{args[2]}} approved")
else:
    sys.exit(f"stand-in kubectl: unexpected {{args}}")
"""
ADDRESSES = {"cp1": "10.0.0.11", "cp2": "10.0.0.12", "gpu1": "10.0.0.31"}
CSRS = [
    csr("csr-cp1", "cp1", request("cp1", ips=["10.0.0.11"])),
    csr("csr-gpu1", "gpu1", request("gpu1", ips=["10.0.0.31"])),
    csr("csr-gpu1-extra-ip", "gpu1", request("gpu1", ips=["10.0.0.31", "10.96.0.1"])),
    csr("csr-cp2-done", "cp2", request("cp2", ips=["10.0.0.12"]), conditions=["Approved"]),
    csr("csr-unknown", "gpu9", request("gpu9", ips=["10.0.0.39"])),
    csr("csr-gpu2-no-address", "gpu2", request("gpu2", ips=["203.0.113.254"])),
    csr("csr-client", "gpu1", request("gpu1"), signer="kubernetes.io/kube-apiserver-client-kubelet",
        usages=["digital signature", "client auth"]),
]  # fmt: skip


def setup(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(STANDIN, encoding="utf-8")
    kubectl.chmod(0o755)
    for document in CSRS:
        assert kube_schemas.validate(document, "1.34") == "openapi"
    (bin_dir / "csrs.json").write_text(json.dumps(csr_list(CSRS)), encoding="utf-8")
    (tmp_path / "admin.conf").write_text("apiVersion: v1\nkind: Config\n", encoding="utf-8")
    return bin_dir


def run(tmp_path: Path, bin_dir: Path, *args, **extra):
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    hosts = {name: {"kubelet_node_addresses": [address]} for name, address in ADDRESSES.items()}
    inventory = {
        "all": {
            "vars": local,
            "children": {
                "kube_control_plane": {"hosts": {"cp1": hosts["cp1"], "cp2": hosts["cp2"]}},
                "kube_node": {"hosts": {"gpu1": hosts["gpu1"], "gpu2": {}}},
            },
        }
    }
    variables = {
        "topology_state_dir": str(tmp_path / "state"),
        "topology_report_dir": str(tmp_path / "reports"),
        "kubelet_serving_csr_kubeconfig": str(tmp_path / "admin.conf"),
    } | extra
    play_dir = tmp_path / f"play{len(list(tmp_path.glob('play*')))}"
    play_dir.mkdir()
    path = f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin"
    return run_local_playbook(play_dir, PLAY, inventory, variables, args=args, env={"PATH": path})


def approvals(bin_dir: Path) -> list[str]:
    log = bin_dir / "calls.jsonl"
    calls = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []
    return [call[-1] for call in calls if call[2:4] == ["certificate", "approve"]]


def kubectl_calls(bin_dir: Path) -> int:
    log = bin_dir / "calls.jsonl"
    return len(log.read_text(encoding="utf-8").splitlines()) if log.exists() else 0


def localhost_changed(result) -> int:
    return int(re.search(r"localhost +: ok=\d+ +changed=(\d+)", result.stdout).group(1))


def test_only_the_requests_the_inventory_vouches_for_are_approved_once(tmp_path):
    bin_dir = setup(tmp_path)
    first = run(tmp_path, bin_dir)
    assert first.returncode == 0, first.stdout[-4000:]
    assert approvals(bin_dir) == ["csr-cp1", "csr-gpu1"]
    assert localhost_changed(first) == 1
    assert "2 approved, 3 left pending" in first.stdout
    output = " ".join(first.stdout.split())
    assert "csr-gpu1-extra-ip: ips: IP SANs 10.96.0.1 are not among the addresses of node gpu1" in output
    assert "csr-unknown: node: gpu9 is not a node of the inventory" in output
    assert "csr-gpu2-no-address: ips: IP SANs 203.0.113.254 are not among the addresses of node gpu2" in output
    # Decided requests and other signers are not reported as left pending by this approver.
    assert "csr-cp2-done:" not in output and "csr-client:" not in output

    again = run(tmp_path, bin_dir)
    assert again.returncode == 0, again.stdout[-4000:]
    assert approvals(bin_dir) == ["csr-cp1", "csr-gpu1"]
    assert localhost_changed(again) == 0, again.stdout[-3000:]


def test_check_mode_approves_nothing(tmp_path):
    bin_dir = setup(tmp_path)
    result = run(tmp_path, bin_dir, "--check")
    assert result.returncode == 0, result.stdout[-4000:]
    assert kubectl_calls(bin_dir) == 1  # the list only
    assert approvals(bin_dir) == []
    assert localhost_changed(result) == 0
    assert "2 to approve (check mode), 3 left pending" in result.stdout


def test_without_the_admin_kubeconfig_nothing_is_asked(tmp_path):
    bin_dir = setup(tmp_path)
    for kubeconfig in (str(tmp_path / "missing.conf"), ""):
        result = run(tmp_path, bin_dir, kubelet_serving_csr_kubeconfig=kubeconfig)
        assert result.returncode == 0, result.stdout[-4000:]
        assert "no certificate request listed or approved" in result.stdout
        assert localhost_changed(result) == 0
    assert kubectl_calls(bin_dir) == 0
