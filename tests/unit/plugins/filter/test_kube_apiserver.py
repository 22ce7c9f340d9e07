"""Unit tests for the kube_apiserver filters: override strings, tier limits, flags, kubeadm and static pod
objects (schema-validated), CIS 1.2 coverage and the input checks."""

from __future__ import annotations

from pathlib import Path

import cis_apiserver
import kube_schemas
import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.cluster.plugins.filter.kube_apiserver import (
    FilterModule,
    kube_apiserver_etcd_overrides,
    kube_apiserver_etcd_servers,
    kube_apiserver_flags,
    kube_apiserver_kubeadm_config,
    kube_apiserver_kubeadm_patch,
    kube_apiserver_limits,
    kube_apiserver_problems,
    kube_apiserver_static_pod,
)

ROOT = Path(__file__).resolve().parents[4]
DEFAULTS = yaml.safe_load((ROOT / "roles/kube_apiserver/defaults/main.yml").read_text(encoding="utf-8"))
MAIN = ["https://10.0.0.1:2379", "https://10.0.0.2:2379", "https://10.0.0.3:2379"]
EVENTS = ["https://10.0.1.1:2382", "https://10.0.1.2:2382", "https://10.0.1.3:2382"]
# Written out from docs/kube-apiserver.md ("limits"), never imported from the filter under test.
TIERS = {
    "small": {"max_requests_inflight": 400, "max_mutating_requests_inflight": 200, "cpu": "1", "memory": "2Gi"},
    "medium": {"max_requests_inflight": 1000, "max_mutating_requests_inflight": 500, "cpu": "4", "memory": "16Gi"},
    "large": {"max_requests_inflight": 2000, "max_mutating_requests_inflight": 1000, "cpu": "8", "memory": "32Gi"},
    "xlarge": {"max_requests_inflight": 3000, "max_mutating_requests_inflight": 1000, "cpu": "16", "memory": "64Gi"},
}
# Flags the role sets itself and kube_apiserver_extra_args may not override (docs/kube-apiserver.md).
CONTROLLED_FLAGS = (
    "anonymous-auth",
    "authorization-mode",
    "enable-admission-plugins",
    "disable-admission-plugins",
    "admission-control-config-file",
    "profiling",
    "audit-policy-file",
    "audit-log-path",
    "audit-log-maxage",
    "audit-log-maxbackup",
    "audit-log-maxsize",
    "encryption-provider-config",
    "tls-cipher-suites",
    "tls-min-version",
    "service-account-lookup",
    "token-auth-file",
    "etcd-servers",
    "etcd-servers-overrides",
    "etcd-cafile",
    "etcd-certfile",
    "etcd-keyfile",
    "max-requests-inflight",
    "max-mutating-requests-inflight",
    "goaway-chance",
    "admission-control",
    "tls-cert-file",
    "tls-private-key-file",
    "client-ca-file",
    "kubelet-certificate-authority",
    "kubelet-client-certificate",
    "kubelet-client-key",
    "requestheader-client-ca-file",
    "requestheader-allowed-names",
    "proxy-client-cert-file",
    "proxy-client-key-file",
    "service-account-key-file",
    "service-account-signing-key-file",
    "service-account-issuer",
    "service-account-extend-token-expiration",
    "service-cluster-ip-range",
    "advertise-address",
    "bind-address",
    "secure-port",
    "event-ttl",
    "request-timeout",
)


def settings(**changes):
    """The settings dict of roles/kube_apiserver/vars/main.yml, from the role defaults (templated by hand)."""
    values = {k.removeprefix("kube_apiserver_"): v for k, v in DEFAULTS.items()}
    values |= {
        "advertise_address": "10.0.0.1",
        "patches_dir": "/etc/kubernetes/kubeadm/patches",
        "service_account_issuer": "https://kubernetes.default.svc.cluster.local",
        "control_plane_hosts": ["cp1", "cp2", "cp3"],
        "replicas": 3,
        "etcd": {
            "main": "main",
            "servers": MAIN,
            "overrides": "/events#" + ";".join(EVENTS),
            "override_clusters": ["events"],
            "unserved": [],
            "no_address": [],
        },
        "etcd_ca_file": "/etc/kubernetes/pki/etcd/ca.crt",
        "etcd_cert_file": "/etc/kubernetes/pki/apiserver-etcd-client.crt",
        "etcd_key_file": "/etc/kubernetes/pki/apiserver-etcd-client.key",
    }
    return values | changes


def kubeadm_init(values):
    return {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "InitConfiguration",
        "localAPIEndpoint": {"advertiseAddress": values["advertise_address"], "bindPort": values["secure_port"]},
        "patches": {"directory": "/etc/kubernetes/kubeadm/patches"},
    }


def test_filters_are_registered():
    assert set(FilterModule().filters()) >= {"kube_apiserver_etcd_overrides", "kube_apiserver_flags"}


def test_events_override_lists_every_member_in_order():
    assert kube_apiserver_etcd_overrides(["/events"], EVENTS) == (
        "/events#https://10.0.1.1:2382;https://10.0.1.2:2382;https://10.0.1.3:2382"
    )


def test_override_of_several_resources_and_a_core_resource_without_slash():
    assert kube_apiserver_etcd_overrides(["events", "coordination.k8s.io/leases"], ["https://e:2382"]) == (
        "/events#https://e:2382,coordination.k8s.io/leases#https://e:2382"
    )


@pytest.mark.parametrize(("resources", "servers"), [(["/events"], []), (["group/"], ["https://e:1"])])
def test_override_without_servers_or_with_a_bad_resource_fails(resources, servers):
    with pytest.raises(AnsibleFilterError):
        kube_apiserver_etcd_overrides(resources, servers)


@pytest.mark.parametrize("tier", list(TIERS))
def test_tier_limits_grow_and_explicit_values_win(tier):
    assert kube_apiserver_limits(tier) == TIERS[tier]
    assert kube_apiserver_limits(tier, 1234, 567)["max_requests_inflight"] == 1234
    assert kube_apiserver_limits(tier, 1234, 567)["max_mutating_requests_inflight"] == 567


def test_small_tier_keeps_the_upstream_defaults_and_larger_tiers_raise_them():
    assert kube_apiserver_limits("small")["max_requests_inflight"] == 400
    assert kube_apiserver_limits("small")["max_mutating_requests_inflight"] == 200
    sums = [sum(kube_apiserver_limits(t)[k] for k in ("max_requests_inflight", "max_mutating_requests_inflight"))
            for t in TIERS]  # fmt: skip
    assert sums == sorted(sums)


def test_unknown_tier_fails():
    with pytest.raises(AnsibleFilterError, match="kube_apiserver_cluster_tier"):
        kube_apiserver_limits("huge")


def test_flags_wire_both_etcd_clusters_and_the_limits():
    flags = kube_apiserver_flags(settings(max_requests_inflight=900))
    assert flags["etcd-servers"] == ",".join(MAIN)
    assert flags["etcd-servers-overrides"] == "/events#" + ";".join(EVENTS)
    assert flags["max-requests-inflight"] == "900"
    assert flags["max-mutating-requests-inflight"] == str(TIERS["medium"]["max_mutating_requests_inflight"])
    assert flags["event-ttl"] == "1h"
    assert flags["request-timeout"] == "60s"


def test_no_override_without_events_cluster():
    etcd = settings()["etcd"] | {"overrides": "", "override_clusters": []}
    assert "etcd-servers-overrides" not in kube_apiserver_flags(settings(etcd=etcd))


# topology_etcd_clusters: the defaults of the topology role plus a third cluster for leases.
CLUSTERS = [
    {"name": "main", "group": "etcd_main", "client_port": 2379},
    {"name": "events", "group": "etcd_events", "client_port": 2382, "apiserver_resources": ["/events"]},
    {"name": "leases", "group": "etcd_leases", "client_port": 2385,
     "apiserver_resources": ["coordination.k8s.io/leases"]},
]  # fmt: skip
GROUPS = {"etcd_main": ["cp1", "cp2", "cp3"], "etcd_events": ["ev1", "ev2"], "etcd_leases": ["ls1"]}
HOSTVARS = {
    "cp1": {"etcd_address": "10.0.0.1"},
    # No etcd_address: the default IPv4 address of its facts, as the etcd role.
    "cp2": {"ansible_facts": {"default_ipv4": {"address": "10.0.0.2"}}},
    "cp3": {"etcd_address": "fd00::3"},
    "ev1": {"etcd_address": "10.0.1.1"},
    "ev2": {"etcd_address": "fd00:1::2"},
    "ls1": {"etcd_address": "10.0.2.1"},
}


def test_etcd_servers_and_overrides_from_the_contract_with_ipv6_in_brackets():
    etcd = kube_apiserver_etcd_servers(CLUSTERS, GROUPS, HOSTVARS)
    assert etcd["main"] == "main"
    assert etcd["servers"] == ["https://10.0.0.1:2379", "https://10.0.0.2:2379", "https://[fd00::3]:2379"]
    assert etcd["overrides"] == (
        "/events#https://10.0.1.1:2382;https://[fd00:1::2]:2382,coordination.k8s.io/leases#https://10.0.2.1:2385"
    )
    assert etcd["override_clusters"] == ["events", "leases"]
    flags = kube_apiserver_flags(settings(etcd=etcd))
    assert flags["etcd-servers"] == "https://10.0.0.1:2379,https://10.0.0.2:2379,https://[fd00::3]:2379"
    assert flags["etcd-servers-overrides"] == etcd["overrides"]


@pytest.mark.parametrize(("mode", "overrides", "unserved"), [
    ("auto", "coordination.k8s.io/leases#https://10.0.2.1:2385", []),
    ("true", "coordination.k8s.io/leases#https://10.0.2.1:2385", ["events"]),
    (False, "", []),
])  # fmt: skip
def test_override_modes_without_events_members(mode, overrides, unserved):
    groups = GROUPS | {"etcd_events": []}
    etcd = kube_apiserver_etcd_servers(CLUSTERS, groups, HOSTVARS, mode)
    assert (etcd["overrides"], etcd["unserved"]) == (overrides, unserved)


def test_a_member_without_address_is_named():
    etcd = kube_apiserver_etcd_servers(CLUSTERS, GROUPS, HOSTVARS | {"cp2": {}})
    assert etcd["no_address"] == ["cp2"]
    errors = kube_apiserver_problems(settings(etcd=etcd))["errors"]
    assert errors == [
        "etcd_address: no address for etcd member(s) cp2 (set etcd_address, or gather their facts: "
        "playbooks/kube_apiserver.yml does)"
    ]


@pytest.mark.parametrize(
    ("replicas", "endpoint", "expected"),
    [(3, "lb:6443", True), (1, "lb:6443", False), (3, "", False)],
)
def test_goaway_only_with_several_replicas_behind_a_balancer(replicas, endpoint, expected):
    flags = kube_apiserver_flags(settings(replicas=replicas, control_plane_endpoint=endpoint))
    assert ("goaway-chance" in flags) is expected
    if expected:
        assert flags["goaway-chance"] == "0.001"


def test_event_rate_limit_adds_the_plugin_and_its_configuration():
    flags = kube_apiserver_flags(settings(event_rate_limits=[{"type": "Server", "qps": 10, "burst": 20}]))
    assert flags["enable-admission-plugins"] == "NodeRestriction,EventRateLimit"
    assert flags["admission-control-config-file"].endswith("/admission-config.yaml")
    assert "admission-control-config-file" not in kube_apiserver_flags(settings())


def test_extra_args_add_flags():
    assert kube_apiserver_flags(settings(extra_args={"watch-cache": "true"}))["watch-cache"] == "true"


def test_static_pod_validates_against_the_openapi_schema_and_runs_the_flags():
    values = settings(mode="static_pod")
    flags = kube_apiserver_flags(values)
    pod = kube_apiserver_static_pod(flags, values)
    assert kube_schemas.validate(pod, values["kubernetes_version"]) == "openapi"
    assert cis_apiserver.flags_of_pod(pod) == flags
    container = pod["spec"]["containers"][0]
    assert container["image"] == "registry.k8s.io/kube-apiserver:v1.34.2"
    assert container["resources"]["requests"] == {"cpu": TIERS["medium"]["cpu"], "memory": TIERS["medium"]["memory"]}
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/etc/kubernetes/pki", "/etc/kubernetes/apiserver", "/var/log/kubernetes/audit"} <= mounts
    assert container["livenessProbe"]["tcpSocket"] == {"host": "10.0.0.1", "port": 6443}


def test_static_pod_mounts_an_etcd_pki_outside_the_kubernetes_pki():
    values = settings(etcd_ca_file="/etc/etcd/pki/ca.crt")
    pod = kube_apiserver_static_pod(kube_apiserver_flags(values), values)
    assert "/etc/etcd/pki" in {v["hostPath"]["path"] for v in pod["spec"]["volumes"]}


def test_kubeadm_configuration_has_the_required_fields_and_types():
    values = settings()
    flags = kube_apiserver_flags(values)
    config = kube_apiserver_kubeadm_config(flags, values)
    assert kube_schemas.validate(config, values["kubernetes_version"]) == "schema"
    assert kube_schemas.validate(kubeadm_init(values), values["kubernetes_version"]) == "schema"
    assert config["etcd"]["external"]["endpoints"] == MAIN
    names = [a["name"] for a in config["apiServer"]["extraArgs"]]
    assert "etcd-servers" not in names and "advertise-address" not in names
    assert cis_apiserver.flags_of_kubeadm(kubeadm_init(values), config) == flags


def test_kubeadm_configuration_with_a_balancer_and_sans():
    values = settings(control_plane_endpoint="lb:6443", cert_sans=["lb", "10.0.0.100"])
    config = kube_apiserver_kubeadm_config(kube_apiserver_flags(values), values)
    assert config["controlPlaneEndpoint"] == "lb:6443"
    assert config["apiServer"]["certSANs"] == ["lb", "10.0.0.100"]
    kube_schemas.validate(config, values["kubernetes_version"])


def test_kubeadm_schema_catches_a_wrong_type():
    values = settings()
    config = kube_apiserver_kubeadm_config(kube_apiserver_flags(values), values)
    config["apiServer"]["extraArgs"][0]["value"] = 5
    with pytest.raises(kube_schemas.jsonschema.ValidationError):
        kube_schemas.validate(config, values["kubernetes_version"])
    del config["etcd"]["external"]["caFile"]
    with pytest.raises(kube_schemas.jsonschema.ValidationError):
        kube_schemas.validate(config, values["kubernetes_version"])


def test_kubeadm_patch_replaces_the_http_probes_and_sets_requests():
    patch = kube_apiserver_kubeadm_patch(settings(cluster_tier="large"))
    container = patch["spec"]["containers"][0]
    assert container["name"] == "kube-apiserver"
    assert container["livenessProbe"]["httpGet"] is None
    assert container["resources"]["requests"]["memory"] == TIERS["large"]["memory"]


@pytest.mark.parametrize("mode", ["kubeadm", "static_pod"])
def test_every_cis_item_is_met_by_the_rendered_flags(mode):
    values = settings(mode=mode)
    flags = kube_apiserver_flags(values)
    if mode == "kubeadm":
        rendered = cis_apiserver.flags_of_kubeadm(kubeadm_init(values), kube_apiserver_kubeadm_config(flags, values))
    else:
        rendered = cis_apiserver.flags_of_pod(kube_apiserver_static_pod(flags, values))
    assert cis_apiserver.misses(rendered) == []


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("anonymous-auth", "true"),
        ("authorization-mode", "AlwaysAllow"),
        ("profiling", "true"),
        ("audit-log-maxage", "7"),
        ("tls-cipher-suites", "TLS_RSA_WITH_AES_128_CBC_SHA"),
        ("enable-admission-plugins", "AlwaysAdmit"),
        ("token-auth-file", "/tokens.csv"),
        ("service-account-extend-token-expiration", "true"),
    ],
)
def test_the_cis_map_catches_a_miss(flag, value):
    flags = kube_apiserver_flags(settings()) | {flag: value}
    assert cis_apiserver.misses(flags)


def test_the_cis_map_covers_every_automated_item_of_section_1_2():
    ids = sorted(int(item.split()[0].split(".")[2]) for item in cis_apiserver.AUTOMATED)
    assert ids == [2, 4, 5, 6, 7, 8, 10, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 23, 24, 25, 26, 30]


def test_every_controlled_flag_is_refused_in_extra_args():
    for flag in CONTROLLED_FLAGS:
        errors = kube_apiserver_problems(settings(extra_args={flag: "x"}))["errors"]
        assert any("kube_apiserver_extra_args" in e and flag in e for e in errors), flag


def test_defaults_have_no_problems():
    assert kube_apiserver_problems(settings(control_plane_endpoint="lb.example:6443")) == {"errors": [], "warnings": []}


BAD = {
    "no control plane hosts": ({"control_plane_hosts": []}, "topology_groups.control_plane"),
    "events override without events members": (
        {"etcd": {"main": "main", "servers": MAIN, "overrides": "", "unserved": ["events"]}},
        "kube_apiserver_etcd_events_override",
    ),
    "no main etcd endpoints": ({"etcd": {"main": "main", "servers": []}}, "topology_etcd_clusters"),
    "APF schema on an undefined level": (
        {"apf_flow_schemas": [DEFAULTS["kube_apiserver_apf_flow_schemas"][0] | {"priority_level": "no-such-level"}]},
        "kube_apiserver_apf_flow_schemas",
    ),
    "APF levels with the same name": (
        {"apf_priority_levels": DEFAULTS["kube_apiserver_apf_priority_levels"][:1] * 2},
        "kube_apiserver_apf_priority_levels",
    ),
    "inflight zero": ({"max_requests_inflight": 0}, "kube_apiserver_max_requests_inflight"),
    "inflight negative": ({"max_mutating_requests_inflight": -5}, "kube_apiserver_max_mutating_requests_inflight"),
    "inflight not a number": ({"max_requests_inflight": "lots"}, "kube_apiserver_max_requests_inflight"),
    "inflight float": ({"max_requests_inflight": 800.5}, "kube_apiserver_max_requests_inflight"),
    "inflight bool": ({"max_requests_inflight": True}, "kube_apiserver_max_requests_inflight"),
    "goaway too high": ({"goaway_chance": 0.05}, "kube_apiserver_goaway_chance"),
    "goaway negative": ({"goaway_chance": -0.01}, "kube_apiserver_goaway_chance"),
    "production with 2 replicas": ({"control_plane_hosts": ["cp1", "cp2"]}, "kube_apiserver_profile production"),
    "audit maxage below CIS": ({"audit_log_maxage": 7}, "kube_apiserver_audit_log_maxage"),
    "audit maxbackup below CIS": ({"audit_log_maxbackup": 3}, "kube_apiserver_audit_log_maxbackup"),
    "audit maxsize below CIS": ({"audit_log_maxsize": 10}, "kube_apiserver_audit_log_maxsize"),
    "weak cipher": ({"tls_cipher_suites": ["TLS_RSA_WITH_AES_128_CBC_SHA"]}, "kube_apiserver_tls_cipher_suites"),
    "bad event ttl": ({"event_ttl": "an hour"}, "kube_apiserver_event_ttl"),
    "bad rate limit": ({"event_rate_limits": [{"type": "Everyone", "qps": 1, "burst": 1}]}, "event_rate_limits[0]"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_an_error_naming_the_variable(case):
    changes, variable = BAD[case]
    errors = kube_apiserver_problems(settings(**changes))["errors"]
    assert errors, case
    assert any(variable in e for e in errors), errors


def test_development_profile_only_warns_below_three_replicas():
    result = kube_apiserver_problems(settings(profile="development", control_plane_hosts=["cp1"]))
    assert result["errors"] == []
    assert any("topology_groups.control_plane" in w for w in result["warnings"])


def test_default_audit_policy_validates_and_keeps_secrets_at_metadata():
    policy = {
        "apiVersion": "audit.k8s.io/v1",
        "kind": "Policy",
        "omitStages": ["RequestReceived"],
        "rules": DEFAULTS["kube_apiserver_audit_policy_rules"],
    }
    assert kube_schemas.validate(policy, DEFAULTS["kube_apiserver_kubernetes_version"]) == "schema"
    first_secret_rule = next(
        r for r in policy["rules"] if any("secrets" in g.get("resources", []) for g in r.get("resources", []))
    )
    assert first_secret_rule["level"] == "Metadata"
    assert policy["rules"][-1] == {"level": "Metadata"}


def test_extra_vars_strings_are_typed():
    # -e kube_apiserver_max_requests_inflight=800 -e kube_apiserver_goaway_chance=0.01 arrive as strings.
    strings = settings(
        max_requests_inflight="800",
        goaway_chance="0.01",
        audit_log_maxage="30",
        secure_port="6443",
        control_plane_endpoint="lb:6443",
        node_cidr_mask_size="24",
        scheduler_kube_api_qps="300",
    )
    assert kube_apiserver_problems(strings) == {"errors": [], "warnings": []}
    flags = kube_apiserver_flags(strings | {"control_plane_endpoint": "lb:6443"})
    assert (flags["max-requests-inflight"], flags["goaway-chance"], flags["secure-port"]) == ("800", "0.01", "6443")
    probe = kube_apiserver_static_pod(flags, strings)["spec"]["containers"][0]["livenessProbe"]
    assert probe["tcpSocket"]["port"] == 6443
