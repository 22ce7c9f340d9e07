# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Filters for the kubelet: reserved CPU and memory from a node's size, and eviction signals (pure)."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

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


def kubelet_problems(settings):
    """One message per problem in the kubelet role's input (its variables, typed), each naming the variable."""
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
