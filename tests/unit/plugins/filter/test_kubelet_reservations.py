"""Unit tests for the kubelet filters: tiered reservations, quantities, eviction thresholds."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.cluster.plugins.filter.kubelet_reservations import (
    FilterModule,
    cpu_milli,
    eviction_errors,
    kubelet_problems,
    kubelet_reservations,
    quantity_mib,
)


def test_small_node_gke_matches_published_example():
    # 2 vCPU / 8 GiB: 6 % of core 1 + 1 % of core 2 = 70 m; 25 % of 4 GiB + 20 % of 4 GiB = 1843 MiB.
    result = kubelet_reservations(2, 8192)
    assert result["total_cpu_milli"] == 70
    assert result["total_memory_mib"] == 1843
    assert result["system"] == {"cpu": "21m", "memory": "553Mi"}
    assert result["kube"] == {"cpu": "49m", "memory": "1290Mi"}


def test_tiny_node_gke_reserves_the_floor():
    assert kubelet_reservations(1, 768)["total_memory_mib"] == 255


def test_large_cpu_node_gke():
    # 64 vCPU / 256 GiB: 60+10+10+0.25 % of 60 cores = 230 m; memory 1024+819.2+819.2+6881.28+2621.44.
    result = kubelet_reservations(64, 262144)
    assert result["total_cpu_milli"] == 230
    assert result["total_memory_mib"] == 12165


def test_gpu_node_gke_8x_h100_host():
    # A DGX-class host: 224 vCPU, 2 TiB: 9543.68 MiB up to 128 GiB, then 2 % of 1920 GiB = 39321.6 MiB.
    result = kubelet_reservations(224, 2097152)
    assert result["total_cpu_milli"] == 630
    assert result["total_memory_mib"] == 48865
    kube_mib = quantity_mib(result["kube"]["memory"])
    system_mib = quantity_mib(result["system"]["memory"])
    assert kube_mib + system_mib == result["total_memory_mib"]


def test_eks_memory_depends_on_max_pods_only():
    assert kubelet_reservations(8, 32768, formula="eks", max_pods=29)["total_memory_mib"] == 255 + 11 * 29
    assert kubelet_reservations(224, 2097152, formula="eks", max_pods=110)["total_memory_mib"] == 1465
    assert kubelet_reservations(2, 8192, formula="eks")["total_cpu_milli"] == 70


def test_aks_cpu_table_and_memory_cap():
    assert kubelet_reservations(16, 65536, formula="aks")["total_cpu_milli"] == 260
    assert kubelet_reservations(96, 65536, formula="aks")["total_cpu_milli"] == 740 + 320
    # 8 GB node, 30 pods: 650 MB (the AKS documentation's example) = 620 MiB.
    assert kubelet_reservations(2, 8192, formula="aks", max_pods=30)["total_memory_mib"] == 620
    # 4 GB node with 70 pods: capped at 25 % of memory.
    assert kubelet_reservations(2, 4096, formula="aks", max_pods=70)["total_memory_mib"] == 1024


def test_all_to_kube_when_system_fraction_is_zero():
    result = kubelet_reservations(4, 16384, system_fraction=0)
    assert result["system"] == {"cpu": "0m", "memory": "0Mi"}
    assert result["kube"] == {"cpu": "80m", "memory": "2662Mi"}


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((0, 1024), {}, "cpu_cores"),
        ((2, -1), {}, "memory_mib"),
        ((2, "8Gi"), {}, "memory_mib"),
        ((2, 8192), {"formula": "openshift"}, "formula"),
        ((2, 8192), {"system_fraction": 1}, "system_fraction"),
        ((True, 8192), {}, "cpu_cores"),
    ],
)
def test_bad_input_is_rejected(args, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        kubelet_reservations(*args, **kwargs)


@pytest.mark.parametrize(
    ("value", "mib"),
    [("512Mi", 512), ("2Gi", 2048), ("1G", 953.67431640625), ("1048576", 1), ("1Ti", 1048576), (" 100Mi ", 100)],
)
def test_quantity_mib(value, mib):
    assert quantity_mib(value) == pytest.approx(mib)


@pytest.mark.parametrize("value", ["", "10%", "1.5.2Gi", "-1Gi", "1gb"])
def test_quantity_mib_rejects(value):
    with pytest.raises(AnsibleFilterError):
        quantity_mib(value)


@pytest.mark.parametrize(("value", "milli"), [("250m", 250), ("2", 2000), ("0.5", 500), (4, 4000)])
def test_cpu_milli(value, milli):
    assert cpu_milli(value) == milli


def test_cpu_milli_rejects_garbage():
    with pytest.raises(AnsibleFilterError):
        cpu_milli("two")


def test_eviction_thresholds_valid():
    assert eviction_errors({"memory.available": "500Mi", "nodefs.available": "10%", "pid.available": "1000"}) == []


def test_eviction_thresholds_invalid():
    errors = eviction_errors(
        {"memory.available": "lots", "nodefs.available": "110%", "disk.free": "1Gi", "nodefs.inodesFree": "5Mi"}
    )
    assert len(errors) == 4
    assert errors[0].startswith("memory.available:")
    assert eviction_errors(["memory.available<100Mi"])


def test_filter_module_exposes_every_filter():
    assert set(FilterModule().filters()) == {
        "kubelet_reservations",
        "quantity_mib",
        "cpu_milli",
        "eviction_errors",
        "kubelet_problems",
    }


GOOD = {
    "kubelet_reservation_formula": "gke",
    "kubelet_system_reserved_fraction": 0.3,
    "kubelet_eviction_hard": {"memory.available": "500Mi"},
    "kubelet_eviction_soft": {"memory.available": "1Gi"},
    "kubelet_eviction_soft_grace_period": {"memory.available": "90s"},
    "kubelet_image_gc_high_threshold_percent": 85,
    "kubelet_image_gc_low_threshold_percent": 75,
    "kubelet_max_parallel_image_pulls": 5,
    "kubelet_pod_pids_limit": 16384,
    "kubelet_max_pods": 110,
}


def test_problems_accept_the_defaults():
    assert kubelet_problems(GOOD) == []


@pytest.mark.parametrize(
    ("changes", "starts"),
    [
        ({"kubelet_reservation_formula": "gcp"}, "kubelet_reservation_formula: must be one of gke, eks, aks"),
        ({"kubelet_system_reserved_fraction": 1.0}, "kubelet_system_reserved_fraction: must be in [0, 1)"),
        ({"kubelet_eviction_hard": {"memory.available": "lots"}}, "kubelet_eviction_hard: memory.available: 'lots'"),
        ({"kubelet_eviction_soft_grace_period": {}}, "kubelet_eviction_soft_grace_period: must name exactly"),
        ({"kubelet_image_gc_low_threshold_percent": 85}, "kubelet_image_gc_low_threshold_percent: must be 0 or more"),
        ({"kubelet_image_gc_high_threshold_percent": 101}, "kubelet_image_gc_high_threshold_percent: must be in"),
        ({"kubelet_max_pods": 0}, "kubelet_max_pods: must be 1 or more"),
        ({"kubelet_pod_pids_limit": True}, "kubelet_pod_pids_limit: must be 1 or more"),
    ],
)
def test_problems_one_message_naming_the_variable(changes, starts):
    (message,) = kubelet_problems({**GOOD, **changes})
    assert message.startswith(starts), message


def test_problems_list_every_problem():
    assert len(kubelet_problems({**GOOD, "kubelet_max_pods": 0, "kubelet_reservation_formula": "x"})) == 2
