"""kube_binaries in the lab: the real kubectl 1.34.5 downloaded from the web host's release layout, checked
against the pinned sha256 and installed; bad checksums and unpinned versions refused; the kubelet unit and
kubeadm drop-in pass systemd-analyze verify.

node1's /usr/local/bin/kubelet is a stand-in script (prepare.yml) that exists only so that systemd-analyze verify
can resolve the unit's ExecStart: these tests never start a kubelet and show nothing about one running.
Expected values are written out here (the sha256 is kubespray's value for kubectl 1.34.5 linux/amd64).
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

PROJECT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
SCENARIO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "tests/tools"))

from lab_testinfra import podman_host  # noqa: E402
from scenario_playbook import run_scenario_playbook  # noqa: E402

NODE = "molecule-k8s_binaries-node1"
KUBECTL = "/usr/local/bin/kubectl"
CACHED = "/var/cache/aiplatform/kube-binaries/v1.34.5/amd64/kubectl"
KUBECTL_SHA256 = "6a17dd8387783b3144a65535e38d02c351027e9718ea34a6c360476cb26d28bb"
BAD_SHA256 = "0123456789abcdef" * 4


def node():
    return podman_host(NODE)


def sha256(path):
    return node().check_output(f"sha256sum {path}").split()[0]


def test_kubectl_is_installed_with_the_pinned_sha256():
    installed = node().file(KUBECTL)
    assert installed.is_file
    assert (installed.user, installed.group, installed.mode) == ("root", "root", 0o755)
    assert sha256(KUBECTL) == KUBECTL_SHA256
    assert sha256(CACHED) == KUBECTL_SHA256


def test_kubectl_runs():
    version = json.loads(node().check_output(f"{KUBECTL} version --client -o json"))
    assert version["clientVersion"]["gitVersion"] == "v1.34.5"
    assert version["clientVersion"]["platform"] == "linux/amd64"


def test_only_the_listed_components_are_installed():
    assert not node().file("/usr/local/bin/kubeadm").exists
    assert not node().file("/var/cache/aiplatform/kube-binaries/v1.34.5/amd64/kubeadm").exists


def test_a_wrong_pinned_checksum_is_refused_and_the_installed_binary_kept():
    extra = {"kube_binaries_checksums": {"1.34.5": {"amd64": {"kubectl": f"sha256:{BAD_SHA256}"}}}}
    returncode, output = run_scenario_playbook(SCENARIO / "install.yml", extra)
    assert returncode != 0, output[-2000:]
    assert re.search(rf"The checksum for \S+ did not match {BAD_SHA256}; it was {KUBECTL_SHA256}", output), output[
        -2000:
    ]
    assert re.search(rf"{NODE} *: ok=\d+ +changed=0 .*failed=1", output), output[-2000:]
    assert sha256(KUBECTL) == KUBECTL_SHA256
    assert sha256(CACHED) == KUBECTL_SHA256


def test_a_version_without_a_pinned_checksum_is_refused_before_any_change():
    returncode, output = run_scenario_playbook(SCENARIO / "install.yml", {"kube_binaries_version": "1.35.0"})
    assert returncode != 0, output[-2000:]
    assert (
        "kube_binaries_version: 1.35.0 has no pinned sha256 for kubectl on amd64: add it to kube_binaries_checksums"
    ) in output, output[-2000:]
    assert "TASK [aiplatform.cluster.kube_binaries : Read the installed binaries' sha256]" not in output
    assert re.search(rf"{NODE} *: ok=\d+ +changed=0 .*failed=1", output), output[-2000:]
    assert not node().file("/var/cache/aiplatform/kube-binaries/v1.35.0").exists
    assert sha256(KUBECTL) == KUBECTL_SHA256


def test_the_kubelet_unit_and_drop_in_pass_systemd_analyze_verify():
    # verify loads the unit with its drop-ins from /etc/systemd/system/kubelet.service.d.
    result = node().run("systemd-analyze verify --man=no kubelet.service")
    assert result.rc == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr
    dropins = node().check_output("systemctl show -P DropInPaths kubelet.service")
    assert dropins == "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf"
    environment = node().check_output("systemctl show -P Environment kubelet.service")
    assert "KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml" in environment
    exec_start = node().check_output("systemctl show -P ExecStart kubelet.service")
    assert "path=/usr/local/bin/kubelet ;" in exec_start
    assert "argv[]=/usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS" in exec_start


def test_verify_refuses_a_unit_whose_binary_is_missing():
    # The check above can fail: the same unit with an ExecStart that does not exist is refused.
    node().check_output("mkdir -p /tmp/verify-check")
    node().check_output(
        "sed 's|^ExecStart=.*|ExecStart=/usr/local/bin/no-such-kubelet|' /etc/systemd/system/kubelet.service"
        " > /tmp/verify-check/kubelet-missing.service"
    )
    result = node().run("systemd-analyze verify --man=no /tmp/verify-check/kubelet-missing.service")
    assert result.rc != 0
    assert "no-such-kubelet" in result.stderr


def test_the_kubelet_is_enabled_not_started():
    assert node().check_output("systemctl is-enabled kubelet.service") == "enabled"
    assert node().run("systemctl is-active kubelet.service").stdout.strip() == "inactive"
