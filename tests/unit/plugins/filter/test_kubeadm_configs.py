"""The kubeadm configuration kinds the collection renders (Init, Cluster, Join, KubeProxyConfiguration and the
kubelet's KubeletConfiguration) validate against the schemas from the upstream Go types; the controller-manager
and scheduler settings for large clusters; kube-proxy skipped; the kubeadm rules of kube_apiserver_problems."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import kube_schemas
import pytest
import yaml

from ansible_collections.aiplatform.cluster.plugins.filter.kube_apiserver import (
    kube_apiserver_component_args,
    kube_apiserver_flags,
    kube_apiserver_kube_proxy_config,
    kube_apiserver_kubeadm_config,
    kube_apiserver_kubeadm_init,
    kube_apiserver_problems,
)
from ansible_collections.aiplatform.cluster.plugins.filter.kubeadm_control_plane import (
    kubeadm_control_plane_config,
    kubeadm_control_plane_join,
)

ROOT = Path(__file__).resolve().parents[4]
DEFAULTS = yaml.safe_load((ROOT / "roles/kube_apiserver/defaults/main.yml").read_text(encoding="utf-8"))
VERSION = DEFAULTS["kube_apiserver_kubernetes_version"]
KEY = "0123456789abcdef" * 4
TOKEN = "abcdef.0123456789abcdef"
HASH = "sha256:" + "ab" * 32
# roles/topology/defaults/main.yml's topology_kubeadm_patches_dir, written out.
PATCHES = "/etc/kubernetes/kubeadm/patches"


def settings(**changes):
    values = {k.removeprefix("kube_apiserver_"): v for k, v in DEFAULTS.items()}
    values |= {
        "advertise_address": "10.0.0.1",
        "service_account_issuer": "https://kubernetes.default.svc.cluster.local",
        "control_plane_hosts": ["cp1", "cp2", "cp3"],
        "control_plane_endpoint": "lb.example:6443",
        "replicas": 3,
        "etcd": {"main": "main", "servers": ["https://10.0.0.1:2379"], "overrides": "", "unserved": [],
                 "no_address": [], "override_clusters": []},
        "etcd_ca_file": "/etc/kubernetes/pki/etcd/ca.crt",
        "etcd_cert_file": "/etc/kubernetes/pki/apiserver-etcd-client.crt",
        "etcd_key_file": "/etc/kubernetes/pki/apiserver-etcd-client.key",
        "host_networks": ["10.0.0.0/24"],
        "patches_dir": PATCHES,
    }  # fmt: skip
    return values | changes


def rendered(values=None):
    """The documents of kubeadm-config.yaml as roles/kube_apiserver/tasks/kubeadm.yml writes them."""
    values = values or settings()
    documents = [
        kube_apiserver_kubeadm_init(values, KEY),
        kube_apiserver_kubeadm_config(kube_apiserver_flags(values), values),
        kube_apiserver_kube_proxy_config(values),
    ]
    return [d for d in documents if d is not None]


def args(component_config):
    return {a["name"]: a["value"] for a in component_config["extraArgs"]}


def test_every_rendered_kubeadm_kind_validates():
    assert [d["kind"] for d in rendered()] == ["InitConfiguration", "ClusterConfiguration"]  # kube-proxy off
    documents = rendered(settings(kube_proxy_enabled=True))
    assert [d["kind"] for d in documents] == ["InitConfiguration", "ClusterConfiguration", "KubeProxyConfiguration"]
    for document in documents:
        assert kube_schemas.validate(document, VERSION) == "schema"
    plane = kubeadm_control_plane_config(documents)
    discovery = {"endpoint": plane["discovery_endpoint"], "token": TOKEN, "ca_cert_hashes": [HASH]}
    for join in (kubeadm_control_plane_join(discovery, patches_dir=PATCHES),
                 kubeadm_control_plane_join(discovery, plane, PATCHES)):  # fmt: skip
        assert kube_schemas.validate(join, VERSION) == "schema"
        assert join["patches"] == {"directory": PATCHES}
    assert documents[0]["patches"] == {"directory": PATCHES}


def test_every_join_configuration_names_the_patches_folder_it_is_given():
    discovery = {"endpoint": "lb:6443", "token": TOKEN, "ca_cert_hashes": [HASH]}
    worker = kubeadm_control_plane_join(discovery, None, "/srv/patches")
    assert worker["patches"] == {"directory": "/srv/patches"} and "controlPlane" not in worker
    assert "patches" not in kubeadm_control_plane_join(discovery)


def test_the_kubelet_configuration_validates_against_its_schema():
    # The kubelet role's KubeletConfiguration is checked in the runtime scenario against this schema (from
    # the upstream types); here: the schema catches a wrong type, so a kind that validates means something.
    schema = json.loads((ROOT / "tests/schemas/kubeletconfiguration-v1beta1.json").read_text(encoding="utf-8"))
    good = {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration", "maxPods": 110}
    jsonschema.validate(good, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(good | {"maxPods": "many"}, schema)


def test_schemas_catch_wrong_join_and_kube_proxy_fields():
    plane = kubeadm_control_plane_config(rendered())
    join = kubeadm_control_plane_join({"endpoint": "lb:6443", "token": TOKEN, "ca_cert_hashes": [HASH]}, plane)
    for broken in (
        join | {"discovery": {"bootstrapToken": {"token": "NOT-A-TOKEN"}}},
        join | {"controlPlane": {"certificateKey": "short"}},
        join | {"unknownField": True},
        {k: v for k, v in join.items() if k != "discovery"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            kube_schemas.validate(broken, VERSION)
    proxy = kube_apiserver_kube_proxy_config(settings(kube_proxy_enabled=True))
    for broken in (proxy | {"mode": "userspace"}, proxy | {"ipvs": {"syncPeriod": 30}}, proxy | {"portRanges": ""}):
        with pytest.raises(jsonschema.ValidationError):
            kube_schemas.validate(broken, VERSION)


def test_the_join_configuration_of_a_control_plane():
    plane = kubeadm_control_plane_config(rendered())
    assert plane["control_plane_endpoint"] == "lb.example:6443"
    assert plane["certificate_key"] == KEY
    join = kubeadm_control_plane_join({"endpoint": plane["discovery_endpoint"], "token": TOKEN,
                                       "ca_cert_hashes": [HASH]}, plane, PATCHES)  # fmt: skip
    assert join["discovery"]["bootstrapToken"] == {"apiServerEndpoint": "lb.example:6443", "token": TOKEN,
                                                   "caCertHashes": [HASH]}  # fmt: skip
    assert join["controlPlane"] == {"localAPIEndpoint": {"advertiseAddress": "10.0.0.1", "bindPort": 6443},
                                    "certificateKey": KEY}  # fmt: skip
    assert join["patches"] == {"directory": "/etc/kubernetes/kubeadm/patches"}


@pytest.mark.parametrize(
    ("endpoint", "discovery"),
    [("", "10.0.0.1:6443"), ("lb.example", "lb.example:6443"), ("[fd00::10]:7443", "[fd00::10]:7443"),
     ("10.0.0.100:443", "10.0.0.100:443")],
)  # fmt: skip
def test_the_discovery_endpoint_is_the_balancer_with_a_port(endpoint, discovery):
    config = kubeadm_control_plane_config(rendered(settings(control_plane_endpoint=endpoint)))
    assert config["discovery_endpoint"] == discovery


def test_controller_manager_and_scheduler_settings_for_large_clusters():
    cluster = rendered()[1]
    manager, scheduler = args(cluster["controllerManager"]), args(cluster["scheduler"])
    # Written out from docs/kubeadm.md ("Large clusters"), not read from the role.
    assert manager["kube-api-qps"] == "100" and manager["kube-api-burst"] == "200"
    assert manager["node-monitor-period"] == "5s" and manager["node-monitor-grace-period"] == "50s"
    assert manager["concurrent-deployment-syncs"] == "20" and manager["concurrent-gc-syncs"] == "50"
    assert scheduler["kube-api-qps"] == "200" and scheduler["kube-api-burst"] == "400"
    for component in (manager, scheduler):
        names = ("leader-elect", "leader-elect-lease-duration", "leader-elect-renew-deadline",
                 "leader-elect-retry-period")  # fmt: skip
        assert [component[name] for name in names] == ["true", "60s", "40s", "10s"]
    assert cluster["networking"]["podSubnet"] == "10.128.0.0/11"
    assert kube_apiserver_component_args(settings(controller_manager_concurrent_syncs={}))["controllerManager"].get(
        "concurrent-gc-syncs") is None  # fmt: skip


def test_kube_proxy_skipped_by_default_and_ipvs_when_enabled():
    # Off by default: Cilium's kube-proxy replacement (pod_network) is on by default.
    assert kube_apiserver_kube_proxy_config(settings()) is None
    assert kube_apiserver_kubeadm_init(settings(), KEY)["skipPhases"] == ["addon/kube-proxy"]
    proxy = kube_apiserver_kube_proxy_config(settings(kube_proxy_enabled=True))
    assert (proxy["mode"], proxy["clusterCIDR"], proxy["ipvs"]["syncPeriod"], proxy["ipvs"]["minSyncPeriod"]) == (
        "ipvs", "10.128.0.0/11", "30s", "2s")  # fmt: skip
    assert "skipPhases" not in kube_apiserver_kubeadm_init(settings(kube_proxy_enabled=True), KEY)
    replaced = settings(kube_proxy_enabled=False)
    assert kube_apiserver_kube_proxy_config(replaced) is None
    assert kube_apiserver_kubeadm_init(replaced, KEY)["skipPhases"] == ["addon/kube-proxy"]
    assert kube_apiserver_kube_proxy_config(settings(kube_proxy_enabled="false")) is None
    nft = kube_apiserver_kube_proxy_config(settings(kube_proxy_enabled=True, kube_proxy_mode="nftables"))
    assert "ipvs" not in nft and nft["nftables"]["syncPeriod"] == "30s"
    kube_schemas.validate(nft, VERSION)


def test_the_init_token_is_short_lived_and_the_key_is_secret_only_where_given():
    init = kube_apiserver_kubeadm_init(settings(), KEY)
    assert init["certificateKey"] == KEY
    assert init["bootstrapTokens"][0]["ttl"] == "10m0s"
    assert "certificateKey" not in kube_apiserver_kubeadm_init(settings())


BAD = {
    "endpoint with a scheme": ({"control_plane_endpoint": "https://lb:6443"}, "kube_apiserver_control_plane_endpoint"),
    "endpoint with a path": ({"control_plane_endpoint": "lb:6443/x"}, "kube_apiserver_control_plane_endpoint"),
    "endpoint not a name": ({"control_plane_endpoint": "lb_1.example"}, "kube_apiserver_control_plane_endpoint"),
    "endpoint port too high": ({"control_plane_endpoint": "lb:70000"}, "kube_apiserver_control_plane_endpoint"),
    "endpoint port not a number": ({"control_plane_endpoint": "lb:http"}, "kube_apiserver_control_plane_endpoint"),
    "endpoint bad IPv4": ({"control_plane_endpoint": "10.0.0.300"}, "kube_apiserver_control_plane_endpoint"),
    "endpoint bad brackets": ({"control_plane_endpoint": "[lb]:6443"}, "kube_apiserver_control_plane_endpoint"),
    "endpoint open bracket": ({"control_plane_endpoint": "[fd00::1"}, "kube_apiserver_control_plane_endpoint"),
    "endpoint IPv6 without brackets and a port": (
        {"control_plane_endpoint": "fd00::1:6443:x"}, "kube_apiserver_control_plane_endpoint"),
    "pod CIDR not a network": ({"pod_cidr": "10.128.0.1/11"}, "kube_apiserver_pod_cidr"),
    "pod CIDR overlaps the services": ({"pod_cidr": "10.96.0.0/16"}, "overlaps kube_apiserver_service_cidr"),
    "pod CIDR inside the services": ({"pod_cidr": "10.64.0.0/10"}, "overlaps kube_apiserver_service_cidr"),
    "pod CIDR overlaps the hosts": ({"pod_cidr": "10.0.0.0/16"}, "overlaps the hosts' network 10.0.0.0/24"),
    "node mask wider than the pod CIDR": ({"node_cidr_mask_size": 8}, "kube_apiserver_node_cidr_mask_size"),
    "even control planes in production": ({"control_plane_hosts": ["cp1", "cp2", "cp3", "cp4"]},
                                          "an even number"),
    "burst below qps": ({"scheduler_kube_api_burst": 10}, "kube_apiserver_scheduler_kube_api_burst"),
    "qps zero": ({"controller_manager_kube_api_qps": 0}, "kube_apiserver_controller_manager_kube_api_qps"),
    "grace not longer than period": ({"node_monitor_grace_period": "5s"}, "kube_apiserver_node_monitor_grace_period"),
    "renew longer than lease": ({"leader_elect_renew_deadline": "90s"}, "kube_apiserver_leader_elect_retry_period <"),
    "bad duration": ({"leader_elect_lease_duration": "a minute"}, "kube_apiserver_leader_elect_lease_duration"),
    "concurrent syncs not a number": ({"controller_manager_concurrent_syncs": {"gc": "many"}},
                                      "kube_apiserver_controller_manager_concurrent_syncs.gc"),
    "unknown kube-proxy mode": ({"kube_proxy_mode": "userspace"}, "kube_apiserver_kube_proxy_mode"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD))
def test_bad_kubeadm_input_is_an_error_naming_the_variable(case):
    changes, text = BAD[case]
    errors = kube_apiserver_problems(settings(**changes))["errors"]
    assert any(text in e for e in errors), errors


@pytest.mark.parametrize("endpoint", ["lb", "lb.example.com:6443", "10.0.0.100", "10.0.0.100:6443", "[fd00::10]:6443",
                                      "fd00::10", "api-1.k8s.example."])  # fmt: skip
def test_good_endpoints_are_accepted(endpoint):
    assert kube_apiserver_problems(settings(control_plane_endpoint=endpoint))["errors"] == []


def test_even_control_planes_only_warn_in_development_and_several_need_an_endpoint():
    result = kube_apiserver_problems(settings(profile="development", control_plane_hosts=["cp1", "cp2", "cp3", "cp4"]))
    assert result["errors"] == []
    assert any("an even number" in w for w in result["warnings"])
    result = kube_apiserver_problems(settings(control_plane_endpoint=""))
    assert any("kube_apiserver_control_plane_endpoint" in w for w in result["warnings"])
