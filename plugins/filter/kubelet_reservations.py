# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Filters for the kubelet: reserved CPU and memory from a node's size, and eviction signals (pure)."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.cluster.plugins.module_utils.addresses import ip_problem
from ansible_collections.aiplatform.cluster.plugins.module_utils.cis import CIS_CIPHER_SUITES, CIS_TLS_MIN_VERSIONS
from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import Problems

# (upper bound, fraction) progressions: each fraction applies to the part of the size below its bound.
# GKE (cloud.google.com/kubernetes-engine/docs/concepts/plan-node-sizes) and EKS (eksctl
# pkg/nodebootstrap/reserved.go) share this CPU progression, in millicores.
CPU_TIERS_MILLI = ((1000, 0.06), (2000, 0.01), (4000, 0.005), (None, 0.0025))
# GKE's memory progression (AKS before 1.29 used the same), in MiB.
MEMORY_TIERS_MIB = ((4096, 0.25), (8192, 0.20), (16384, 0.10), (131072, 0.06), (None, 0.02))
# AKS published table (learn.microsoft.com/azure/aks/node-resource-reservations): cores -> millicores.
AKS_CPU_TABLE = ((1, 60), (2, 100), (4, 140), (8, 180), (16, 260), (32, 420), (64, 740))
FORMULAS = ("gke", "eks", "aks")

_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
_BYTES = {None: 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
# Resources a reservation (systemReserved, kubeReserved) may name, and the form of each amount.
_CPU = re.compile(r"^\d+(\.\d+)?m?$")
_MEMORY = re.compile(r"^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
RESERVABLE = {"cpu": _CPU, "memory": _MEMORY, "ephemeral-storage": _MEMORY, "pid": re.compile(r"^\d+$")}
_GO_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")
# KubeletConfiguration fields kubelet_config_extra may not set: they have their own variable.
OWN_VARIABLE = {"podPidsLimit": "kubelet_pod_pids_limit"}
EVICTION_SIGNALS = (
    "memory.available",
    "nodefs.available",
    "nodefs.inodesFree",
    "imagefs.available",
    "imagefs.inodesFree",
    "containerfs.available",
    "containerfs.inodesFree",
    "pid.available",
)


def _progressive(value, tiers):
    reserved, lower = 0.0, 0
    for upper, fraction in tiers:
        top = value if upper is None else min(value, upper)
        if top > lower:
            reserved += (top - lower) * fraction
        if upper is None or value <= upper:
            break
        lower = upper
    return reserved


def _aks_cpu(cores):
    for limit, milli in AKS_CPU_TABLE:
        if cores <= limit:
            return milli
    # Beyond the table AKS grows by 10 m per core (740 m at 64 cores; 420 m at 32).
    return AKS_CPU_TABLE[-1][1] + 10 * (cores - AKS_CPU_TABLE[-1][0])


def _number(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise AnsibleFilterError(f"kubelet_reservations: {name} must be a positive number, got {value!r}")
    return value


def kubelet_reservations(cpu_cores, memory_mib, formula="gke", max_pods=110, system_fraction=0.3):
    """Return ``{'kube': {'cpu', 'memory'}, 'system': {...}, 'total_cpu_milli', 'total_memory_mib'}``.

    The total follows the managed offering named by ``formula``; ``system_fraction`` of it goes to
    systemReserved (the OS daemons' slice), the rest to kubeReserved (kubelet and container runtime).
    """
    cores = _number(cpu_cores, "cpu_cores")
    memory = _number(memory_mib, "memory_mib")
    pods = _number(max_pods, "max_pods")
    if formula not in FORMULAS:
        raise AnsibleFilterError(f"kubelet_reservations: formula must be one of {', '.join(FORMULAS)}, got {formula!r}")
    if not 0 <= system_fraction < 1:
        raise AnsibleFilterError(f"kubelet_reservations: system_fraction must be in [0, 1), got {system_fraction!r}")

    if formula == "aks":
        cpu_milli = _aks_cpu(cores)
        # AKS 1.29+: the lesser of 20 MB per pod + 50 MB and 25 % of memory (MB -> MiB).
        memory_total = min((20 * pods + 50) * 10**6 / 2**20, 0.25 * memory)
    else:
        cpu_milli = _progressive(cores * 1000, CPU_TIERS_MILLI)
        if formula == "eks":
            # EKS AMI bootstrap: 255 MiB + 11 MiB per pod.
            memory_total = 255 + 11 * pods
        else:
            memory_total = 255 if memory < 1024 else _progressive(memory, MEMORY_TIERS_MIB)

    cpu_total = round(cpu_milli)
    mem_total = round(memory_total)
    system_cpu = round(cpu_total * system_fraction)
    system_mem = round(mem_total * system_fraction)
    return {
        "kube": {"cpu": f"{cpu_total - system_cpu}m", "memory": f"{mem_total - system_mem}Mi"},
        "system": {"cpu": f"{system_cpu}m", "memory": f"{system_mem}Mi"},
        "total_cpu_milli": cpu_total,
        "total_memory_mib": mem_total,
    }


def quantity_mib(value):
    """Convert a Kubernetes memory quantity (``512Mi``, ``1Gi``, ``1G``, bytes) to MiB (float)."""
    match = _QUANTITY.match(str(value).strip())
    if not match:
        raise AnsibleFilterError(f"quantity_mib: {value!r} is not a memory quantity like 512Mi or 2Gi")
    return float(match.group(1)) * _BYTES[match.group(2)] / 2**20


def cpu_milli(value):
    """Convert a Kubernetes CPU quantity (``250m``, ``2``, ``0.5``) to millicores (int)."""
    text = str(value).strip()
    match = re.match(r"^(\d+(?:\.\d+)?)(m?)$", text)
    if not match:
        raise AnsibleFilterError(f"cpu_milli: {value!r} is not a CPU quantity like 250m or 2")
    number = float(match.group(1))
    return round(number if match.group(2) else number * 1000)


def eviction_errors(thresholds):
    """List what is wrong with a dict of eviction thresholds (signal -> ``100Mi`` or ``10%``); empty when valid."""
    if not isinstance(thresholds, dict):
        return [f"eviction thresholds must be a dict of signal: quantity, got {type(thresholds).__name__}"]
    errors = []
    for signal, value in thresholds.items():
        if signal not in EVICTION_SIGNALS:
            errors.append(f"{signal}: unknown eviction signal (one of {', '.join(EVICTION_SIGNALS)})")
            continue
        text = str(value).strip()
        if text.endswith("%"):
            try:
                percent = float(text[:-1])
            except ValueError:
                percent = -1.0
            if not 0 < percent < 100:
                errors.append(f"{signal}: {value!r} is not a percentage between 0 and 100")
        elif signal == "pid.available" or signal.endswith("inodesFree"):
            if not text.isdigit():
                errors.append(f"{signal}: {value!r} is neither a count nor a percentage")
        elif not _QUANTITY.match(text):
            errors.append(f"{signal}: {value!r} is neither a quantity (100Mi) nor a percentage (10%)")
    return errors


def _typed(value, kind):
    if isinstance(value, bool):
        return None
    try:
        return kind(value)
    except (TypeError, ValueError):
        return None


def _reservation_problems(problems, name, reserved):
    if not isinstance(reserved, dict):
        problems.add(name, "must be a mapping of resource to amount, e.g. {cpu: 500m, memory: 2Gi}", reserved)
        return
    for resource, amount in reserved.items():
        form = RESERVABLE.get(resource)
        if form is None:
            problems.add(f"{name}.{resource}", f"is not a resource the kubelet reserves ({', '.join(RESERVABLE)})")
        elif isinstance(amount, bool) or not form.match(str(amount).strip()):
            problems.add(f"{name}.{resource}", "must be a non-negative amount such as 500m, 2Gi or 1000", amount)


def _duration_seconds(text):
    """Seconds of a Go duration (``4h0m0s``), or None when it is not one."""
    text = str(text).strip()
    if not _GO_DURATION.match(text):
        return None
    scale = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    return sum(float(number) * scale[unit] for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", text))


def _config_extra_problems(problems, extra, pinned):
    """kubelet_config_extra adds fields; it cannot weaken the CIS 4.2.x settings (pinned: the role's own)."""
    name = "kubelet_config_extra"
    if not isinstance(extra, dict):
        problems.add(name, "must be a mapping of KubeletConfiguration fields (camelCase)", extra)
        return
    for key in sorted(set(extra) & set(pinned or {})):
        problems.add(f"{name}.{key}", "is pinned by the role (CIS 4.2.x); remove it", extra[key])
    for key, variable in OWN_VARIABLE.items():
        if key in extra:
            problems.add(
                f"{name}.{key}", f"is set by {variable} (1 or more, CIS 4.2.13); use that variable", extra[key]
            )
    if "streamingConnectionIdleTimeout" in extra:
        seconds = _duration_seconds(extra["streamingConnectionIdleTimeout"])
        if not seconds:
            problems.add(f"{name}.streamingConnectionIdleTimeout",
                         "must be a non-zero duration such as 4h0m0s (CIS 4.2.5)",
                         extra["streamingConnectionIdleTimeout"])  # fmt: skip
    _tls_problems(problems, name, extra)
    gates = extra.get("featureGates", {})
    if not isinstance(gates, dict):
        problems.add(f"{name}.featureGates", "must be a mapping of gate name to true or false", gates)
    elif "RotateKubeletServerCertificate" in gates and gates["RotateKubeletServerCertificate"] is not True:
        problems.add(f"{name}.featureGates.RotateKubeletServerCertificate", "must not be turned off (CIS 4.2.11)",
                     gates["RotateKubeletServerCertificate"])  # fmt: skip


def _tls_problems(problems, name, extra):
    if "tlsMinVersion" in extra and extra["tlsMinVersion"] not in CIS_TLS_MIN_VERSIONS:
        problems.add(
            f"{name}.tlsMinVersion", f"must be one of {', '.join(CIS_TLS_MIN_VERSIONS)}", extra["tlsMinVersion"]
        )
    if "tlsCipherSuites" in extra:
        suites = extra["tlsCipherSuites"]
        weak = [s for s in suites if s not in CIS_CIPHER_SUITES] if isinstance(suites, list) and suites else [suites]
        if weak:
            problems.add(
                f"{name}.tlsCipherSuites",
                f"must list only the CIS suites ({', '.join(CIS_CIPHER_SUITES)}; 4.2.12)",
                weak,
            )
    for key in ("tlsCertFile", "tlsPrivateKeyFile"):
        if key in extra and not str(extra[key] or "").startswith("/"):
            problems.add(f"{name}.{key}", "must be an absolute path (leave it out for serverTLSBootstrap)", extra[key])


def _wiring_problems(problems, settings):
    get = settings.get
    dns = get("kubelet_cluster_dns")
    for index, address in enumerate(dns if isinstance(dns, list) else [dns]):
        problem = ip_problem(address)
        if problem:
            problems.add(f"kubelet_cluster_dns[{index}]", problem, address)
    if "kubelet_client_ca_file" in settings and not str(get("kubelet_client_ca_file") or "").startswith("/"):
        problems.add("kubelet_client_ca_file", "must be an absolute path", get("kubelet_client_ca_file"))
    endpoint = get("kubelet_container_runtime_endpoint")
    if endpoint is not None and not re.match(r"^unix:///\S+$", str(endpoint)):
        problems.add("kubelet_container_runtime_endpoint", "must be unix:///<path of the CRI socket>", endpoint)


def _inputs_problems(problems, settings, pinned):
    """The reservations, the extra configuration and the wiring (checked when the settings hold them)."""
    get = settings.get
    for name in ("kubelet_system_reserved_override", "kubelet_kube_reserved_override"):
        if name in settings:
            _reservation_problems(problems, name, get(name))
    if "kubelet_config_extra" in settings:
        _config_extra_problems(problems, get("kubelet_config_extra"), pinned)
    if "kubelet_cluster_dns" in settings:
        _wiring_problems(problems, settings)


def kubelet_problems(settings, pinned=None):
    """One message per problem in the kubelet role's input (its variables, typed), each naming the variable.

    ``pinned`` is the KubeletConfiguration the role applies last (the CIS 4.2.x settings): kubelet_config_extra
    may not set its fields.
    """
    problems = Problems()
    get = settings.get
    if get("kubelet_reservation_formula") not in FORMULAS:
        problems.add(
            "kubelet_reservation_formula", f"must be one of {', '.join(FORMULAS)}", get("kubelet_reservation_formula")
        )
    fraction = _typed(get("kubelet_system_reserved_fraction"), float)
    if fraction is None or not 0 <= fraction < 1:
        problems.add("kubelet_system_reserved_fraction", "must be in [0, 1)", get("kubelet_system_reserved_fraction"))
    for name in ("kubelet_eviction_hard", "kubelet_eviction_soft"):
        for error in eviction_errors(get(name)):
            problems.add(name, error)
    soft, grace = get("kubelet_eviction_soft") or {}, get("kubelet_eviction_soft_grace_period") or {}
    if isinstance(soft, dict) and isinstance(grace, dict) and sorted(soft) != sorted(grace):
        problems.add(
            "kubelet_eviction_soft_grace_period",
            "must name exactly the signals of kubelet_eviction_soft",
            sorted(grace),
        )
    low = _typed(get("kubelet_image_gc_low_threshold_percent"), int)
    high = _typed(get("kubelet_image_gc_high_threshold_percent"), int)
    if high is None or not 0 < high <= 100:
        problems.add("kubelet_image_gc_high_threshold_percent", "must be in (0, 100]", high)
    if low is None or low < 0 or (high is not None and low >= high):
        problems.add(
            "kubelet_image_gc_low_threshold_percent",
            "must be 0 or more and below kubelet_image_gc_high_threshold_percent",
            low,
        )
    for name in ("kubelet_max_parallel_image_pulls", "kubelet_pod_pids_limit", "kubelet_max_pods"):
        value = _typed(get(name), int)
        if value is None or value < 1:
            problems.add(name, "must be 1 or more", get(name))
    _inputs_problems(problems, settings, pinned)
    return problems.messages


class FilterModule:
    """Kubelet filters."""

    def filters(self):
        return {
            "kubelet_reservations": kubelet_reservations,
            "quantity_mib": quantity_mib,
            "cpu_milli": cpu_milli,
            "eviction_errors": eviction_errors,
            "kubelet_problems": kubelet_problems,
        }
