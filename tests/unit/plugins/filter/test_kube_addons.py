"""kube_addons filters: image references, the manifest text and the version table's pins."""

import copy
from pathlib import Path

import yaml

from ansible_collections.aiplatform.cluster.plugins.filter.kube_addons import (
    kube_addons_image,
    kube_addons_manifest,
    kube_addons_problems,
)

VERSIONS = yaml.safe_load((Path(__file__).resolve().parents[4] / "roles/kube_addons/defaults/main.yml").read_text())[
    "kube_addons_versions"
]


def test_image_reference():
    assert kube_addons_image({"repository": "registry.k8s.io/coredns/coredns", "tag": "v1.12.1", "digest": ""}) == (
        "registry.k8s.io/coredns/coredns:v1.12.1"
    )
    digest = "sha256:" + "a" * 64
    assert kube_addons_image({"repository": "r.example/x", "tag": "1", "digest": digest}) == f"r.example/x:1@{digest}"


def test_manifest_is_stable_and_reads_back():
    objects = [{"kind": "ConfigMap", "apiVersion": "v1", "data": {"Corefile": ".:53 {\n    errors\n}\n"}}]
    text = kube_addons_manifest(objects)
    assert text == kube_addons_manifest(copy.deepcopy(objects))
    assert "Corefile: |\n" in text
    assert list(yaml.safe_load_all(text)) == objects


def test_default_versions_are_pinned():
    assert kube_addons_problems(VERSIONS) == []


def test_floating_tags_bad_digests_and_chart_ranges_are_refused():
    versions = copy.deepcopy(VERSIONS)
    versions["coredns"]["tag"] = "latest"
    versions["kube_eventer"]["digest"] = "sha256:abc"
    versions["gpu_operator_chart"]["version"] = "~26.7"
    del versions["node_local_dns"]
    assert kube_addons_problems(versions) == [
        "kube_addons_versions.coredns.tag: must pin a version (a tag that is not empty or floating like "
        "latest) (got 'latest')",
        "kube_addons_versions.node_local_dns: must be a dict with repository, tag and digest (got None)",
        "kube_addons_versions.kube_eventer.digest: must be empty or sha256:<64 hex digits> (got 'sha256:abc')",
        "kube_addons_versions.gpu_operator_chart.version: must pin one chart version (like v26.3.3; not a "
        "range, not empty) (got '~26.7')",
    ]


def test_the_cilium_chart_is_checked_like_the_gpu_operators():
    versions = copy.deepcopy(VERSIONS)
    versions["cilium_chart"] = {"repository": "http://helm.cilium.io", "name": "", "version": "1.20.x"}
    assert kube_addons_problems(versions) == [
        "kube_addons_versions.cilium_chart.repository: must be an https:// or oci:// chart repository "
        "(got 'http://helm.cilium.io')",
        "kube_addons_versions.cilium_chart.name: must be the chart's name (got '')",
        "kube_addons_versions.cilium_chart.version: must pin one chart version (like v26.3.3; not a range, not "
        "empty) (got '1.20.x')",
    ]
    del versions["cilium_chart"]
    assert kube_addons_problems(versions) == [
        "kube_addons_versions.cilium_chart: must be a dict with repository, name and version (got None)"
    ]
