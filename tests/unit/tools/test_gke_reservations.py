"""The oracle itself, on figures worked out by hand from GKE's table."""

import gke_reservations


def test_a_4_core_16_gib_node():
    # CPU 60 + 10 + 2 * 5 = 80 m; memory 1024 + 819.2 + 819.2 = 2662.4 -> 2662 MiB.
    assert gke_reservations.expected(4, 16384) == {
        "kube": {"cpu": "56m", "memory": "1863Mi"},
        "system": {"cpu": "24m", "memory": "799Mi"},
    }


def test_a_tiny_node_and_a_large_gpu_node():
    assert gke_reservations.expected(1, 512)["system"] == {"cpu": "18m", "memory": "76Mi"}
    # 96 cores: 80 + 92 * 2.5 = 310 m; 1 TiB: 2662.4 + 6881.28 + 917504 * 0.02 = 27893.76 -> 27894 MiB.
    big = gke_reservations.expected(96, 1024 * 1024)
    assert big["kube"]["cpu"] == "217m" and big["system"]["cpu"] == "93m"
    assert big["kube"]["memory"] == "19526Mi" and big["system"]["memory"] == "8368Mi"
