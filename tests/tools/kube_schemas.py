"""Validate rendered Kubernetes objects and configuration files.

API objects (Pod, FlowSchema, PriorityLevelConfiguration…) are checked against the upstream OpenAPI
schema of the target Kubernetes version with kubernetes-validate in strict mode (unknown fields fail).
Configuration kinds that the apiserver or kubeadm read from files have no OpenAPI schema; they are
checked against the JSON schemas below, written from their Go types (kubeadm v1beta4 types.go,
kubeproxy.config.k8s.io/v1alpha1 (staging/src/k8s.io/kube-proxy/config/v1alpha1/types.go), audit.k8s.io/v1,
apiserver.config.k8s.io/v1, eventratelimit v1alpha1): required fields, types, and no unknown fields in what
the collection renders. The kubelet's KubeletConfiguration (kubelet.config.k8s.io/v1beta1) is checked against
tests/schemas/kubeletconfiguration-v1beta1.json, written from its Go type (the file says which commit).
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import kubernetes_validate

_KUBELET_SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "kubeletconfiguration-v1beta1.json"

_STR = {"type": "string"}
_STRS = {"type": "array", "items": _STR}
_INT = {"type": "integer"}
_BOOL = {"type": "boolean"}


def _object(properties, required=()):
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


def _header(group_version, kind):
    return {"apiVersion": {"const": group_version}, "kind": {"const": kind}}


_ARG = _object({"name": _STR, "value": _STR}, ["name", "value"])
_HOST_PATH_MOUNT = _object(
    {"name": _STR, "hostPath": _STR, "mountPath": _STR, "readOnly": _BOOL, "pathType": _STR},
    ["name", "hostPath", "mountPath"],
)
_COMPONENT = {
    "extraArgs": {"type": "array", "items": _ARG},
    "extraVolumes": {"type": "array", "items": _HOST_PATH_MOUNT},
    "extraEnvs": {"type": "array", "items": {"type": "object"}},
}
_KUBEADM_VERSION = "kubeadm.k8s.io/v1beta4"
_KUBE_PROXY_VERSION = "kubeproxy.config.k8s.io/v1alpha1"
_NUMBER = {"type": "number"}
# metav1.Duration: a Go duration string.
_DURATION = {"type": "string", "pattern": r"^(0|(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+)$"}
_API_ENDPOINT = _object(
    {"advertiseAddress": _STR, "bindPort": {"type": "integer", "minimum": 1, "maximum": 65535}}, ["advertiseAddress"]
)
# kubeadm v1beta4 NodeRegistrationOptions.
_NODE_REGISTRATION = _object(
    {
        "name": _STR,
        "criSocket": _STR,
        "taints": {
            "type": ["array", "null"],
            "items": _object({"key": _STR, "value": _STR, "effect": _STR}, ["key", "effect"]),
        },
        "kubeletExtraArgs": {"type": "array", "items": _ARG},
        "ignorePreflightErrors": _STRS,
        "imagePullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]},
        "imagePullSerial": _BOOL,
    }
)
# kubeadm v1beta4 Timeouts.
_TIMEOUT_NAMES = ("controlPlaneComponentHealthCheck", "kubeletHealthCheck", "kubernetesAPICall", "etcdAPICall",
                  "tlsBootstrap", "discovery", "upgradeManifests")  # fmt: skip
_TIMEOUTS = _object({name: _DURATION for name in _TIMEOUT_NAMES})
# kubeadm v1beta4 Discovery: a bootstrap token (with the CA's public key pins) or a kubeconfig file.
_DISCOVERY = _object(
    {
        "bootstrapToken": _object(
            {
                "token": {"type": "string", "pattern": r"^[a-z0-9]{6}\.[a-z0-9]{16}$"},
                "apiServerEndpoint": _STR,
                "caCertHashes": {"type": "array", "items": {"type": "string", "pattern": r"^sha256:[0-9a-f]{64}$"}},
                "unsafeSkipCAVerification": _BOOL,
            },
            ["token"],
        ),
        "file": _object({"kubeConfigPath": _STR}, ["kubeConfigPath"]),
        "tlsBootstrapToken": _STR,
    }
)
_PROXY_PERIODS = {"syncPeriod": _DURATION, "minSyncPeriod": _DURATION}
STAGES = ["RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"]

SCHEMAS = {
    (_KUBEADM_VERSION, "ClusterConfiguration"): _object(
        _header(_KUBEADM_VERSION, "ClusterConfiguration")
        | {
            "etcd": _object(
                {
                    "external": _object(
                        {"endpoints": {**_STRS, "minItems": 1}, "caFile": _STR, "certFile": _STR, "keyFile": _STR},
                        ["endpoints", "caFile", "certFile", "keyFile"],
                    ),
                    "local": {"type": "object"},
                }
            ),
            "networking": _object({"serviceSubnet": _STR, "podSubnet": _STR, "dnsDomain": _STR}),
            "kubernetesVersion": {"type": "string", "pattern": r"^v\d+\.\d+\.\d+$"},
            "controlPlaneEndpoint": _STR,
            "apiServer": _object(_COMPONENT | {"certSANs": _STRS}),
            "controllerManager": _object(_COMPONENT),
            "scheduler": _object(_COMPONENT),
            "dns": {"type": "object"},
            "proxy": {"type": "object"},
            "certificatesDir": _STR,
            "imageRepository": _STR,
            "featureGates": {"type": "object", "additionalProperties": _BOOL},
            "clusterName": _STR,
            "encryptionAlgorithm": {"enum": ["ECDSA-P256", "ECDSA-P384", "RSA-2048", "RSA-3072", "RSA-4096"]},
            "certificateValidityPeriod": _STR,
            "caCertificateValidityPeriod": _STR,
        },
        ["apiVersion", "kind", "kubernetesVersion", "etcd"],
    ),
    (_KUBEADM_VERSION, "InitConfiguration"): _object(
        _header(_KUBEADM_VERSION, "InitConfiguration")
        | {
            "bootstrapTokens": {"type": "array"},
            "dryRun": _BOOL,
            "nodeRegistration": _NODE_REGISTRATION,
            "localAPIEndpoint": _API_ENDPOINT,
            "certificateKey": {"type": "string", "pattern": r"^[0-9a-f]{64}$"},
            "skipPhases": _STRS,
            "patches": _object({"directory": _STR}, ["directory"]),
            "timeouts": _TIMEOUTS,
        },
        ["apiVersion", "kind"],
    ),
    (_KUBEADM_VERSION, "JoinConfiguration"): _object(
        _header(_KUBEADM_VERSION, "JoinConfiguration")
        | {
            "dryRun": _BOOL,
            "nodeRegistration": _NODE_REGISTRATION,
            "caCertPath": _STR,
            "discovery": _DISCOVERY,
            "controlPlane": _object(
                {"localAPIEndpoint": _API_ENDPOINT, "certificateKey": {"type": "string", "pattern": r"^[0-9a-f]{64}$"}}
            ),
            "skipPhases": _STRS,
            "patches": _object({"directory": _STR}, ["directory"]),
            "timeouts": _TIMEOUTS,
        },
        ["apiVersion", "kind", "discovery"],
    ),
    (_KUBE_PROXY_VERSION, "KubeProxyConfiguration"): _object(
        _header(_KUBE_PROXY_VERSION, "KubeProxyConfiguration")
        | {
            "featureGates": {"type": "object", "additionalProperties": _BOOL},
            "clientConnection": _object(
                {"kubeconfig": _STR, "acceptContentTypes": _STR, "contentType": _STR, "qps": _NUMBER, "burst": _INT}
            ),
            "logging": {"type": "object"},
            "hostnameOverride": _STR,
            "bindAddress": _STR,
            "healthzBindAddress": _STR,
            "metricsBindAddress": _STR,
            "bindAddressHardFail": _BOOL,
            "enableProfiling": _BOOL,
            "showHiddenMetricsForVersion": _STR,
            "mode": {"enum": ["", "iptables", "ipvs", "nftables", "kernelspace"]},
            "iptables": _object(
                _PROXY_PERIODS
                | {
                    "masqueradeBit": {"type": "integer", "minimum": 0, "maximum": 31},
                    "masqueradeAll": _BOOL,
                    "localhostNodePorts": _BOOL,
                    "snatNodeInternalIP": _BOOL,
                }
            ),
            "ipvs": _object(
                _PROXY_PERIODS
                | {
                    "scheduler": _STR,
                    "excludeCIDRs": _STRS,
                    "strictARP": _BOOL,
                    "tcpTimeout": _DURATION,
                    "tcpFinTimeout": _DURATION,
                    "udpTimeout": _DURATION,
                }
            ),
            "nftables": _object(
                _PROXY_PERIODS
                | {"masqueradeBit": {"type": "integer", "minimum": 0, "maximum": 31}, "masqueradeAll": _BOOL}
            ),
            "winkernel": {"type": "object"},
            "detectLocalMode": {"enum": ["", "ClusterCIDR", "NodeCIDR", "BridgeInterface", "InterfaceNamePrefix"]},
            "detectLocal": _object({"bridgeInterface": _STR, "interfaceNamePrefix": _STR}),
            "clusterCIDR": _STR,
            "nodePortAddresses": _STRS,
            "oomScoreAdj": {"type": "integer", "minimum": -1000, "maximum": 1000},
            "conntrack": _object(
                {
                    "maxPerCore": _INT,
                    "min": _INT,
                    "tcpEstablishedTimeout": _DURATION,
                    "tcpCloseWaitTimeout": _DURATION,
                    "tcpBeLiberal": _BOOL,
                    "udpTimeout": _DURATION,
                    "udpStreamTimeout": _DURATION,
                }
            ),
            "configSyncPeriod": _DURATION,
            "portRange": _STR,
            "windowsRunAsService": _BOOL,
        },
        ["apiVersion", "kind"],
    ),
    ("audit.k8s.io/v1", "Policy"): _object(
        _header("audit.k8s.io/v1", "Policy")
        | {
            "metadata": {"type": "object"},
            "omitStages": {"type": "array", "items": {"enum": STAGES}},
            "omitManagedFields": _BOOL,
            "rules": {
                "type": "array",
                "minItems": 1,
                "items": _object(
                    {
                        "level": {"enum": ["None", "Metadata", "Request", "RequestResponse"]},
                        "users": _STRS,
                        "userGroups": _STRS,
                        "verbs": _STRS,
                        "resources": {
                            "type": "array",
                            "items": _object({"group": _STR, "resources": _STRS, "resourceNames": _STRS}),
                        },
                        "namespaces": _STRS,
                        "nonResourceURLs": _STRS,
                        "omitStages": _STRS,
                        "omitManagedFields": _BOOL,
                    },
                    ["level"],
                ),
            },
        },
        ["apiVersion", "kind", "rules"],
    ),
    ("apiserver.config.k8s.io/v1", "EncryptionConfiguration"): _object(
        _header("apiserver.config.k8s.io/v1", "EncryptionConfiguration")
        | {
            "resources": {
                "type": "array",
                "minItems": 1,
                "items": _object(
                    {
                        "resources": {**_STRS, "minItems": 1},
                        "providers": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "type": "object",
                                "minProperties": 1,
                                "maxProperties": 1,
                                "properties": {
                                    name: _object(
                                        {
                                            "keys": {
                                                "type": "array",
                                                "minItems": 1,
                                                "items": _object({"name": _STR, "secret": _STR}, ["name", "secret"]),
                                            }
                                        },
                                        ["keys"],
                                    )
                                    for name in ("aescbc", "aesgcm", "secretbox")
                                }
                                | {"identity": _object({}), "kms": {"type": "object"}},
                                "additionalProperties": False,
                            },
                        },
                    },
                    ["resources", "providers"],
                ),
            }
        },
        ["apiVersion", "kind", "resources"],
    ),
    ("apiserver.config.k8s.io/v1", "AdmissionConfiguration"): _object(
        _header("apiserver.config.k8s.io/v1", "AdmissionConfiguration")
        | {
            "plugins": {
                "type": "array",
                "items": _object({"name": _STR, "path": _STR, "configuration": {"type": "object"}}, ["name"]),
            }
        },
        ["apiVersion", "kind"],
    ),
    ("eventratelimit.admission.k8s.io/v1alpha1", "Configuration"): _object(
        _header("eventratelimit.admission.k8s.io/v1alpha1", "Configuration")
        | {
            "limits": {
                "type": "array",
                "minItems": 1,
                "items": _object(
                    {
                        "type": {"enum": ["Server", "Namespace", "User", "SourceAndObject"]},
                        "qps": {"type": "integer", "minimum": 1},
                        "burst": {"type": "integer", "minimum": 1},
                        "cacheSize": {"type": "integer", "minimum": 1},
                    },
                    ["type", "qps", "burst"],
                ),
            }
        },
        ["apiVersion", "kind", "limits"],
    ),
    ("kubelet.config.k8s.io/v1beta1", "KubeletConfiguration"): json.loads(_KUBELET_SCHEMA.read_text(encoding="utf-8")),
}


def schema_version(kubernetes_version):
    """The kubernetes-validate schema version for a release such as 1.34.2 (schemas exist per minor)."""
    major, minor = str(kubernetes_version).lstrip("v").split(".")[:2]
    return f"{major}.{minor}.0"


def validate(document, kubernetes_version):
    """Raise on a document that does not validate; return how it was checked (``openapi`` or ``schema``)."""
    key = (document.get("apiVersion"), document.get("kind"))
    if key in SCHEMAS:
        jsonschema.validate(document, SCHEMAS[key])
        if key == ("apiserver.config.k8s.io/v1", "AdmissionConfiguration"):
            for plugin in document.get("plugins", []):
                if "configuration" in plugin:
                    validate(plugin["configuration"], kubernetes_version)
        return "schema"
    kubernetes_validate.validate(document, schema_version(kubernetes_version), strict=True)
    return "openapi"


def _strict(schema):
    """A CRD's structural schema made strict: unknown fields fail where the schema lists the fields
    (the apiserver would prune them silently), unless the schema keeps unknown fields on purpose."""
    if not isinstance(schema, dict):
        return schema
    strict = {
        key: _strict(value) if key in ("items", "additionalProperties") else value for key, value in schema.items()
    }
    if "properties" in schema:
        strict["properties"] = {name: _strict(child) for name, child in schema["properties"].items()}
        if not schema.get("x-kubernetes-preserve-unknown-fields") and "additionalProperties" not in schema:
            strict["additionalProperties"] = False
    if schema.get("x-kubernetes-int-or-string"):
        strict.pop("type", None)
        strict["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    return strict


def crd_schemas(crds):
    """{(apiVersion, kind): strict JSON schema} of every served version of the given CRD documents."""
    schemas = {}
    for crd in crds:
        spec = crd["spec"]
        for version in spec["versions"]:
            schema = version.get("schema", {}).get("openAPIV3Schema")
            if version.get("served") and schema:
                key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                body = dict(_strict(schema))
                # apiVersion, kind and metadata are checked by the apiserver itself.
                body["properties"] = {
                    **body.get("properties", {}),
                    "apiVersion": _STR,
                    "kind": _STR,
                    "metadata": {"type": "object"},
                }
                schemas[key] = body
    return schemas


def validate_custom(document, schemas):
    """Validate a custom resource against ``crd_schemas(...)``; raise when it does not validate."""
    key = (document.get("apiVersion"), document.get("kind"))
    if key not in schemas:
        raise KeyError(f"no CRD schema for {key}")
    jsonschema.validate(document, schemas[key])
    return "crd"
