# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Filters every cluster add-on shares: image references from the one version table, the rendered
manifest text, and the checks of the version table (pure functions)."""

from __future__ import annotations

import json
import re

import yaml

from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import Problems

# What kube_addons_versions must hold: the images every add-on runs and the charts (GPU Operator, Cilium).
IMAGES = ("coredns", "cluster_proportional_autoscaler", "node_local_dns", "node_problem_detector", "kube_eventer")
CHARTS = ("gpu_operator_chart", "cilium_chart")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_REPOSITORY = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+$")
# An exact chart version (a range, a wildcard or "latest" is not a pin).
_CHART_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")
_FLOATING_TAGS = ("latest", "stable", "main", "master")


def kube_addons_image(entry):
    """``repository:tag`` or ``repository:tag@digest`` of one image entry of kube_addons_versions."""
    reference = f"{entry['repository']}:{entry['tag']}"
    return f"{reference}@{entry['digest']}" if entry.get("digest") else reference


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings (a Corefile, a JSON config) as literal blocks, so the manifest reads like the file."""


def _text(dumper, value):
    style = "|" if "\n" in value and all(line == line.rstrip() for line in value.split("\n")) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _text)


def kube_addons_manifest(objects):
    """The objects as one multi-document YAML text (keys sorted: the same objects give the same text)."""
    # Through JSON first: templated values may be str/dict subclasses that the safe dumper refuses.
    plain = json.loads(json.dumps(list(objects)))
    return "".join(
        "---\n" + yaml.dump(obj, Dumper=_BlockDumper, sort_keys=True, default_flow_style=False) for obj in plain
    )


def kube_addons_problems(versions):
    """One message per problem in kube_addons_versions: every image pinned by tag (and digest when given),
    the chart by an exact version."""
    problems = Problems()
    variable = "kube_addons_versions"
    if not isinstance(versions, dict):
        problems.add(variable, "must be a dict of images and charts", versions)
        return problems.messages
    for name in IMAGES:
        entry = versions.get(name)
        where = f"{variable}.{name}"
        if not isinstance(entry, dict):
            problems.add(where, "must be a dict with repository, tag and digest", entry)
            continue
        unknown = sorted(set(entry) - {"repository", "tag", "digest"})
        if unknown:
            problems.add(where, "has unknown keys (repository, tag, digest only)", unknown)
        if not _REPOSITORY.match(str(entry.get("repository", ""))):
            problems.add(f"{where}.repository", "must be an image repository (registry/path)", entry.get("repository"))
        tag = str(entry.get("tag", ""))
        if not _TAG.match(tag) or tag in _FLOATING_TAGS:
            problems.add(f"{where}.tag", "must pin a version (a tag that is not empty or floating like latest)", tag)
        digest = entry.get("digest", "")
        if digest and not _DIGEST.match(str(digest)):
            problems.add(f"{where}.digest", "must be empty or sha256:<64 hex digits>", digest)
    for name in CHARTS:
        _chart_problems(versions.get(name), f"{variable}.{name}", problems)
    return problems.messages


def _chart_problems(chart, where, problems):
    if not isinstance(chart, dict):
        problems.add(where, "must be a dict with repository, name and version", chart)
        return
    if not str(chart.get("repository", "")).startswith(("https://", "oci://")):
        problems.add(f"{where}.repository", "must be an https:// or oci:// chart repository", chart.get("repository"))
    if not chart.get("name"):
        problems.add(f"{where}.name", "must be the chart's name", chart.get("name"))
    if not _CHART_VERSION.match(str(chart.get("version", ""))):
        problems.add(
            f"{where}.version",
            "must pin one chart version (like v26.3.3; not a range, not empty)",
            chart.get("version"),
        )


class FilterModule:
    def filters(self):
        return {
            "kube_addons_image": kube_addons_image,
            "kube_addons_manifest": kube_addons_manifest,
            "kube_addons_problems": kube_addons_problems,
        }
