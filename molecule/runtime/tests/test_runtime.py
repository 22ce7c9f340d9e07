"""containerd, stargz, Dragonfly and the kubelet configuration on a lab worker, against a real registry.

Dragonfly's dfget is a STAND-IN here (molecule/runtime/files/dfget, docs/runtime.md): the tests named
``stand_in`` prove the role's install path, unit and configuration file, not a working dfdaemon.
"""

import json
import os
import re
import sys
import tomllib
from pathlib import Path

import jsonschema
import pytest
import testinfra
import yaml

PROJECT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
sys.path.insert(0, str(PROJECT / "tests" / "tools"))
import gke_reservations  # noqa: E402  (an independent oracle, not the filter under test)

WORKER = "podman://molecule-runtime-gpu1"
REGISTRY = "podman://molecule-runtime-registry"
IMAGE = "registry:5000/lab/hello:1"
SCHEMA = PROJECT / "tests" / "schemas" / "kubeletconfiguration-v1beta1.json"
TOC = "containerd.io/snapshot/stargz/toc.digest"

testinfra_hosts = [WORKER]


@pytest.fixture(scope="module")
def registry():
    return testinfra.get_host(REGISTRY)


def test_units_run(host):
    for unit in ("containerd", "stargz-snapshotter"):
        service = host.service(unit)
        assert service.is_running, unit
        assert service.is_enabled, unit


def test_dfdaemon_unit_runs_the_stand_in_dfget_with_the_role_config(host):
    """The unit the role writes starts `dfget daemon --config /etc/dragonfly/dfget.yaml`; the binary is the
    lab's stand-in (it only checks that command line and idles), so this proves the unit, not Dragonfly."""
    service = host.service("dfdaemon")
    assert service.is_running and service.is_enabled
    assert "dfget stand-in" in host.check_output("/usr/local/bin/dfget version")
    exec_start = host.check_output("systemctl show -p ExecStart --value dfdaemon")
    assert "argv[]=/usr/local/bin/dfget daemon --config /etc/dragonfly/dfget.yaml ;" in exec_start


def test_containerd_came_from_the_release_archive(host, registry):
    # The scenario installs by archive (molecule.yml): no Debian package, our unit, the archive's binaries.
    assert not host.package("containerd").is_installed
    assert host.file("/usr/local/bin/containerd").mode == 0o755
    assert host.file("/usr/local/sbin/runc").mode == 0o755
    assert "ExecStart=/usr/local/bin/containerd" in host.file("/etc/systemd/system/containerd.service").content_string
    assert "1.6.20" in host.check_output("/usr/local/bin/containerd --version")
    cached = host.file("/var/cache/aiplatform-cluster/containerd-1.6.20-linux-amd64.tar.gz")
    published = registry.file("/srv/archives/containerd-1.6.20-linux-amd64.tar.gz.sha256sum").content_string.split()[0]
    assert cached.mode == 0o600
    assert cached.sha256sum == published


def test_containerd_config(host):
    config = tomllib.loads(host.file("/etc/containerd/config.toml").content_string)
    assert config["version"] == 2
    assert config["root"] == "/var/lib/containerd"
    cri = config["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is True
    assert cri["containerd"]["snapshotter"] == "stargz"
    assert cri["registry"]["config_path"] == "/etc/containerd/certs.d"
    assert cri["max_concurrent_downloads"] == 10
    assert config["proxy_plugins"]["stargz"] == {
        "type": "snapshot",
        "address": "/run/containerd-stargz-grpc/containerd-stargz-grpc.sock",
    }


def test_ctr_lists_the_snapshotters_with_stargz_proxy(host):
    lines = host.check_output("ctr plugins ls").splitlines()
    snapshotters = {f[1]: f[-1] for f in (line.split() for line in lines) if f[0] == "io.containerd.snapshotter.v1"}
    assert snapshotters["overlayfs"] == "ok"
    assert snapshotters["stargz"] == "ok"


def test_stargz_daemon_serves_containerd(host):
    # A real round trip through the proxy plugin: containerd asks the daemon for its snapshots.
    assert host.socket("unix:///run/containerd-stargz-grpc/containerd-stargz-grpc.sock").is_listening
    assert host.run("ctr snapshots --snapshotter stargz ls").rc == 0
    assert "v0.12.0" in host.check_output("/usr/local/bin/containerd-stargz-grpc -version")


def test_hosts_toml_sends_pulls_to_dfdaemon_then_the_mirror_then_the_origin(host):
    hosts = tomllib.loads(host.file("/etc/containerd/certs.d/registry:5000/hosts.toml").content_string)
    assert hosts["server"] == "http://registry:5000"
    assert list(hosts["host"]) == ["http://127.0.0.1:65001", "http://registry:5001"]
    assert hosts["host"]["http://127.0.0.1:65001"]["header"] == {"X-Dragonfly-Registry": ["http://registry:5000"]}
    assert hosts["host"]["http://registry:5001"]["capabilities"] == ["pull", "resolve"]


def test_dfdaemon_config_keys_unparsed_by_the_stand_in(host):
    """Checked key by key with PyYAML: the stand-in dfget does not parse it (docs/runtime.md)."""
    config = yaml.safe_load(host.file("/etc/dragonfly/dfget.yaml").content_string)
    assert config["scheduler"]["netAddrs"] == [{"addr": "scheduler.invalid:8002", "type": "tcp"}]
    assert config["proxy"]["tcpListen"]["port"] == 65001
    assert config["workHome"] == "/var/lib/dragonfly"
    assert config["storage"]["diskGCThresholdPercent"] == 80


def _hits(registry, unit):
    """Requests for the test repository in a registry's access log (from the worker's address)."""
    log = registry.check_output(f"journalctl -u {unit} --no-pager -o cat")
    return len(re.findall(r'^10\.213\.87\.31 .*"(?:GET|HEAD) /v2/lab/hello/', log, re.MULTILINE))


def _pull(host):
    host.run(f"ctr image rm --sync {IMAGE}")
    host.run("ctr content ls -q | xargs -r ctr content rm")
    return host.run(f"ctr image pull --hosts-dir /etc/containerd/certs.d {IMAGE}")


def test_pull_goes_through_the_mirror(host, registry):
    before = _hits(registry, "registry-mirror"), _hits(registry, "docker-registry")
    pulled = _pull(host)
    assert pulled.rc == 0, pulled.stderr
    assert _hits(registry, "registry-mirror") > before[0]
    # The worker itself never asked the origin: the mirror did (from its own address).
    assert _hits(registry, "docker-registry") == before[1]
    assert IMAGE in host.check_output("ctr image ls -q")


def test_pull_falls_back_to_the_origin_when_the_mirror_is_down(host, registry):
    registry.run("systemctl stop registry-mirror")
    try:
        assert registry.run("timeout 2 bash -c 'exec 3<>/dev/tcp/registry/5001'").rc != 0
        before = _hits(registry, "docker-registry")
        pulled = _pull(host)
        assert pulled.rc == 0, pulled.stderr
        assert _hits(registry, "docker-registry") > before
        assert IMAGE in host.check_output("ctr image ls -q")
    finally:
        registry.run("systemctl start registry-mirror")


def test_converted_image_carries_estargz_annotations(host):
    fetch = (
        "import urllib.request as u; r = u.Request('http://registry:5000/v2/lab/hello/manifests/1-esgz', "
        "headers={'Accept': 'application/vnd.oci.image.manifest.v1+json'}); print(u.urlopen(r).read().decode())"
    )
    manifest = json.loads(host.check_output(f'python3 -c "{fetch}"'))
    assert manifest["layers"]
    for layer in manifest["layers"]:
        assert TOC in layer["annotations"]
        assert "io.containers.estargz.uncompressed-size" in layer["annotations"]


def test_kubelet_config_is_root_only_and_valid(host):
    config_file = host.file("/var/lib/kubelet/config.yaml")
    assert (config_file.user, config_file.group, config_file.mode) == ("root", "root", 0o600)
    config = yaml.safe_load(config_file.content_string)
    jsonschema.validate(config, json.loads(SCHEMA.read_text()))
    assert config["authentication"]["anonymous"]["enabled"] is False
    assert config["authentication"]["webhook"]["enabled"] is True
    assert config["authorization"]["mode"] == "Webhook"
    assert config["readOnlyPort"] == 0
    assert config["rotateCertificates"] is True
    assert config["seccompDefault"] is True
    assert config["serializeImagePulls"] is False
    assert config["maxParallelImagePulls"] == 5
    assert config["podPidsLimit"] == 16384
    assert config["evictionHard"]["memory.available"] == "500Mi"


def test_kubelet_reservations_follow_the_node_size(host):
    config = yaml.safe_load(host.file("/var/lib/kubelet/config.yaml").content_string)
    # The figures Ansible's facts give: processors listed in /proc/cpuinfo, MemTotal in MiB.
    cpus = int(host.check_output("grep -c ^processor /proc/cpuinfo"))
    memory_mib = int(host.check_output("awk '/^MemTotal:/ {print $2}' /proc/meminfo")) // 1024
    expected = gke_reservations.expected(cpus, memory_mib)
    assert config["kubeReserved"] == expected["kube"]
    assert config["systemReserved"] == expected["system"]


def test_schema_rejects_what_the_kubelet_rejects():
    schema = json.loads(SCHEMA.read_text())
    good = {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration", "readOnlyPort": 0}
    jsonschema.validate(good, schema)
    for bad in ({**good, "readOnlyPortt": 0}, {**good, "readOnlyPort": "0"}, {**good, "kind": "Kubelet"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
