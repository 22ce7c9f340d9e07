"""The collection's kubeadm orchestration, read from the recording stand-in kubeadm (files/kubeadm_standin.py).

This verifies our orchestration, not kubeadm (docs/kubeadm.md#what-the-lab-shows): which kubeadm calls run
where, in which order, with which arguments and configuration kinds; that a converged cluster gets no
further call; that a partial init is refused with its files; that the token stays out of Ansible's output;
that the discovery hash pins the CA that init made (checked here with openssl, independently of the role);
that init and every join name the patches folder holding the kubelet role's patch, and that a changed kubelet
setting on the joined hosts is applied with `kubeadm upgrade node phase kubelet-config --patches` and the
kubelet restarted (the stand-in kubelet records its starts).

No test takes testinfra's per-host ``host`` fixture: each runs once from the controller, in file order (the
last ones run playbooks again and put back what they changed).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import testinfra
import yaml

PROJECT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
sys.path.insert(0, str(PROJECT / "tests/tools"))

import kube_schemas  # noqa: E402
from scenario_playbook import run_scenario_playbook  # noqa: E402

# Written out from molecule.yml and docs/kubeadm.md, never read from the roles.
PREFIX = "molecule-kubeadm-"
FIRST, JOINING, WORKERS = "cp1", ["cp2", "cp3"], ["node1", "node2"]
ENDPOINT = "10.213.98.10:6443"
CONFIG = "/etc/kubernetes/kubeadm/kubeadm-config.yaml"
JOIN_CONFIG = "/etc/kubernetes/kubeadm-join.yaml"
LOG = "/var/log/kubeadm-standin.jsonl"
PATCHES = "/etc/kubernetes/kubeadm/patches"
KUBELET_PATCH = "kubeletconfiguration+merge.yaml"
KUBELET_CONFIG = "/var/lib/kubelet/config.yaml"
KUBELET_STARTS = "/var/log/kubelet-standin.log"
UPGRADE = ["upgrade", "node", "phase", "kubelet-config", "--patches", PATCHES]
KUBECONFIG = EPHEMERAL / "state" / "kubeconfig" / "admin.conf"
VERSION = "1.34.2"
# The calls that change a cluster (`config validate` only reads).
CHANGING = ("init", "join", "token", "upgrade")


def node(name):
    return testinfra.get_host(f"podman://{PREFIX}{name}")


def calls(name, *, changing=False):
    """The stand-in's record on a host: one dict per kubeadm call, in order."""
    text = node(name).run(f"cat {LOG} 2>/dev/null || true").stdout
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [e for e in entries if e["argv"][0] in CHANGING] if changing else entries


def documents(name, path):
    return [d for d in yaml.safe_load_all(node(name).check_output(f"cat {path}")) if d]


def kind(docs, wanted):
    return next(d for d in docs if d.get("kind") == wanted)


def spki_sha256(pem):
    """sha256 of the certificate's SubjectPublicKeyInfo, computed with openssl (not with the role's code)."""
    public = subprocess.run(["openssl", "x509", "-pubkey", "-noout"], input=pem.encode(), capture_output=True,
                            check=True)  # fmt: skip
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=public.stdout, capture_output=True,
                         check=True)  # fmt: skip
    return hashlib.sha256(der.stdout).hexdigest()


def test_init_ran_once_on_the_first_control_plane_with_upload_certs():
    [init] = [c for c in calls(FIRST, changing=True) if c["argv"][0] == "init"]
    assert init["argv"] == ["init", "--config", CONFIG, "--upload-certs", "--skip-token-print"]
    # kube-proxy is off by default (Cilium replaces it): no KubeProxyConfiguration, its phase skipped.
    assert init["kinds"] == ["InitConfiguration", "ClusterConfiguration"]
    assert kind(documents(FIRST, CONFIG), "InitConfiguration")["skipPhases"] == ["addon/kube-proxy"]
    for name in JOINING + WORKERS:
        assert not [c for c in calls(name) if c["argv"][0] == "init"], name


def test_the_kubeadm_configuration_validates_and_carries_the_endpoint_and_large_cluster_settings():
    docs = documents(FIRST, CONFIG)
    for doc in docs:
        assert kube_schemas.validate(doc, VERSION) == "schema"
    cluster = kind(docs, "ClusterConfiguration")
    assert cluster["controlPlaneEndpoint"] == ENDPOINT
    manager = {a["name"]: a["value"] for a in cluster["controllerManager"]["extraArgs"]}
    assert manager["kube-api-qps"] == "100" and manager["leader-elect-lease-duration"] == "60s"
    assert node(FIRST).file(CONFIG).mode == 0o600


def test_the_other_control_planes_joined_with_the_same_certificate_key():
    key = kind(documents(FIRST, CONFIG), "InitConfiguration")["certificateKey"]
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    for name in JOINING:
        [join] = calls(name, changing=True)
        assert join["argv"] == ["join", "--config", JOIN_CONFIG]
        config = kind(documents(name, join["copy"]), "JoinConfiguration")
        assert kube_schemas.validate(config, VERSION) == "schema"
        assert config["controlPlane"]["certificateKey"] == key
        own = kind(documents(name, CONFIG), "InitConfiguration")["localAPIEndpoint"]
        assert config["controlPlane"]["localAPIEndpoint"] == own
        assert config["discovery"]["bootstrapToken"]["apiServerEndpoint"] == ENDPOINT


def test_every_join_is_validated_by_kubeadm_before_it_runs():
    for name in JOINING + WORKERS:
        entries = calls(name)
        validate = [i for i, c in enumerate(entries) if c["argv"][:2] == ["config", "validate"]]
        join = [i for i, c in enumerate(entries) if c["argv"][0] == "join"]
        assert validate and join and validate[0] < join[0], (name, entries)


def test_workers_joined_with_a_token_pinned_to_the_real_ca():
    ca_hash = "sha256:" + spki_sha256(node(FIRST).check_output("cat /etc/kubernetes/pki/ca.crt"))
    created = [c["argv"][2] for c in calls(FIRST, changing=True) if c["argv"][:2] == ["token", "create"]]
    for name in WORKERS:
        [join] = calls(name, changing=True)
        assert join["argv"] == ["join", "--config", JOIN_CONFIG]
        config = kind(documents(name, join["copy"]), "JoinConfiguration")
        assert kube_schemas.validate(config, VERSION) == "schema"
        assert "controlPlane" not in config
        token = config["discovery"]["bootstrapToken"]
        assert token["caCertHashes"] == [ca_hash]
        assert token["apiServerEndpoint"] == ENDPOINT
        assert token["token"] in created


def test_tokens_are_short_lived_and_made_once_per_join_run():
    creates = [c["argv"] for c in calls(FIRST, changing=True) if c["argv"][0] == "token"]
    # One for the control planes' joins, one for the workers' single batch (join_nodes_batch_size 10).
    assert len(creates) == 2, creates
    for argv in creates:
        assert re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}", argv[2])
        assert argv[argv.index("--ttl") + 1] == "15m"
    assert creates[0][2] != creates[1][2]


def test_no_join_configuration_is_left_behind():
    for name in JOINING + WORKERS:
        assert not node(name).file(JOIN_CONFIG).exists, name


def test_the_admin_kubeconfig_is_fetched_private():
    assert stat.S_IMODE(KUBECONFIG.stat().st_mode) == 0o600
    assert stat.S_IMODE(KUBECONFIG.parent.stat().st_mode) == 0o700
    fetched = KUBECONFIG.read_text(encoding="utf-8")
    assert fetched.strip() == node(FIRST).check_output("cat /etc/kubernetes/admin.conf").strip()


def test_a_converged_cluster_gets_no_kubeadm_call():
    # molecule ran converge, then idempotence and check mode: each changing call happened once only.
    before = {name: len(calls(name, changing=True)) for name in [FIRST, *JOINING, *WORKERS]}
    code, output = run_scenario_playbook(PROJECT / "playbooks/kubeadm.yml", {})
    assert code == 0, output[-3000:]
    code, output = run_scenario_playbook(PROJECT / "playbooks/join_nodes.yml", {})
    assert code == 0, output[-3000:]
    assert {name: len(calls(name, changing=True)) for name in before} == before
    assert before == {FIRST: 3, "cp2": 1, "cp3": 1, "node1": 1, "node2": 1}


def test_a_rejoined_worker_never_shows_its_token_in_the_output():
    worker = node(WORKERS[1])
    worker.check_output("mkdir -p /root/kept && mv /etc/kubernetes/kubelet.conf /etc/kubernetes/pki/ca.crt /root/kept/")
    code, output = run_scenario_playbook(PROJECT / "playbooks/join_nodes.yml", {}, "-vv")
    assert code == 0, output[-3000:]
    join = calls(WORKERS[1], changing=True)[-1]
    token = kind(documents(WORKERS[1], join["copy"]), "JoinConfiguration")["discovery"]["bootstrapToken"]["token"]
    assert token not in output
    assert token.split(".")[1] not in output
    key = kind(documents(FIRST, CONFIG), "InitConfiguration")["certificateKey"]
    assert key not in output
    assert "censored" in output


def test_init_and_every_join_name_the_patches_folder_with_the_kubelet_patch():
    [init] = [c for c in calls(FIRST, changing=True) if c["argv"][0] == "init"]
    assert kind(documents(FIRST, CONFIG), "InitConfiguration")["patches"] == {"directory": PATCHES}
    assert init["patches_dir"] == PATCHES and init["kubelet_patches"] == [KUBELET_PATCH]
    for name in JOINING + WORKERS:
        # node2 joined twice (the rejoin test above).
        joins = [c for c in calls(name, changing=True) if c["argv"][0] == "join"]
        assert joins, name
        for join in joins:
            assert kind(documents(name, join["copy"]), "JoinConfiguration")["patches"] == {"directory": PATCHES}
            assert join["patches_dir"] == PATCHES and join["kubelet_patches"] == [KUBELET_PATCH], name


def test_the_kubelet_patch_holds_the_role_settings_and_kubeadm_wrote_them():
    for name in [FIRST, *JOINING, *WORKERS]:
        host = node(name)
        patch_file = host.file(f"{PATCHES}/{KUBELET_PATCH}")
        assert patch_file.mode == 0o600, name
        patch = yaml.safe_load(patch_file.content_string)
        assert kube_schemas.validate(patch, VERSION) == "schema"
        # The role's defaults and CIS settings, written out (roles/kubelet/defaults/main.yml).
        assert patch["maxPods"] == 110 and patch["podPidsLimit"] == 16384 and patch["readOnlyPort"] == 0
        assert patch["evictionHard"]["memory.available"] == "500Mi"
        assert set(patch["systemReserved"]) >= {"cpu", "memory"}
        # kubeadm's config.yaml (the stand-in's): its cluster fields with the patch merged over them.
        written = yaml.safe_load(host.file(KUBELET_CONFIG).content_string)
        assert written["staticPodPath"] == "/etc/kubernetes/manifests"
        assert written["maxPods"] == 110 and written["systemReserved"] == patch["systemReserved"]
        assert written["evictionHard"] == {"standin.available": "1%"} | patch["evictionHard"]
        # kubeadm started the kubelet, with the drop-in's flags.
        assert host.service("kubelet").is_running, name
        assert f"--config={KUBELET_CONFIG}" in host.check_output(f"tail -n 1 {KUBELET_STARTS}")


def starts(name):
    return len(node(name).check_output(f"cat {KUBELET_STARTS}").splitlines())


def test_a_changed_kubelet_setting_reaches_the_joined_hosts_through_kubeadm():
    hosts = [FIRST, *JOINING, *WORKERS]
    before = {name: (len(calls(name, changing=True)), starts(name)) for name in hosts}
    try:
        code, output = run_scenario_playbook(PROJECT / "molecule/kubeadm/kubelet.yml", {"kubelet_max_pods": 120})
        assert code == 0, output[-3000:]
        for name in hosts:
            new = calls(name, changing=True)[before[name][0] :]
            assert [c["argv"] for c in new] == [UPGRADE], (name, new)
            assert new[0]["kubelet_patches"] == [KUBELET_PATCH]
            # Restarted once, after kubeadm wrote the new configuration.
            assert starts(name) == before[name][1] + 1, name
            last_start = float(node(name).check_output(f"tail -n 1 {KUBELET_STARTS}").split()[0])
            assert last_start > new[0]["time"], name
            assert yaml.safe_load(node(name).file(KUBELET_CONFIG).content_string)["maxPods"] == 120
    finally:
        code, output = run_scenario_playbook(PROJECT / "molecule/kubeadm/kubelet.yml", {})
    assert code == 0, output[-3000:]
    for name in hosts:
        assert yaml.safe_load(node(name).file(KUBELET_CONFIG).content_string)["maxPods"] == 110
    # Converged again: a further run calls no kubeadm and restarts nothing.
    after = {name: (len(calls(name, changing=True)), starts(name)) for name in hosts}
    code, output = run_scenario_playbook(PROJECT / "molecule/kubeadm/kubelet.yml", {})
    assert code == 0, output[-3000:]
    assert {name: (len(calls(name, changing=True)), starts(name)) for name in hosts} == after


@pytest.fixture
def partial_cp3():
    """cp3 with one file of a control-plane join missing (a partial join); put back afterwards."""
    cp3 = node("cp3")
    cp3.check_output("mv /etc/kubernetes/manifests/kube-scheduler.yaml /root/kube-scheduler.yaml")
    yield cp3
    cp3.check_output("mv /root/kube-scheduler.yaml /etc/kubernetes/manifests/kube-scheduler.yaml")


def test_a_partial_init_is_refused_with_its_files(partial_cp3):
    before = len(calls("cp3", changing=True))
    code, output = run_scenario_playbook(PROJECT / "playbooks/kubeadm.yml", {})
    assert code != 0
    assert "cp3: a partial kubeadm init or join" in output
    # The list as the callback prints it (quotes may be doubled): exactly the one file missing.
    missing = r"missing \[\W{0,2}/etc/kubernetes/manifests/kube-scheduler\.yaml\W{0,2}\]"
    assert re.search(missing, output), output[-3000:]
    assert "/etc/kubernetes/admin.conf" in output and "kubeadm reset" in output
    assert len(calls("cp3", changing=True)) == before
