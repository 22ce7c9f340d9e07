"""Inputs refused early (issue 13): one case per rule of the etcd, kube_apiserver, kubelet, containerd and
node_os problem filters. Each bad value gives exactly one message, and that message starts with the variable
at fault; each valid value also passes in the string form `-e name=value` gives it.

Baselines are written out here (the kube_apiserver one from its role defaults, as test_kube_apiserver.py
does); expected messages are literal, never built by the code under test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.aiplatform.cluster.plugins.filter.containerd import containerd_problems
from ansible_collections.aiplatform.cluster.plugins.filter.etcd import etcd_problems
from ansible_collections.aiplatform.cluster.plugins.filter.kube_apiserver import kube_apiserver_problems
from ansible_collections.aiplatform.cluster.plugins.filter.kubelet_reservations import kubelet_problems
from ansible_collections.aiplatform.cluster.plugins.filter.node_os import node_os_problems

ROOT = Path(__file__).resolve().parents[4]
SHA256 = "sha256:" + "0123456789abcdef" * 4

# --- etcd -------------------------------------------------------------------------------------------------
ETCD_GLOBAL = {
    "install_method": "archive",
    "version": "3.5.21",
    "archive_url": "https://github.com/etcd-io/etcd/releases/download/v3.5.21/etcd-v3.5.21-linux-amd64.tar.gz",
    "archive_checksum": SHA256,
    "archive_src": "",
    "packages": ["etcd-server", "etcd-client"],
    "quota_backend_bytes": "8GiB",
    "auto_compaction_mode": "periodic",
    "auto_compaction_retention": "1h",
    "heartbeat_interval": 100,
    "election_timeout": 1000,
    "snapshot_count": 100000,
    "max_request_bytes": 1572864,
    "metrics": "basic",
    "backup_enabled": True,
    "backup_on_calendar": "hourly",
    "backup_keep": 24,
    "backup_hook": "",
}
ETCD_OPS = {
    "etcd_pki_controller_dir": "/srv/etcd-pki",
    "etcd_ca_validity_days": 3650,
    "etcd_cert_validity_days": 365,
    "etcd_cert_renew_before_days": 30,
    "etcd_pki_days": "",
    "etcd_limit_nofile": 65536,
    "etcd_backup_root": "/var/backups/etcd",
    "etcd_cipher_suites": ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"],
    "etcd_restart_allow_degraded": False,
    "etcd_ops_timeout": 5,
}
# The argument spec's choices, as roles/etcd/vars/main.yml reads them from meta/argument_specs.yml.
ETCD_CHOICES = {
    "install_method": ["archive", "package"],
    "auto_compaction_mode": ["periodic", "revision"],
    "metrics": ["basic", "extensive"],
}
ETCD_CLUSTERS = [
    {"name": "main", "group": "etcd_main", "client_port": 2379, "peer_port": 2380, "metrics_port": 2381},
    {"name": "events", "group": "etcd_events", "client_port": 2382, "peer_port": 2383, "metrics_port": 2384,
     "apiserver_resources": ["/events"]},
]  # fmt: skip
ETCD_GROUPS = {"etcd_main": ["cp1", "cp2", "cp3"], "etcd_events": ["ev1", "ev2", "ev3"]}
ETCD_HOSTVARS = {"cp1": {"etcd_address": "10.0.0.1"}, "cp2": {}, "ev1": {"etcd_address": "fd00::11"}}


def etcd_errors(settings=None, overrides=None, *, ops=None, hostvars=None, cluster="main", groups=None):
    return etcd_problems(
        ETCD_CLUSTERS,
        cluster,
        {**ETCD_GLOBAL, **(settings or {})},
        overrides or {},
        groups if groups is not None else ETCD_GROUPS,
        ops={**ETCD_OPS, **(ops or {})},
        choices=ETCD_CHOICES,
        hostvars=hostvars if hostvars is not None else ETCD_HOSTVARS,
    )["errors"]


ETCD_BAD = {
    "backup_keep 0": ({"settings": {"backup_keep": 0}}, "etcd_backup_keep: must be a whole number of 1 or more"),
    "backup_keep 0 from -e": ({"settings": {"backup_keep": "0"}}, "etcd_backup_keep: must be a whole number of 1"),
    "backup_keep 1d": ({"settings": {"backup_keep": "1d"}}, "etcd_backup_keep: must be a whole number of 1 or more"),
    "backup_keep negative": ({"settings": {"backup_keep": -3}}, "etcd_backup_keep: must be a whole number of 1"),
    "archive URL without a scheme": (
        {"settings": {"archive_url": "github.com/etcd-io/etcd/etcd.tar.gz"}},
        "etcd_archive_url: must be an absolute URL with a scheme",
    ),
    "archive URL over ftp": (
        {"settings": {"archive_url": "ftp://mirror/etcd.tar.gz"}},
        "etcd_archive_url: must use https:// or http://, not ftp://",
    ),
    "archive_src without a checksum": (
        {"settings": {"archive_src": "/srv/etcd.tar.gz", "archive_checksum": ""}},
        "etcd_archive_checksum: is required (sha256:<64 hex digits> or sha512:<128 hex digits>): the copy of "
        "etcd_archive_src",
    ),
    "archive_src with a URL checksum (nothing would verify it)": (
        {"settings": {"archive_src": "/srv/etcd.tar.gz", "archive_checksum": "sha256:https://h/SHA256SUMS"}},
        "etcd_archive_checksum: must be the digest itself here, not a URL",
    ),
    "archive_src relative": (
        {"settings": {"archive_src": "etcd.tar.gz"}},
        "etcd_archive_src: must be an absolute path on the controller",
    ),
    "checksum that is a prefix": (
        {"settings": {"archive_checksum": "sha256:0123456789abcdef"}},
        "etcd_archive_checksum: has 16 hex digits; a sha256 digest has 64 (a prefix is no checksum)",
    ),
    "checksum without its algorithm": (
        {"settings": {"archive_checksum": "0123456789abcdef" * 4}},
        "etcd_archive_checksum: must name its algorithm",
    ),
    "checksum with a weak algorithm": (
        {"settings": {"archive_checksum": "md5:" + "0" * 32}},
        "etcd_archive_checksum: must name its algorithm",
    ),
    "checksum not hexadecimal": (
        {"settings": {"archive_checksum": "sha256:" + "z" * 64}},
        "etcd_archive_checksum: must be hexadecimal digits after 'sha256:'",
    ),
    "checksum file URL without a scheme": (
        {"settings": {"archive_checksum": "sha256:://SHA256SUMS"}},
        "etcd_archive_checksum: names a checksum file URL that must be an absolute URL with a scheme",
    ),
    "events cluster empty while it is the one handled": (
        {"cluster": "events", "groups": {"etcd_main": ["cp1", "cp2", "cp3"], "etcd_events": []}},
        "topology_etcd_clusters[events].group: has no members",
    ),
    "etcd_address a DNS name": (
        {"hostvars": {"cp2": {"etcd_address": "etcd2.example.org"}}},
        "etcd_address of cp2: must be an IP address (a DNS name cannot go into the certificate's IP SANs)",
    ),
    "etcd_address unspecified": (
        {"hostvars": {"ev2": {"etcd_address": "0.0.0.0"}}},
        "etcd_address of ev2: must be the host's own address, not the unspecified address",
    ),
    "backup calendar that does not parse": (
        {"settings": {"backup_on_calendar": "every hour"}},
        "etcd_backup_on_calendar: 'every' is not a weekday",
    ),
    "backup calendar hour out of range": (
        {"settings": {"backup_on_calendar": "*-*-* 24:00:00"}},
        "etcd_backup_on_calendar: hour 24 is outside 0..23",
    ),
    "backup calendar as a duration": (
        {"settings": {"backup_on_calendar": "1h"}},
        "etcd_backup_on_calendar: '1h' is not a date [year-]month-day",
    ),
    "backup hook on two lines": (
        {"settings": {"backup_hook": "/bin/ship\nrm -rf /"}},
        "etcd_backup_hook: must be one command line",
    ),
    "auto-compaction mode through an override": (
        {"overrides": {"events": {"auto_compaction_mode": "hourly"}}},
        "etcd_cluster_overrides.events.auto_compaction_mode: must be one of periodic, revision",
    ),
    "metrics through an override": (
        {"overrides": {"events": {"metrics": "full"}}},
        "etcd_cluster_overrides.events.metrics: must be one of basic, extensive",
    ),
    "retention not a duration": (
        {"settings": {"auto_compaction_retention": "1 hour"}},
        "etcd_auto_compaction_retention: must be a duration such as 1h or 30m",
    ),
    "retention a duration with mode revision": (
        {"settings": {"auto_compaction_mode": "revision", "auto_compaction_retention": "1h"}},
        "etcd_auto_compaction_retention: must be a whole number of revisions with mode revision",
    ),
    "a weak cipher suite": (
        {"ops": {"etcd_cipher_suites": ["TLS_RSA_WITH_AES_128_CBC_SHA"]}},
        "etcd_cipher_suites: must be among the CIS set",
    ),
    "no cipher suites": ({"ops": {"etcd_cipher_suites": []}}, "etcd_cipher_suites: must list the TLS 1.2 cipher"),
    "certificates valid 0 days": (
        {"ops": {"etcd_cert_validity_days": "0"}},
        "etcd_cert_validity_days: must be a whole number of 1 or more (got '0')",
    ),
    "CA valid 0 days": ({"ops": {"etcd_ca_validity_days": 0}}, "etcd_ca_validity_days: must be a whole number of 1"),
    "renewal window not a whole number": (
        {"ops": {"etcd_cert_renew_before_days": "2w"}},
        "etcd_cert_renew_before_days: must be a whole number of 1 or more (got '2w')",
    ),
    "renewal window of 0 days": (
        {"ops": {"etcd_cert_renew_before_days": 0}},
        "etcd_cert_renew_before_days: must be a whole number of 1 or more (got 0)",
    ),
    "renewal window as long as the certificates": (
        {"ops": {"etcd_cert_renew_before_days": "365"}},
        "etcd_cert_renew_before_days: must be less than etcd_cert_validity_days (365): a certificate would be "
        "renewed at every run (got '365')",
    ),
    "renewal window longer than the certificates": (
        {"ops": {"etcd_cert_validity_days": 20}},
        "etcd_cert_renew_before_days: must be less than etcd_cert_validity_days (20)",
    ),
    "certificates outliving the CA": (
        {"ops": {"etcd_ca_validity_days": 300}},
        "etcd_cert_validity_days: must not be more than etcd_ca_validity_days (300): a certificate cannot outlive "
        "its CA (got 365)",
    ),
    "the replaced single lifetime": (
        {"ops": {"etcd_pki_days": 825}},
        "etcd_pki_days: is replaced by etcd_ca_validity_days and etcd_cert_validity_days (docs/etcd.md); remove it "
        "(got 825)",
    ),
    "file limit too low": ({"ops": {"etcd_limit_nofile": 64}}, "etcd_limit_nofile: must be a whole number of 1024"),
    "relative backup root": ({"ops": {"etcd_backup_root": "backups"}}, "etcd_backup_root: must be an absolute path"),
    "degraded restart switch not a boolean": (
        {"ops": {"etcd_restart_allow_degraded": "maybe"}},
        "etcd_restart_allow_degraded: must be a boolean",
    ),
}


@pytest.mark.parametrize("case", sorted(ETCD_BAD))
def test_etcd_refuses(case):
    arguments, message = ETCD_BAD[case]
    errors = etcd_errors(**arguments)
    assert len(errors) == 1, errors
    assert errors[0].startswith(message), errors


def test_etcd_accepts_the_string_forms_and_the_other_valid_forms():
    settings = {"backup_keep": "3", "backup_enabled": "false", "heartbeat_interval": "100",
                "archive_checksum": "sha512:" + "ab" * 64, "backup_on_calendar": "Mon..Fri *-*-* 02:30:00 UTC",
                "auto_compaction_retention": "30m"}  # fmt: skip
    overrides = {
        "events": {"auto_compaction_mode": "revision", "auto_compaction_retention": "1000", "metrics": "extensive"}
    }
    ops = {
        "etcd_ca_validity_days": "730",
        "etcd_cert_validity_days": "90",
        "etcd_cert_renew_before_days": "89",
        "etcd_restart_allow_degraded": "true",
        "etcd_limit_nofile": "1048576",
        "etcd_cipher_suites": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    }
    assert etcd_errors(settings, overrides, ops=ops) == []
    src = {"archive_src": "/srv/etcd.tar.gz", "archive_url": "", "archive_checksum": SHA256}
    assert etcd_errors(src) == []
    download = {"archive_url": "http://web:8080/etcd.tar.gz", "archive_checksum": "sha256:http://web:8080/SHA256SUMS"}
    assert etcd_errors(download) == []
    for calendar in ("daily", "*-*-* 00/4:00:00", "Sat,Sun 03:00", "*:0/15", "*-*-01 04:00 Europe/Berlin"):
        assert etcd_errors({"backup_on_calendar": calendar}) == [], calendar


# --- kube_apiserver ------------------------------------------------------------------------------------------
APISERVER_DEFAULTS = yaml.safe_load((ROOT / "roles/kube_apiserver/defaults/main.yml").read_text(encoding="utf-8"))


def apiserver_settings(**changes):
    values = {k.removeprefix("kube_apiserver_"): v for k, v in APISERVER_DEFAULTS.items()}
    values |= {
        "advertise_address": "10.0.0.1",
        "service_account_issuer": "https://kubernetes.default.svc.cluster.local",
        "control_plane_hosts": ["cp1", "cp2", "cp3"],
        "replicas": 3,
        "etcd": {"main": "main", "servers": ["https://10.0.0.1:2379"], "overrides": "", "override_clusters": [],
                 "unserved": [], "no_address": []},
    }  # fmt: skip
    return values | changes


APISERVER_BAD = {
    "extra args blank the kubelet CA": (
        {"extra_args": {"kubelet-certificate-authority": ""}},
        "kube_apiserver_extra_args must not set ['kubelet-certificate-authority']",
    ),
    "extra args blank the client CA": (
        {"extra_args": {"client-ca-file": ""}},
        "kube_apiserver_extra_args must not set ['client-ca-file']",
    ),
    "extra args replace the serving certificate": (
        {"extra_args": {"tls-cert-file": "/tmp/x.crt", "tls-private-key-file": "/tmp/x.key"}},
        "kube_apiserver_extra_args must not set ['tls-cert-file', 'tls-private-key-file']",
    ),
    "extra args blank the service account key": (
        {"extra_args": {"service-account-key-file": ""}},
        "kube_apiserver_extra_args must not set ['service-account-key-file']",
    ),
    "extra args extend token expiration (CIS 1.2.30)": (
        {"extra_args": {"service-account-extend-token-expiration": "true"}},
        "kube_apiserver_extra_args must not set ['service-account-extend-token-expiration']",
    ),
    "extra args use the old admission-control alias": (
        {"extra_args": {"admission-control": "AlwaysAdmit"}},
        "kube_apiserver_extra_args must not set ['admission-control']",
    ),
    "extra args with dashes slip past the names": (
        {"extra_args": {"--client-ca-file": ""}},
        "kube_apiserver_extra_args: '--client-ca-file' is not a flag name",
    ),
    "extra args open an insecure port": (
        {"extra_args": {"insecure-port": "8080"}},
        "kube_apiserver_extra_args must not set ['insecure-port']",
    ),
    "extra args with an empty value": (
        {"extra_args": {"oidc-issuer-url": ""}},
        "kube_apiserver_extra_args.oidc-issuer-url must not be empty",
    ),
    "AlwaysAdmit": (
        {"admission_plugins": ["AlwaysAdmit"]},
        "kube_apiserver_admission_plugins must not enable AlwaysAdmit",
    ),
    "AlwaysAdmit from -e": (
        {"admission_plugins": "PodSecurity,AlwaysAdmit"},
        "kube_apiserver_admission_plugins must not enable AlwaysAdmit",
    ),
    "two plugins in one entry": (
        {"admission_plugins": ["PodSecurity AlwaysAdmit"]},
        "kube_apiserver_admission_plugins: 'PodSecurity AlwaysAdmit' is not one plugin name",
    ),
    "advertise address a DNS name": (
        {"advertise_address": "cp1.example.org"},
        "kube_apiserver_advertise_address: must be an IP address",
    ),
    "bind address a DNS name": ({"bind_address": "localhost"}, "kube_apiserver_bind_address: must be an IP address"),
    "service CIDR with host bits": (
        {"service_cidr": "10.96.0.1/12"},
        "kube_apiserver_service_cidr must be a network such as 10.96.0.0/12",
    ),
    "secure port out of range": ({"secure_port": "70000"}, "kube_apiserver_secure_port must be a port number"),
    "issuer without https": (
        {"service_account_issuer": "kubernetes.default.svc"},
        "kube_apiserver_service_account_issuer: must be an absolute URL with a scheme (https://)",
    ),
    "endpoint with a scheme": (
        {"control_plane_endpoint": "https://lb:6443"},
        "kube_apiserver_control_plane_endpoint must be an IP address or a DNS name, with an optional :port",
    ),
    "relative audit log": ({"audit_log_path": "audit.log"}, "kube_apiserver_audit_log_path must be an absolute path"),
    "events meant to be split but the events cluster is empty": (
        {
            "etcd": {
                "main": "main",
                "servers": ["https://10.0.0.1:2379"],
                "overrides": "",
                "override_clusters": [],
                "unserved": ["events"],
                "no_address": [],
            }
        },
        "kube_apiserver_etcd_events_override: true, but etcd cluster 'events' has no members",
    ),
}


@pytest.mark.parametrize("case", sorted(APISERVER_BAD))
def test_kube_apiserver_refuses(case):
    changes, message = APISERVER_BAD[case]
    errors = kube_apiserver_problems(apiserver_settings(**changes))["errors"]
    assert len(errors) == 1, errors
    assert errors[0].startswith(message), errors


def test_kube_apiserver_accepts_the_string_forms():
    changes = {"admission_plugins": "PodSecurity,EventRateLimit", "secure_port": "6443", "audit_log_maxage": "30",
               "extra_args": {"watch-cache": "true"}, "control_plane_endpoint": "[fd00::1]:6443",
               "bind_address": "::"}  # fmt: skip
    assert kube_apiserver_problems(apiserver_settings(**changes))["errors"] == []


# --- kubelet -------------------------------------------------------------------------------------------------
KUBELET = {
    "kubelet_reservation_formula": "gke",
    "kubelet_system_reserved_fraction": 0.3,
    "kubelet_eviction_hard": {"memory.available": "500Mi"},
    "kubelet_eviction_soft": {},
    "kubelet_eviction_soft_grace_period": {},
    "kubelet_image_gc_high_threshold_percent": 85,
    "kubelet_image_gc_low_threshold_percent": 75,
    "kubelet_max_parallel_image_pulls": 5,
    "kubelet_pod_pids_limit": 16384,
    "kubelet_max_pods": 110,
    "kubelet_system_reserved_override": {},
    "kubelet_kube_reserved_override": {},
    "kubelet_config_extra": {},
    "kubelet_cluster_dns": ["10.96.0.10"],
    "kubelet_client_ca_file": "/etc/kubernetes/pki/ca.crt",
    "kubelet_container_runtime_endpoint": "unix:///run/containerd/containerd.sock",
}
# The fields roles/kubelet/vars/main.yml pins (its _kubelet_cis), by name.
PINNED = {"authentication": {}, "authorization": {}, "readOnlyPort": 0, "rotateCertificates": True,
          "serverTLSBootstrap": True, "protectKernelDefaults": True}  # fmt: skip

KUBELET_BAD = {
    "negative CPU reservation": (
        {"kubelet_system_reserved_override": {"cpu": "-500m"}},
        "kubelet_system_reserved_override.cpu: must be a non-negative amount",
    ),
    "negative memory reservation": (
        {"kubelet_kube_reserved_override": {"memory": "-1Gi"}},
        "kubelet_kube_reserved_override.memory: must be a non-negative amount",
    ),
    "negative ephemeral storage reservation": (
        {"kubelet_kube_reserved_override": {"ephemeral-storage": "-10Gi"}},
        "kubelet_kube_reserved_override.ephemeral-storage: must be a non-negative amount",
    ),
    "negative pid reservation": (
        {"kubelet_system_reserved_override": {"pid": "-1"}},
        "kubelet_system_reserved_override.pid: must be a non-negative amount",
    ),
    "unknown reserved resource": (
        {"kubelet_system_reserved_override": {"gpu": "1"}},
        "kubelet_system_reserved_override.gpu: is not a resource the kubelet reserves",
    ),
    "streaming idle timeout 0 (CIS 4.2.5)": (
        {"kubelet_config_extra": {"streamingConnectionIdleTimeout": "0s"}},
        "kubelet_config_extra.streamingConnectionIdleTimeout: must be a non-zero duration",
    ),
    "TLS 1.0 minimum": (
        {"kubelet_config_extra": {"tlsMinVersion": "VersionTLS10"}},
        "kubelet_config_extra.tlsMinVersion: must be one of VersionTLS12, VersionTLS13",
    ),
    "no kubelet ciphers (Go's defaults)": (
        {"kubelet_config_extra": {"tlsCipherSuites": []}},
        "kubelet_config_extra.tlsCipherSuites: must list only the CIS suites",
    ),
    "weak kubelet ciphers (CIS 4.2.12)": (
        {"kubelet_config_extra": {"tlsCipherSuites": ["TLS_RSA_WITH_RC4_128_SHA"]}},
        "kubelet_config_extra.tlsCipherSuites: must list only the CIS suites",
    ),
    "blank serving certificate": (
        {"kubelet_config_extra": {"tlsCertFile": ""}},
        "kubelet_config_extra.tlsCertFile: must be an absolute path",
    ),
    "server certificate rotation off (CIS 4.2.11)": (
        {"kubelet_config_extra": {"featureGates": {"RotateKubeletServerCertificate": False}}},
        "kubelet_config_extra.featureGates.RotateKubeletServerCertificate: must not be turned off",
    ),
    "pod PID limit through the extras (CIS 4.2.13)": (
        {"kubelet_config_extra": {"podPidsLimit": -1}},
        "kubelet_config_extra.podPidsLimit: is set by kubelet_pod_pids_limit",
    ),
    "unlimited pod PIDs": ({"kubelet_pod_pids_limit": -1}, "kubelet_pod_pids_limit: must be 1 or more"),
    "a pinned CIS field through the extras": (
        {"kubelet_config_extra": {"readOnlyPort": 10255}},
        "kubelet_config_extra.readOnlyPort: is pinned by the role (CIS 4.2.x)",
    ),
    "cluster DNS a name": ({"kubelet_cluster_dns": ["kube-dns"]}, "kubelet_cluster_dns[0]: must be an IP address"),
    "relative client CA": ({"kubelet_client_ca_file": "ca.crt"}, "kubelet_client_ca_file: must be an absolute path"),
    "runtime endpoint over TCP": (
        {"kubelet_container_runtime_endpoint": "tcp://10.0.0.1:1234"},
        "kubelet_container_runtime_endpoint: must be unix:///",
    ),
}


@pytest.mark.parametrize("case", sorted(KUBELET_BAD))
def test_kubelet_refuses(case):
    changes, message = KUBELET_BAD[case]
    errors = kubelet_problems({**KUBELET, **changes}, PINNED)
    assert len(errors) == 1, errors
    assert errors[0].startswith(message), errors


def test_kubelet_accepts_valid_reservations_and_extras():
    changes = {
        "kubelet_system_reserved_override": {"cpu": "0.5", "memory": "2Gi", "ephemeral-storage": "10G", "pid": "1000"},
        "kubelet_kube_reserved_override": {"cpu": "0"},
        "kubelet_config_extra": {
            "streamingConnectionIdleTimeout": "30m",
            "tlsMinVersion": "VersionTLS13",
            "featureGates": {"RotateKubeletServerCertificate": True},
            "shutdownGracePeriod": "30s",
        },
    }
    assert kubelet_problems({**KUBELET, **changes}, PINNED) == []


# --- containerd ----------------------------------------------------------------------------------------------
CONTAINERD = {
    "containerd_install_method": "archive",
    "containerd_archive_url": "https://example.org/containerd.tar.gz",
    "containerd_archive_checksum": "sha256:https://example.org/containerd.tar.gz.sha256sum",
    "containerd_runc_url": "https://example.org/runc.amd64",
    "containerd_runc_checksum": SHA256,
    "containerd_snapshotter": "overlayfs",
    "containerd_max_concurrent_downloads": 10,
    "containerd_stargz_enabled": True,
    "containerd_stargz_archive_url": "https://example.org/stargz.tar.gz",
    "containerd_stargz_archive_checksum": SHA256,
    "containerd_dragonfly_enabled": True,
    "containerd_dragonfly_archive_url": "https://example.org/dragonfly.tar.gz",
    "containerd_dragonfly_archive_checksum": "sha256:https://example.org/checksums.txt",
    "containerd_dragonfly_schedulers": ["scheduler.example.org:8002"],
    "containerd_registry_allow_insecure": False,
    "containerd_registry_mirrors": [
        {"registry": "docker.io", "mirrors": [{"host": "https://mirror.example.org", "capabilities": ["pull"]}]}
    ],
}
PLAIN_MIRROR = [{"registry": "docker.io", "mirrors": [{"host": "http://mirror:5000"}]}]
SKIP_VERIFY = [{"registry": "docker.io", "mirrors": [{"host": "https://mirror", "skip_verify": True}]}]

CONTAINERD_BAD = {
    "mirror in plain HTTP": (
        {"containerd_registry_mirrors": PLAIN_MIRROR},
        "containerd_registry_mirrors[0].mirrors[0].host: is plain HTTP: use https://, or set "
        "containerd_registry_allow_insecure: true",
    ),
    "mirror with skip_verify": (
        {"containerd_registry_mirrors": SKIP_VERIFY},
        "containerd_registry_mirrors[0].mirrors[0].skip_verify: turns TLS verification off",
    ),
    "mirror with skip_verify from -e (a string)": (
        {"containerd_registry_mirrors": [{"registry": "r", "mirrors": [{"host": "https://m", "skip_verify": "yes"}]}]},
        "containerd_registry_mirrors[0].mirrors[0].skip_verify: turns TLS verification off",
    ),
    "origin in plain HTTP": (
        {"containerd_registry_mirrors": [{"registry": "registry:5000", "server": "http://registry:5000"}]},
        "containerd_registry_mirrors[0].server: is plain HTTP",
    ),
    "eStargz conversion in plain HTTP": (
        {"containerd_estargz_plain_http": "true"},
        "containerd_estargz_plain_http: talks plain HTTP to registries",
    ),
    "archive URL without a scheme": (
        {"containerd_archive_url": "example.org/containerd.tar.gz"},
        "containerd_archive_url: must be an absolute URL with a scheme",
    ),
    "runc checksum a prefix": (
        {"containerd_runc_checksum": "sha256:0123abcd"},
        "containerd_runc_checksum: has 8 hex digits; a sha256 digest has 64",
    ),
    "stargz checksum missing": (
        {"containerd_stargz_archive_checksum": ""},
        "containerd_stargz_archive_checksum: is required",
    ),
    "dragonfly URL without a scheme": (
        {"containerd_dragonfly_archive_url": "//example.org/dragonfly.tar.gz"},
        "containerd_dragonfly_archive_url: must be an absolute URL with a scheme",
    ),
    "scheduler without a port": (
        {"containerd_dragonfly_schedulers": ["scheduler.example.org"]},
        "containerd_dragonfly_schedulers[0]: must be host:port",
    ),
}


@pytest.mark.parametrize("case", sorted(CONTAINERD_BAD))
def test_containerd_refuses(case):
    changes, message = CONTAINERD_BAD[case]
    errors = containerd_problems({**CONTAINERD, **changes})
    assert len(errors) == 1, errors
    assert errors[0].startswith(message), errors


def test_containerd_insecure_registries_when_allowed_and_downloads_only_when_enabled():
    allowed = {"containerd_registry_allow_insecure": True, "containerd_estargz_plain_http": True,
               "containerd_registry_mirrors": PLAIN_MIRROR + SKIP_VERIFY}  # fmt: skip
    assert containerd_problems({**CONTAINERD, **allowed}) == []
    off = {"containerd_install_method": "package", "containerd_stargz_enabled": False,
           "containerd_dragonfly_enabled": False, "containerd_archive_checksum": "", "containerd_runc_url": "x",
           "containerd_stargz_archive_checksum": "sha256:1", "containerd_dragonfly_archive_url": ""}  # fmt: skip
    assert containerd_problems({**CONTAINERD, **off}) == []


# --- node_os -------------------------------------------------------------------------------------------------
NODE_OS = {
    "node_os_kernel_modules": ["overlay", "br_netfilter"],
    "node_os_neigh_gc_thresh1": 80000,
    "node_os_neigh_gc_thresh2": 90000,
    "node_os_neigh_gc_thresh3": 100000,
    "node_os_nf_conntrack_max": 1048576,
    "node_os_somaxconn": "4096",
    "node_os_inotify_max_user_instances": 8192,
    "node_os_inotify_max_user_watches": 1048576,
    "node_os_file_max": 9223372036854775807,
    "node_os_pid_max": 4194304,
    "node_os_max_map_count": "262144",
    "node_os_sysctls": {},
    "node_os_journald_system_max_use": "4G",
    "node_os_journald_system_max_file_size": "256M",
    "node_os_chrony_servers": ["0.debian.pool.ntp.org"],
    "node_os_chrony_makestep_threshold": "1.0",
    "node_os_chrony_makestep_limit": "3",
    "node_os_chrony_local_stratum": "0",
    "node_os_chrony_allow": [],
    "node_os_chrony_wait_s": "60",
    "node_os_chrony_server_options": "iburst",
    "node_os_sysctl_file": "/etc/sysctl.d/90-aiplatform-node.conf",
    "node_os_env_sysctl_writable": ["*"],
}
NODE_OS_BAD = {
    "a typo that | int made 0": ({"node_os_pid_max": "4M"}, "node_os_pid_max: must be a non-negative whole number"),
    "pid_max 0": ({"node_os_pid_max": "0"}, "node_os_pid_max: must be 1 or more"),
    "stratum a word": (
        {"node_os_chrony_local_stratum": "off"},
        "node_os_chrony_local_stratum: must be 0 (off) or 1..15",
    ),
    "makestep limit a word": (
        {"node_os_chrony_makestep_limit": "always"},
        "node_os_chrony_makestep_limit: must be -1 (always) or a count",
    ),
    "makestep threshold a word": (
        {"node_os_chrony_makestep_threshold": "soon"},
        "node_os_chrony_makestep_threshold: must be a positive number",
    ),
    "server options on two lines": (
        {"node_os_chrony_server_options": "iburst\nallow all"},
        "node_os_chrony_server_options: must be chrony server options on one line",
    ),
    "sysctl file outside sysctl.d": (
        {"node_os_sysctl_file": "/etc/sysctl.conf"},
        "node_os_sysctl_file: must be a /etc/sysctl.d/<name>.conf file",
    ),
}


@pytest.mark.parametrize("case", sorted(NODE_OS_BAD))
def test_node_os_refuses(case):
    changes, message = NODE_OS_BAD[case]
    errors = node_os_problems({**NODE_OS, **changes}, {"net.ipv4.ip_forward": 1})
    assert len(errors) == 1, errors
    assert errors[0].startswith(message), errors


def test_node_os_accepts_the_string_forms():
    assert node_os_problems(NODE_OS, {"net.ipv4.ip_forward": 1}) == []
