"""playbooks/kube_apiserver_encryption_rotate.yml end to end against two local control planes (issue 13).

Everything lives under tmp_path: the control planes' files, the controller's store, a stand-in kubelet and a
stand-in kubectl. No kube-apiserver can run here, so the stand-ins check the orchestration only, the way the
role drives a real control plane: the kubelet stand-in (a thread) "runs" a control plane's kube-apiserver
while its static pod manifest is in the manifest folder (it listens on that host's secure port, and records
the encryption configuration it started with, as kube-apiserver reads it only at start); the kubectl
stand-in on PATH answers /readyz when that port listens, and records the Secrets' rewrite
(``get secrets ... | replace -f -``). Whether kube-apiserver really re-encrypts the Secrets is not verified here.

Asserted: the order (every replica reads the new key before any writes with it; the rewrite only after every
replica writes with it; the drop only after the rewrite), each replica's file at each restart, a failed
rewrite that stops the run before any drop and the rerun that goes on from the rewrite, the normal converge
refusing mid-rotation (files unchanged), the store's files and modes at the end, a second run with changed=0,
the converge after the rotation keeping the new key and its name, and no key in any output.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import sys
import threading
import time
from pathlib import Path

import jsonschema
import kube_schemas
import pytest
import yaml
from local_playbook import ROOT, run_local_playbook
from test_secrets_play import make_ca

HOSTS = ("cp1", "cp2")
CONVERGE = """
- hosts: kube_control_plane
  gather_facts: false
  roles:
    - role: aiplatform.cluster.topology
  tasks:
    - ansible.builtin.include_role:
        name: aiplatform.cluster.kube_apiserver
"""
ROTATE = f"- ansible.builtin.import_playbook: {ROOT}/playbooks/kube_apiserver_encryption_rotate.yml\n"
KUBECTL = """#!{python}
import json, socket, sys
from pathlib import Path
LOG, FAIL, KUBECONFIG = {log!r}, {fail!r}, {kubeconfig!r}
args = sys.argv[1:]
with open(LOG, "a", encoding="utf-8") as log:
    log.write(json.dumps({{"kubectl": args}}) + "\\n")
if args[:2] == ["version", "--client"]:
    print("Client Version: v1.34.2")
    sys.exit(0)
if args[:2] != ["--kubeconfig", KUBECONFIG]:
    sys.exit("stand-in kubectl: not the admin kubeconfig")
rest = args[2:]
if rest[:1] == ["--server"] and rest[2:] == ["get", "--raw=/readyz"]:
    port = int(rest[1].rsplit(":", 1)[1])
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError as error:
        sys.exit(f"stand-in kubectl: {{error}}")
    print("ok")
    sys.exit(0)
if rest == ["get", "secrets", "--all-namespaces", "-o", "json"]:
    if Path(FAIL).exists():
        Path(FAIL).unlink()
        sys.exit("Error from server (InternalError): injected failure")
    print(json.dumps({{"apiVersion": "v1", "kind": "List", "items": [
        {{"apiVersion": "v1", "kind": "Secret", "metadata": {{"name": "s1", "namespace": "default"}}}}]}}))
    sys.exit(0)
if rest == ["replace", "-f", "-"]:
    items = json.loads(sys.stdin.read())["items"]
    for item in items:
        print(f"secret/{{item['metadata']['name']}} replaced")
    sys.exit(0)
sys.exit(f"stand-in kubectl: unexpected {{rest}}")
"""


def config_file(root: Path, host: str) -> Path:
    return root / host / "apiserver" / "encryption-config.yaml"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def checked(config: Path) -> str:
    """'' when the file is what kube-apiserver accepts (the schema, 32-byte keys, unique names per provider)."""
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    try:
        kube_schemas.validate(document, "1.34.2")
    except jsonschema.ValidationError as error:
        return str(error)
    for provider in document["resources"][0]["providers"]:
        for body in (value for kind, value in provider.items() if kind != "identity"):
            names = [key["name"] for key in body["keys"]]
            if len(set(names)) != len(names):
                return f"duplicate key names {names}"
            if any(len(base64.b64decode(key["secret"])) != 32 for key in body["keys"]):
                return "a key that is not 32 bytes"
    return ""


def keys_of(config: Path) -> list[str]:
    """provider:name of every key of an encryption-config.yaml, in order."""
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    return [
        f"{kind}:{key['name']}"
        for provider in document["resources"][0]["providers"]
        for kind, body in provider.items()
        if kind != "identity"
        for key in body["keys"]
    ]


class Kubelet(threading.Thread):
    """Runs a stand-in kube-apiserver (a listening socket) for every host whose manifest is in its folder."""

    def __init__(self, hosts: dict, log: Path):
        super().__init__(daemon=True)
        self.hosts, self.log, self.stopping = hosts, log, threading.Event()

    def record(self, event: dict) -> None:
        with self.log.open("a", encoding="utf-8") as log:
            log.write(json.dumps(event) + "\n")

    def run(self) -> None:
        listening: dict[str, socket.socket] = {}
        while not self.stopping.is_set():
            for host, (manifest, port, config) in self.hosts.items():
                if manifest.exists() and host not in listening:
                    sock = socket.socket()
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    sock.bind(("127.0.0.1", port))
                    sock.listen()
                    sock.setblocking(False)
                    listening[host] = sock
                    self.record({"start": host, "keys": keys_of(config), "invalid": checked(config)})
                elif not manifest.exists() and host in listening:
                    listening.pop(host).close()
                    self.record({"stop": host})
                elif host in listening:
                    try:
                        while True:
                            listening[host].accept()[0].close()
                    except BlockingIOError:
                        pass
            time.sleep(0.05)
        for sock in listening.values():
            sock.close()


@pytest.fixture
def lab(tmp_path):
    """Two control planes, the store, the stand-ins; yields a runner and the paths."""
    ports = {h: free_port() for h in HOSTS}
    hosts = {}
    for i, name in enumerate(HOSTS, 1):
        base = tmp_path / name
        hosts[name] = {
            "etcd_address": f"10.0.0.{i}",
            "kube_apiserver_advertise_address": f"10.0.0.{i}",
            "kube_apiserver_secure_port": ports[name],
            "kube_apiserver_pki_dir": str(base / "pki"),
            "kube_apiserver_config_dir": str(base / "apiserver"),
            "kube_apiserver_kubeadm_dir": str(base / "kubeadm"),
            "topology_kubeadm_patches_dir": str(base / "kubeadm" / "patches"),
            "kube_apiserver_manifest_dir": str(base / "manifests"),
            "kube_apiserver_apf_dir": str(base / "apf"),
            "kube_apiserver_audit_log_path": str(base / "audit" / "audit.log"),
        }
    inventory = {
        "all": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
            "children": {"etcd_main": {"hosts": hosts}, "kube_control_plane": {"hosts": hosts}},
        }
    }
    etcd_pki = tmp_path / "etcd-pki"
    etcd_pki.mkdir()
    make_ca(etcd_pki, "etcd-ca")
    for name in ("apiserver-etcd-client.crt", "apiserver-etcd-client.key"):
        (etcd_pki / name).write_text(f"{name}\n", encoding="utf-8")  # copied only, never parsed here
    kubeconfig = tmp_path / "admin.conf"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n", encoding="utf-8")
    log, fail = tmp_path / "events.jsonl", tmp_path / "fail-rewrite"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(KUBECTL.format(python=sys.executable, log=str(log), fail=str(fail), kubeconfig=str(kubeconfig)))
    kubectl.chmod(0o755)
    variables = {
        "kube_apiserver_profile": "development",
        "etcd_pki_controller_dir": str(etcd_pki),
        "kube_apiserver_secrets_controller_dir": str(tmp_path / "store"),
        "topology_state_dir": str(tmp_path / "unused-state"),
        "kube_apiserver_encryption_rotate_kubeconfig": str(kubeconfig),
        "kube_apiserver_stop_timeout_s": 20,
        "kube_apiserver_encryption_rotate_ready_timeout_s": 20,
    }
    env = {"PATH": f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin"}
    play_dir = tmp_path / "play"
    play_dir.mkdir()

    def run(playbook: str, args: tuple = (), **extra):
        started = time.monotonic()
        result = run_local_playbook(play_dir, playbook, inventory, variables | extra, args=args, env=env)
        print(f"ansible-playbook {'rotate' if playbook == ROTATE else 'converge'}: {time.monotonic() - started:.0f} s")
        result.output = " ".join((result.stdout + result.stderr).split())
        return result

    kubelet = Kubelet({h: (tmp_path / h / "manifests" / "kube-apiserver.yaml", ports[h], config_file(tmp_path, h))
                       for h in HOSTS}, log)  # fmt: skip
    yield {"run": run, "root": tmp_path, "store": tmp_path / "store", "log": log, "fail": fail, "kubelet": kubelet}
    kubelet.stopping.set()
    if kubelet.ident is not None:
        kubelet.join(timeout=5)


def recap(result) -> dict:
    found = re.findall(r"(cp\d) +: ok=(\d+) +changed=(\d+) +unreachable=(\d+) +failed=(\d+)", result.stdout)
    return {host: (int(changed), int(failed)) for host, _ok, changed, _unreachable, failed in found}


def events(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []


def starts(log: Path) -> list[tuple[str, list[str]]]:
    """(host, keys) of every start of a stand-in kube-apiserver; each file it started with must be valid."""
    assert [e["invalid"] for e in events(log) if "start" in e and e["invalid"]] == []
    return [(e["start"], e["keys"]) for e in events(log) if "start" in e]


def files(root: Path) -> dict:
    return {h: config_file(root, h).read_text(encoding="utf-8") for h in HOSTS}


def index(log: Path, predicate) -> int:
    return next(i for i, e in enumerate(events(log)) if predicate(e))


READ, WRITE, DROP = ["secretbox:key1", "secretbox:key2"], ["secretbox:key2", "secretbox:key1"], ["secretbox:key2"]


def assert_order(log: Path) -> None:
    """From the events of both runs: every replica reads the new key before any writes with it, the rewrite
    comes after every replica writes with it, the drop after the rewrite succeeded."""
    everything = events(log)
    first_write = index(log, lambda e: e.get("keys", [""])[0] == "secretbox:key2")
    assert {e["start"] for e in everything[:first_write] if e.get("keys") == READ} == set(HOSTS)
    rewrite = index(log, lambda e: e.get("kubectl", [])[2:4] == ["get", "secrets"])
    last_write = max(i for i, e in enumerate(everything) if e.get("keys") == WRITE)
    assert last_write < rewrite
    replaced = max(i for i, e in enumerate(everything) if e.get("kubectl", [])[2:3] == ["replace"])
    first_drop = index(log, lambda e: e.get("keys") == DROP)
    assert rewrite < replaced < first_drop
    assert sum(1 for e in everything if e.get("kubectl", [])[2:4] == ["get", "secrets"]) == 2  # failed, then done


def assert_store(root: Path, store: Path, old: str, new: str) -> None:
    """The new key current, its name, the old one retired; all 0600, the .new file gone; the hosts hold key2."""
    assert sorted(p.name for p in store.glob("encryption-key-*")) == [
        "encryption-key-secretbox",
        "encryption-key-secretbox.name",
        "encryption-key-secretbox.retired-key1",
    ]
    assert (store / "encryption-key-secretbox").read_text(encoding="utf-8") == new
    assert (store / "encryption-key-secretbox.name").read_text(encoding="utf-8") == "key2"
    assert (store / "encryption-key-secretbox.retired-key1").read_text(encoding="utf-8") == old
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in store.glob("encryption-key-*"))
    for host in HOSTS:
        config = yaml.safe_load(config_file(root, host).read_text(encoding="utf-8"))
        [key] = config["resources"][0]["providers"][0]["secretbox"]["keys"]
        assert key == {"name": "key2", "secret": base64.b64encode(new.encode()).decode()}


def assert_settled(run, root: Path, log: Path, confirm: dict) -> tuple:
    """A second run changes nothing and restarts nothing; the normal converge keeps the new key and its name."""
    count = len(events(log))
    again = run(ROTATE, **confirm)
    assert again.returncode == 0, again.output[-3000:]
    assert "done, nothing to do" in again.output
    assert all(changed == 0 for changed, _failed in recap(again).values()), again.stdout[-3000:]
    assert not [e for e in events(log)[count:] if "start" in e or "stop" in e]
    after = files(root)
    converged = run(CONVERGE)
    assert converged.returncode == 0, converged.output[-3000:]
    assert all(changed == 0 for changed, _failed in recap(converged).values()), converged.stdout[-3000:]
    assert files(root) == after
    return again, converged


def test_the_key_is_rotated_in_order_resumes_after_a_failed_rewrite_and_is_idempotent(lab):
    run, root, store, log = lab["run"], lab["root"], lab["store"], lab["log"]
    confirm = {
        "kube_apiserver_encryption_rotate_confirm": "kubernetes",
        "kube_apiserver_encryption_rotate_key_name": "key2",
    }
    first = run(CONVERGE)
    assert first.returncode == 0, first.stdout[-4000:]
    old = (store / "encryption-key-secretbox").read_text(encoding="utf-8")
    for host in HOSTS:  # what kubeadm would have written: the static pod the kubelet runs
        (root / host / "manifests").mkdir(parents=True)
        (root / host / "manifests" / "kube-apiserver.yaml").write_text("kind: Pod\n", encoding="utf-8")
    lab["kubelet"].start()
    time.sleep(0.5)
    assert starts(log) == [(h, ["secretbox:key1"]) for h in HOSTS]

    # Check mode says where the rotation would start; no key made, nothing restarted.
    checked_run = run(ROTATE, args=("--check",), **confirm)
    assert checked_run.returncode == 0, checked_run.output[-3000:]
    assert "Rotation to the secretbox key key2: from step read" in checked_run.output
    assert not (store / "encryption-key-secretbox.new").exists()
    assert len(starts(log)) == len(HOSTS)

    # No confirmation: refused before any change.
    refused = run(ROTATE, kube_apiserver_encryption_rotate_key_name="key2")
    assert refused.returncode == 2, refused.output[-3000:]
    assert "kube_apiserver_encryption_rotate_confirm: must repeat topology_cluster_name (kubernetes)" in refused.output
    assert all(changed == 0 for changed, _failed in recap(refused).values())
    assert not (store / "encryption-key-secretbox.new").exists()

    # The rewrite fails: read and write done everywhere, nothing dropped.
    lab["fail"].write_text("1", encoding="utf-8")
    broken = run(ROTATE, **confirm)
    assert broken.returncode == 2, broken.output[-3000:]
    assert "injected failure" in broken.output
    new_key = store / "encryption-key-secretbox.new"
    new = new_key.read_text(encoding="utf-8")
    assert len(new) == 32 and new.isalnum() and new != old and new_key.stat().st_mode & 0o777 == 0o600
    assert starts(log)[2:] == [("cp1", READ), ("cp2", READ), ("cp1", WRITE), ("cp2", WRITE)]
    assert all(keys_of(config_file(root, h)) == WRITE for h in HOSTS)
    assert (store / "encryption-key-secretbox").read_text(encoding="utf-8") == old
    before = files(root)

    # The normal converge refuses while the rotation is unfinished; nothing changes.
    converge = run(CONVERGE)
    assert converge.returncode == 2, converge.output[-3000:]
    assert "kube_apiserver_secrets_controller_dir: a key rotation is in progress" in converge.output
    assert "playbooks/kube_apiserver_encryption_rotate.yml" in converge.output
    assert all(changed == 0 for changed, _failed in recap(converge).values()), converge.stdout[-3000:]
    assert files(root) == before

    # The rerun goes on from the rewrite: no replica restarted before it, then the drop.
    resumed = run(ROTATE, **confirm)
    assert resumed.returncode == 0, resumed.output[-4000:]
    assert "from step rewrite" in resumed.output
    assert starts(log)[6:] == [("cp1", DROP), ("cp2", DROP)]

    assert_order(log)
    assert_store(root, store, old, new)

    again, converged = assert_settled(run, root, log, confirm)

    for result in (checked_run, refused, broken, converge, resumed, again, converged):
        for key in (old, new, base64.b64encode(old.encode()).decode(), base64.b64encode(new.encode()).decode()):
            assert key not in result.stdout + result.stderr
