"""kube-apiserver configuration on cp1-cp3, wired to the scenario's real etcd clusters.

No kube-apiserver binary exists here: the tests check what the role renders (modes, owners, schemas,
CIS 1.2 flags, the etcd wiring) and that the etcd client certificate named in the rendered
configuration really authenticates to every member of both etcd clusters.
"""

from __future__ import annotations

import base64
import os
import re
import shlex
import shutil
import sys
from pathlib import Path

import pytest
import yaml

PROJECT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
SCENARIO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "tests/tools"))

import cis_apiserver  # noqa: E402
import kube_schemas  # noqa: E402
from lab_testinfra import from_molecule, podman_host  # noqa: E402
from lab_testinfra import inventory_vars as variables  # noqa: E402
from scenario_playbook import run_scenario_playbook  # noqa: E402
from tls_probe import refused_for_missing_certificate, tls_probe  # noqa: E402

# Written out from docs/kube-apiserver.md and the scenario (molecule.yml), never read from the role.
MODES = {
    "molecule-apiserver-cp1": "kubeadm",
    "molecule-apiserver-cp2": "kubeadm",
    "molecule-apiserver-cp3": "static_pod",
}
# The control planes only: ev1 is an events member for the etcd tests (molecule.yml).
testinfra_hosts = list(MODES)
KUBERNETES_VERSION = "1.34.2"
ENCRYPTION_PROVIDER = "secretbox"
APF_NAMES = ["aiplatform-node-heartbeats", "aiplatform-controllers", "aiplatform-node-agents", "aiplatform-batch"]
PLATFORMS = yaml.safe_load((SCENARIO / "molecule.yml").read_text(encoding="utf-8"))["platforms"]
ADDRESS = {p["name"]: p["ip"] for p in PLATFORMS}
KUBEADM_FILES = [
    "/etc/kubernetes/kubeadm/kubeadm-config.yaml",
    "/etc/kubernetes/kubeadm/patches/kube-apiserver0+strategic.yaml",
]
STATIC_POD_FILES = ["/etc/kubernetes/manifests/kube-apiserver.yaml"]
COMMON_FILES = [
    "/etc/kubernetes/pki/etcd/ca.crt",
    "/etc/kubernetes/pki/apiserver-etcd-client.crt",
    "/etc/kubernetes/pki/apiserver-etcd-client.key",
    "/etc/kubernetes/apiserver/audit-policy.yaml",
    "/etc/kubernetes/apiserver/encryption-config.yaml",
    "/etc/kubernetes/apiserver/admission-config.yaml",
]
DIRECTORIES = [
    "/etc/kubernetes/pki",
    "/etc/kubernetes/pki/etcd",
    "/etc/kubernetes/apiserver",
    "/etc/kubernetes/apf",
    "/var/log/kubernetes/audit",
]


@pytest.fixture(scope="module")
def host(_testinfra_host):
    return from_molecule(_testinfra_host)


def mode(host):
    return MODES[host.inventory_name]


_CONTENT = {}


def documents(host, path):
    """The YAML documents of a file on the host (read once per host and path)."""
    key = (host.inventory_name, path)
    if key not in _CONTENT:
        _CONTENT[key] = host.file(path).content_string
    return [d for d in yaml.safe_load_all(_CONTENT[key]) if d is not None]


def stat(host, paths):
    """path -> (octal mode, owner, group, type) in one command; missing paths are left out."""
    quoted = " ".join(shlex.quote(p) for p in paths)
    lines = host.run(f"stat -c '%n|%a|%U|%G|%F' {quoted} 2>/dev/null").stdout.splitlines()
    return {n: (int(mode, 8), user, group, kind) for n, mode, user, group, kind in (line.split("|") for line in lines)}


def rendered_flags(host):
    """The apiserver's flags as kubeadm or the kubelet would start it, from the rendered file."""
    if mode(host) == "kubeadm":
        init, cluster = documents(host, KUBEADM_FILES[0])
        return cis_apiserver.flags_of_kubeadm(init, cluster)
    return cis_apiserver.flags_of_pod(documents(host, STATIC_POD_FILES[0])[0])


def members(host, group, port):
    return [f"https://{ADDRESS[name]}:{port}" for name in variables(host)["groups"][group]]


def apf_files():
    return [
        f"/etc/kubernetes/apf/{kind}-{name}.yaml"
        for kind in ("prioritylevelconfiguration", "flowschema")
        for name in APF_NAMES
    ]


def test_files_are_rendered_0600_root_and_only_for_the_host_mode(host):
    own, other = (KUBEADM_FILES, STATIC_POD_FILES) if mode(host) == "kubeadm" else (STATIC_POD_FILES, KUBEADM_FILES)
    found = stat(host, COMMON_FILES + own + apf_files() + DIRECTORIES + other)
    for path in COMMON_FILES + own + apf_files():
        assert found.get(path) == (0o600, "root", "root", "regular file"), path
    for path in DIRECTORIES:
        assert found.get(path) == (0o700, "root", "root", "directory"), path
    for path in other:
        assert path not in found, path


def test_etcd_servers_are_the_main_members_and_the_override_exactly_the_events_members(host):
    flags = rendered_flags(host)
    assert flags["etcd-servers"].split(",") == members(host, "etcd_main", 2379)
    assert flags["etcd-servers-overrides"] == "/events#" + ";".join(members(host, "etcd_events", 2382))
    # cp1 is no events member: the override follows etcd_events, not the control plane group.
    assert f"https://{ADDRESS['molecule-apiserver-cp1']}:2382" not in flags["etcd-servers-overrides"]


def etcdctl(host, flags, endpoint, *args, client_certificate=True):
    tls = [f"--cacert={flags['etcd-cafile']}"]
    if client_certificate:
        tls += [f"--cert={flags['etcd-certfile']}", f"--key={flags['etcd-keyfile']}"]
    # The scenario installs etcd from the upstream archive (molecule.yml), which puts etcdctl in its own folder.
    etcd_version = variables(host)["etcd_version"]
    command = [f"/opt/etcd/v{etcd_version}/etcdctl", *tls, "--command-timeout=10s", f"--endpoints={endpoint}", *args]
    return host.run(" ".join(shlex.quote(c) for c in command))


def test_the_configured_etcd_client_certificate_authenticates_to_every_member_of_both_clusters(host):
    flags = rendered_flags(host)
    main, events = members(host, "etcd_main", 2379), members(host, "etcd_events", 2382)
    assert (len(main), len(events)) == (3, 3)
    # endpoint health reads a key from each endpoint separately: one TLS client login per member.
    health = etcdctl(host, flags, ",".join(main + events), "endpoint", "health")
    assert health.rc == 0, health.stderr
    for endpoint in main + events:
        assert f"{endpoint} is healthy" in health.stdout + health.stderr, endpoint
    for cluster in (main, events):
        written = etcdctl(host, flags, ",".join(cluster), "put", f"apiserver-probe/{host.inventory_name}", "ok")
        assert written.rc == 0, f"{cluster}: {written.stderr}"


def test_etcd_refuses_the_same_request_without_the_client_certificate(host):
    flags = rendered_flags(host)
    for endpoint in members(host, "etcd_main", 2379)[:1] + members(host, "etcd_events", 2382)[:1]:
        address, port = endpoint.removeprefix("https://").rsplit(":", 1)
        # Positive control on the same endpoint, then the same request without the certificate: refused
        # in the TLS handshake for the missing certificate (not merely "failed": a stopped member fails too).
        answered = tls_probe(host, address, int(port), flags["etcd-cafile"], cert=flags["etcd-certfile"],
                             key=flags["etcd-keyfile"])  # fmt: skip
        assert answered["outcome"] == "answered" and "200 OK" in answered["detail"], (endpoint, answered)
        refused = tls_probe(host, address, int(port), flags["etcd-cafile"])
        assert refused_for_missing_certificate(refused), (endpoint, refused)
        put = etcdctl(host, flags, endpoint, "put", "apiserver-probe/anonymous", "x", client_certificate=False)
        assert put.rc != 0, endpoint


def test_every_rendered_object_validates(host):
    version = KUBERNETES_VERSION
    paths = [p for p in COMMON_FILES + KUBEADM_FILES[:1] + STATIC_POD_FILES + apf_files() if p.endswith(".yaml")]
    checked = {}
    for path in stat(host, paths):
        for document in documents(host, path):
            checked[f"{path}:{document['kind']}"] = kube_schemas.validate(document, version)
    kinds = {key.rsplit(":", 1)[1] for key in checked}
    expected = {"Policy", "EncryptionConfiguration", "AdmissionConfiguration"}
    expected |= {"FlowSchema", "PriorityLevelConfiguration"}
    expected |= {"InitConfiguration", "ClusterConfiguration"} if mode(host) == "kubeadm" else {"Pod"}
    assert kinds == expected
    assert checked[f"{apf_files()[0]}:PriorityLevelConfiguration"] == "openapi"


def test_every_cis_item_holds_in_the_rendered_flags(host):
    assert cis_apiserver.misses(rendered_flags(host)) == []
    encryption = documents(host, "/etc/kubernetes/apiserver/encryption-config.yaml")[0]
    assert cis_apiserver.encryption_misses(encryption) == []


def test_encryption_key_is_the_controller_key_32_bytes_on_every_replica(host):
    encryption = documents(host, "/etc/kubernetes/apiserver/encryption-config.yaml")[0]
    provider = encryption["resources"][0]["providers"][0]
    secret = provider[ENCRYPTION_PROVIDER]["keys"][0]["secret"]
    key_file = EPHEMERAL / "kube-apiserver-secrets" / f"encryption-key-{ENCRYPTION_PROVIDER}"
    assert len(base64.b64decode(secret)) == 32
    assert base64.b64decode(secret).decode() == key_file.read_text(encoding="utf-8").strip()
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_limits_follow_the_tier_and_goaway_the_balancer(host):
    flags = rendered_flags(host)
    assert (flags["max-requests-inflight"], flags["max-mutating-requests-inflight"]) == ("2000", "1000")
    assert flags["goaway-chance"] == "0.001"
    assert flags["enable-admission-plugins"] == "NodeRestriction,EventRateLimit"
    admission = documents(host, "/etc/kubernetes/apiserver/admission-config.yaml")[0]
    assert admission["plugins"][0]["configuration"]["limits"] == [
        {"type": "Server", "qps": 100, "burst": 200},
        {"type": "Namespace", "qps": 20, "burst": 50, "cacheSize": 2000},
    ]


def encryption_configs():
    """Control plane -> sha256 of its encryption-config.yaml (read through podman, not the role)."""
    return {
        name: podman_host(name).check_output("sha256sum /etc/kubernetes/apiserver/encryption-config.yaml").split()[0]
        for name in MODES
    }


def test_a_fresh_controller_store_stops_the_role_and_adopts_the_hosts_key_only_on_request():
    """A controller without the encryption key (a fresh clone, a CI runner, another operator) against the
    configured control planes: stopped before any host changes, nothing written; with
    kube_apiserver_encryption_adopt_host_key the hosts' key goes into the empty store, the hosts unchanged."""
    key = (EPHEMERAL / "kube-apiserver-secrets" / f"encryption-key-{ENCRYPTION_PROVIDER}").read_text(encoding="utf-8")
    fresh = EPHEMERAL / "fresh-kube-apiserver-secrets"
    shutil.rmtree(fresh, ignore_errors=True)
    before = encryption_configs()
    playbook = PROJECT / "playbooks/kube_apiserver.yml"
    returncode, output = run_scenario_playbook(playbook, {"kube_apiserver_secrets_controller_dir": str(fresh)})
    assert returncode == 2, output[-3000:]
    assert (
        f"kube_apiserver_secrets_controller_dir: {fresh}/encryption-key-{ENCRYPTION_PROVIDER} does not exist, but "
        f"the control planes {', '.join(sorted(MODES))} hold a {ENCRYPTION_PROVIDER} encryption key (" in output
    ), output[-3000:]
    assert key not in output and base64.b64encode(key.encode()).decode() not in output
    for name in MODES:
        assert re.search(rf"{name} : ok=\d+ changed=0 ", output), (name, output[-3000:])
    assert not fresh.exists()
    assert encryption_configs() == before

    adopt = {"kube_apiserver_secrets_controller_dir": str(fresh), "kube_apiserver_encryption_adopt_host_key": True}
    returncode, output = run_scenario_playbook(playbook, adopt)
    assert returncode == 0, output[-3000:]
    assert (fresh / f"encryption-key-{ENCRYPTION_PROVIDER}").read_text(encoding="utf-8") == key
    assert (fresh / f"encryption-key-{ENCRYPTION_PROVIDER}").stat().st_mode & 0o777 == 0o600
    assert encryption_configs() == before
