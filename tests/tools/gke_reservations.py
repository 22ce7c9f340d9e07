"""Independent oracle for the kubelet reservations of the GKE formula (the role's default).

Written from GKE's published table (cloud.google.com/kubernetes-engine/docs/concepts/plan-node-sizes),
band by band, without the code under test (plugins/filter/kubelet_reservations.py):

- CPU: 6 % of the first core, 1 % of the second, 0.5 % of the third and fourth, 0.25 % of every core above 4;
- memory: 255 MiB on machines under 1 GiB; else 25 % of the first 4 GiB, 20 % of the next 4 GiB, 10 % of the
  next 8 GiB, 6 % of the next 112 GiB, 2 % of anything above 128 GiB.

The role then gives ``system_fraction`` (docs/runtime.md: 30 %) of each total to systemReserved and
the rest to kubeReserved, rounded to whole millicores and MiB.
"""

from __future__ import annotations

CPU_BANDS = [(0, 1000, 0.06), (1000, 2000, 0.01), (2000, 4000, 0.005), (4000, float("inf"), 0.0025)]
MEMORY_BANDS_MIB = [
    (0, 4 * 1024, 0.25),
    (4 * 1024, 8 * 1024, 0.20),
    (8 * 1024, 16 * 1024, 0.10),
    (16 * 1024, 128 * 1024, 0.06),
    (128 * 1024, float("inf"), 0.02),
]


def _banded(amount, bands):
    return sum(max(0.0, min(amount, high) - low) * share for low, high, share in bands)


def expected(cpus, memory_mib, system_fraction=0.3):
    """kubeReserved and systemReserved as the KubeletConfiguration must carry them."""
    cpu = round(_banded(cpus * 1000, CPU_BANDS))
    memory = 255 if memory_mib < 1024 else round(_banded(memory_mib, MEMORY_BANDS_MIB))
    system_cpu, system_memory = round(cpu * system_fraction), round(memory * system_fraction)
    return {
        "kube": {"cpu": f"{cpu - system_cpu}m", "memory": f"{memory - system_memory}Mi"},
        "system": {"cpu": f"{system_cpu}m", "memory": f"{system_memory}Mi"},
    }
