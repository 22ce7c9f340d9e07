"""The add-on roles render on the controller, without a cluster, objects the Kubernetes 1.34 API accepts.

Runs the real roles (pod_network, coredns, node_problem_detector, gpu_operator, kube_eventer) with ansible-playbook
on localhost without a kubeconfig: they write their objects (and the GPU Operator's chart values) to
the manifest folder. Every object is validated strictly against the Kubernetes 1.34 OpenAPI schema
(tests/tools/kube_schemas.py, unknown fields fail); node-problem-detector's monitor files against its
documented fields (tests/tools/npd_schemas.py); the GPU Operator's values are rendered with the real
helm binary (tests/tools/kube_clients.py) against the packaged pinned chart, and what helm renders is
validated too (custom resources against the chart's own CRDs, strictly). A second run changes nothing.
Bad input is refused before anything is written, naming the variable.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import kube_schemas
import npd_schemas
import pytest
import yaml
from local_playbook import run_local_playbook

ROOT = Path(__file__).resolve().parents[3]
KUBERNETES = "1.34"
HELM = Path(os.environ.get("KUBE_CLIENTS_BIN", ROOT / "build/kube-clients/bin")) / "helm"
PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  roles:
    - aiplatform.cluster.pod_network
    - aiplatform.cluster.coredns
    - aiplatform.cluster.node_problem_detector
    - aiplatform.cluster.gpu_operator
    - aiplatform.cluster.kube_eventer
"""
CHART_VERSION = yaml.safe_load((ROOT / "roles/kube_addons/defaults/main.yml").read_text())["kube_addons_versions"][
    "gpu_operator_chart"
]["version"]


def inventory():
    hosts = {f"node{i}": {} for i in range(1, 5)}
    return {
        "all": {
            "hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}},
            "children": {"kube_node": {"hosts": hosts}, "gpu": {"hosts": {"node4": {}}}},
        }
    }


def run(tmp_path, playbook=PLAYBOOK, **extra):
    manifests = tmp_path / "reports" / "addons"
    variables = {
        "topology_report_dir": str(tmp_path / "reports"),
        "coredns_nodelocaldns_enabled": True,
        "kube_eventer_enabled": True,
        "kube_eventer_webhook_url": "https://events.example.com/hook",
        **extra,
    }
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return run_local_playbook(work, playbook, inventory(), variables), manifests


def recap(stdout):
    match = re.search(r"localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=0\s+failed=(\d+)", stdout)
    assert match, stdout[-3000:]
    return {"ok": int(match[1]), "changed": int(match[2]), "failed": int(match[3])}


@pytest.fixture(scope="module", name="rendered")
def fixture_rendered(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("addons")
    first, manifests = run(tmp_path)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    second, _manifests = run(tmp_path)
    assert second.returncode == 0, second.stdout[-4000:]
    return {"first": first, "second": second, "dir": manifests}


def documents(path):
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_every_add_on_is_rendered_and_a_second_run_changes_nothing(rendered):
    assert sorted(p.name for p in rendered["dir"].iterdir()) == [
        "coredns.yaml",
        "gpu-operator-values.yaml",
        "kube-eventer.yaml",
        "node-problem-detector.yaml",
        "pod-network-cilium-values.yaml",
    ]
    assert recap(rendered["first"].stdout)["changed"] == 6  # the folder and the five files
    assert recap(rendered["second"].stdout)["changed"] == 0


@pytest.mark.parametrize(
    ("name", "kinds"),
    [
        (
            "coredns.yaml",
            ["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment", "Service",
             "PodDisruptionBudget", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
             "ConfigMap", "Deployment", "ServiceAccount", "Service", "ConfigMap", "DaemonSet"],
        ),
        ("node-problem-detector.yaml", ["ServiceAccount", "ClusterRoleBinding", "ConfigMap", "DaemonSet"]),
        ("kube-eventer.yaml", ["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Deployment"]),
    ],
)  # fmt: skip
def test_objects_validate_strictly_against_kubernetes_1_34(rendered, name, kinds):
    docs = documents(rendered["dir"] / name)
    assert [doc["kind"] for doc in docs] == kinds
    assert [kube_schemas.validate(doc, KUBERNETES) for doc in docs] == ["openapi"] * len(kinds)


def test_strict_validation_can_fail(rendered):
    deployment = next(d for d in documents(rendered["dir"] / "coredns.yaml") if d["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["antiAffinity"] = {}
    with pytest.raises(kube_schemas.kubernetes_validate.ValidationError):
        kube_schemas.validate(deployment, KUBERNETES)


def by_name(docs, kind, name):
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def test_coredns_spread_autoscaled_and_wired(rendered):
    docs = documents(rendered["dir"] / "coredns.yaml")
    coredns = by_name(docs, "Deployment", "coredns")
    assert "replicas" not in coredns["spec"]  # the autoscaler owns the count
    pod = coredns["spec"]["template"]["spec"]
    anti = pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert anti == [
        {"labelSelector": {"matchLabels": {"k8s-app": "kube-dns"}}, "topologyKey": "kubernetes.io/hostname"}
    ]
    assert pod["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"
    assert pod["priorityClassName"] == "system-cluster-critical"
    # 4 nodes x 110 pods + 5000 services: ceil(5440 / 1000 + 54) = 60 -> at least 70 MiB.
    assert pod["containers"][0]["resources"]["limits"] == {"memory": "70Mi"}
    corefile = by_name(docs, "ConfigMap", "coredns")["data"]["Corefile"]
    for line in ("lameduck 5s", "ready", "prometheus :9153", "max_concurrent 1000", "cache 30 {"):
        assert line in corefile
    params = json.loads(by_name(docs, "ConfigMap", "coredns-autoscaler")["data"]["linear"])
    assert params == {
        "coresPerReplica": 256,
        "includeUnschedulableNodes": False,
        "max": 4,
        "min": 2,
        "nodesPerReplica": 16,
        "preventSinglePointFailure": True,
    }
    autoscaler = by_name(docs, "Deployment", "coredns-autoscaler")["spec"]["template"]["spec"]["containers"][0]
    assert "--target=deployment/coredns" in autoscaler["command"]
    assert not any(arg.startswith("--default-params") for arg in autoscaler["command"])
    role = by_name(docs, "Role", "coredns-autoscaler")
    assert role["rules"][1] == {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}
    nodelocal = by_name(docs, "DaemonSet", "node-local-dns")["spec"]["template"]["spec"]["containers"][0]
    assert nodelocal["args"][:2] == ["-localip", "169.254.25.10,10.96.0.10"]
    assert by_name(docs, "PodDisruptionBudget", "coredns")["spec"]["maxUnavailable"] == 1


def test_node_problem_detector_configs_follow_npd_fields(rendered):
    config = by_name(
        documents(rendered["dir"] / "node-problem-detector.yaml"), "ConfigMap", "node-problem-detector-config"
    )
    kernel = json.loads(config["data"]["kernel-monitor.json"])
    custom = json.loads(config["data"]["aiplatform-checks.json"])
    npd_schemas.validate_kernel_monitor(kernel)
    npd_schemas.validate_custom_plugin_monitor(custom)
    assert {r["condition"] for r in custom["rules"]} == {
        "GPUHealthProblem",
        "GPUFabricProblem",
        "TimeSyncProblem",
        "ContainerRuntimeProblem",
        "DiskProblem",
    }


def test_kube_eventer_sink(rendered):
    deployment = by_name(documents(rendered["dir"] / "kube-eventer.yaml"), "Deployment", "kube-eventer")
    command = deployment["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[-1] == (
        "--sink=webhook:https://events.example.com/hook?level=Warning&method=POST&header=Content-Type=application/json"
    )


def helm_template(values_file, chart, release="gpu-operator", namespace="gpu-operator"):
    assert HELM.is_file(), (
        f"{HELM} is missing: run `python tests/tools/kube_clients.py build/kube-clients` (make kube-clients)"
    )
    result = subprocess.run(
        [str(HELM), "template", release, str(chart), "--namespace", namespace, "--include-crds",
         "--kube-version", "v1.34.0", "-f", str(values_file)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def test_gpu_operator_values_render_with_the_pinned_chart(rendered):
    chart = ROOT / f"tests/fixtures/charts/gpu-operator-{CHART_VERSION}.tgz"
    docs = helm_template(rendered["dir"] / "gpu-operator-values.yaml", chart)
    crds = [d for d in docs if d["kind"] == "CustomResourceDefinition"]
    custom = kube_schemas.crd_schemas(crds)
    checked = {}
    for doc in docs:
        key = (doc["apiVersion"], doc["kind"])
        how = kube_schemas.validate_custom(doc, custom) if key in custom else kube_schemas.validate(doc, KUBERNETES)
        checked[how] = checked.get(how, 0) + 1
    assert checked["crd"] >= 1 and checked["openapi"] >= 10, checked
    policy = next(d for d in docs if d["kind"] == "ClusterPolicy")["spec"]
    assert policy["dcgmExporter"]["config"] == {"name": "aiplatform-dcgm-metrics"}
    assert policy["mig"] == {"strategy": "single"}
    assert policy["daemonsets"]["tolerations"] == [
        {"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Exists"}
    ]
    metrics = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "aiplatform-dcgm-metrics")
    assert "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL, counter" in metrics["data"]["dcgm-metrics.csv"]
    lint = subprocess.run(
        [str(HELM), "lint", str(chart), "-f", str(rendered["dir"] / "gpu-operator-values.yaml")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert lint.returncode == 0, lint.stdout + lint.stderr


CILIUM_VERSION = yaml.safe_load((ROOT / "roles/kube_addons/defaults/main.yml").read_text())["kube_addons_versions"][
    "cilium_chart"
]["version"]
POD_NETWORK_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  roles:
    - aiplatform.cluster.pod_network
"""
# cilium-config entries each case must carry (the chart's names for the role's settings), written out.
CILIUM_CONFIG_DEFAULTS = {
    "ipam": "cluster-pool",
    "cluster-pool-ipv4-cidr": "10.128.0.0/11",
    "cluster-pool-ipv4-mask-size": "24",
    "kube-proxy-replacement": "true",
    "routing-mode": "tunnel",
    "tunnel-protocol": "vxlan",
    "identity-allocation-mode": "crd",
    "enable-cilium-endpoint-slice": "true",
    "bpf-map-dynamic-size-ratio": "0.0025",
    "bpf-policy-map-max": "16384",
    "bpf-lb-map-max": "65536",
    "enable-hubble": "false",
}


@pytest.mark.parametrize(
    ("extra", "objects", "config", "api"),
    [
        # The defaults with an endpoint ("" renders k8sServiceHost: auto, which helm resolves from the
        # cluster's kube-public/cluster-info ConfigMap: `helm template` has no cluster and refuses it).
        ({"pod_network_api_endpoint": "10.0.0.10"}, 22, CILIUM_CONFIG_DEFAULTS, ("10.0.0.10", "6443")),
        (
            {"pod_network_api_endpoint": "api.example.com:8443", "pod_network_routing_mode": "native",
             "pod_network_identity_allocation_mode": "kvstore",
             "pod_network_kvstore_endpoints": ["https://10.0.0.21:2379", "https://10.0.0.22:2379"],
             "pod_network_bpf_ct_tcp_max": 1048576, "pod_network_node_mask_size": 25,
             "pod_network_hubble_enabled": True},
            25,
            {**CILIUM_CONFIG_DEFAULTS, "routing-mode": "native", "identity-allocation-mode": "kvstore",
             "cluster-pool-ipv4-mask-size": "25", "bpf-ct-global-tcp-max": "1048576", "enable-hubble": "true",
             "kvstore": "etcd"},
            ("api.example.com", "8443"),
        ),
    ],
)  # fmt: skip
def test_pod_network_values_render_with_the_pinned_cilium_chart(tmp_path, extra, objects, config, api):
    result, manifests = run(tmp_path, POD_NETWORK_PLAYBOOK, **extra)
    assert result.returncode == 0, result.stdout[-4000:]
    values = manifests / "pod-network-cilium-values.yaml"
    chart = ROOT / f"tests/fixtures/charts/cilium-{CILIUM_VERSION}.tgz"
    # helm also checks the values against the chart's values.schema.json.
    docs = helm_template(values, chart, release="cilium", namespace="kube-system")
    assert len(docs) == objects, sorted(d["kind"] for d in docs)
    # The chart ships no CRDs (the operator registers them): every object is a built-in kind.
    assert [kube_schemas.validate(doc, KUBERNETES) for doc in docs] == ["openapi"] * objects
    data = by_name(docs, "ConfigMap", "cilium-config")["data"]
    assert {key: data.get(key) for key in config} == config
    operator = by_name(docs, "Deployment", "cilium-operator")
    assert operator["spec"]["replicas"] == 2
    env = {e["name"]: e.get("value") for e in operator["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert (env["KUBERNETES_SERVICE_HOST"], env["KUBERNETES_SERVICE_PORT"]) == api
    lint = subprocess.run([str(HELM), "lint", str(chart), "-f", str(values)], capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert lint.returncode == 0, lint.stdout + lint.stderr


# One run per role whose check fails first (every problem of that role is in its one message).
@pytest.mark.parametrize(
    ("extra", "messages"),
    [
        (
            {"coredns_autoscaler_min": "4", "coredns_autoscaler_max": "3", "coredns_nodelocaldns_ip": "10.0.0.10"},
            ["coredns_autoscaler_min: must be at most coredns_autoscaler_max (3)",
             "coredns_nodelocaldns_ip: must be a link-local address (169.254.0.0/16)"],
        ),
        (
            {"coredns_autoscaler_max": 5,
             "kube_addons_versions": {"gpu_operator_chart": {"repository": "https://x", "name": "gpu-operator",
                                                             "version": ">=26"}}},
            ["coredns_autoscaler_max: must be at most the 4 nodes CoreDNS may run on",
             "kube_addons_versions.gpu_operator_chart.version: must pin one chart version"],
        ),
        (
            {"gpu_operator_values_extra": {"operator": {"defaultRuntime": "containerd"},
                                           "driverr": {"enabled": False}}},
            ["'operator.defaultRuntime' was removed from the chart", "'driverr' is not a value of the pinned chart"],
        ),
        ({"kube_eventer_webhook_url": "ftp://x"}, ["kube_eventer_webhook_url: must be an http:// or https:// URL"]),
        ({"pod_network_cni": "calico"}, ["pod_network_cni: must be one of cilium (got 'calico')"]),
        (
            {"pod_network_pod_cidr": "10.96.0.0/16", "kube_apiserver_control_plane_endpoint": "https://api:6443"},
            ["pod_network_pod_cidr: must not overlap the service CIDR 10.96.0.0/12",
             "pod_network_api_endpoint: must be host or host:port"],
        ),
        (
            # 4 nodes in the inventory, 2 blocks of /24 in a /23.
            {"pod_network_pod_cidr": "172.16.0.0/23", "pod_network_values_extra": {"hubbel": {}}},
            ["pod_network_node_mask_size: leaves 2 node blocks of /24 in 172.16.0.0/23 for 4 nodes"],
        ),
        ({"pod_network_values_extra": {"hubbel": {}}}, ["pod_network_values_extra: 'hubbel' is not a value"]),
    ],
)  # fmt: skip
def test_bad_input_is_refused_before_anything_is_written(tmp_path, extra, messages):
    # playbooks/addons.yml checks every add-on's input first; the kubeconfig is never read before that.
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\nclusters: []\n")
    playbook = f"- ansible.builtin.import_playbook: {ROOT}/playbooks/addons.yml\n"
    result, manifests = run(tmp_path, playbook, kube_addons_kubeconfig=str(kubeconfig), **extra)
    assert result.returncode != 0
    for message in messages:
        assert message in result.stdout
    assert "Check the add-on inputs" in result.stdout
    assert not manifests.exists()


def test_pod_network_values_in_the_manifest_folder(rendered):
    values = yaml.safe_load((rendered["dir"] / "pod-network-cilium-values.yaml").read_text())
    assert values["ipam"] == {
        "mode": "cluster-pool",
        "operator": {"clusterPoolIPv4PodCIDRList": ["10.128.0.0/11"], "clusterPoolIPv4MaskSize": 24},
    }
    assert (values["kubeProxyReplacement"], values["k8sServiceHost"]) == (True, "auto")
    assert values["hubble"] == {"enabled": False}


def test_addons_playbook_says_it_skips_without_a_kubeconfig(tmp_path):
    playbook = f"- ansible.builtin.import_playbook: {ROOT}/playbooks/addons.yml\n"
    result, manifests = run(tmp_path, playbook)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "SKIPPING the cluster add-ons" in result.stdout
    assert not manifests.exists()


def test_string_forms_from_extra_vars(tmp_path):
    # What `-e name=value` passes: every boolean and number as a string.
    result, manifests = run(
        tmp_path,
        coredns_nodelocaldns_enabled="false",
        coredns_autoscaler_min="3",
        coredns_autoscaler_max="4",
        coredns_autoscaler_prevent_single_point_failure="false",
        node_problem_detector_max_output_length="100",
        gpu_operator_driver_enabled="false",
        kube_eventer_enabled="false",
        coredns_node_selector={"pool": "infra", "dns": "yes"},
        pod_network_node_mask_size="23",
        pod_network_kube_proxy_replacement="false",
        pod_network_hubble_enabled="yes",
    )
    assert result.returncode == 0, result.stdout[-3000:]
    docs = documents(manifests / "coredns.yaml")
    assert "DaemonSet" not in [doc["kind"] for doc in docs]
    params = json.loads(by_name(docs, "ConfigMap", "coredns-autoscaler")["data"]["linear"])
    assert (params["min"], params["max"], params["preventSinglePointFailure"]) == (3, 4, False)
    # The autoscaler counts the nodes CoreDNS may run on: its --nodelabels is CoreDNS's node selector.
    autoscaler = by_name(docs, "Deployment", "coredns-autoscaler")["spec"]["template"]["spec"]["containers"][0]
    assert "--nodelabels=dns=yes,pool=infra" in autoscaler["command"]
    selector = by_name(docs, "Deployment", "coredns")["spec"]["template"]["spec"]["nodeSelector"]
    assert selector == {"kubernetes.io/os": "linux", "pool": "infra", "dns": "yes"}
    values = yaml.safe_load((manifests / "gpu-operator-values.yaml").read_text())
    assert values["driver"] == {"enabled": False}
    config = by_name(documents(manifests / "node-problem-detector.yaml"), "ConfigMap", "node-problem-detector-config")
    assert json.loads(config["data"]["aiplatform-checks.json"])["pluginConfig"]["max_output_length"] == 100
    assert not (manifests / "kube-eventer.yaml").exists()
    network = yaml.safe_load((manifests / "pod-network-cilium-values.yaml").read_text())
    assert network["ipam"]["operator"]["clusterPoolIPv4MaskSize"] == 23
    assert (network["kubeProxyReplacement"], network["hubble"]) == (False, {"enabled": True})
