# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Filters of the kube_binaries role: its input checks (pure functions)."""

from __future__ import annotations

import posixpath
import re

from ansible_collections.aiplatform.cluster.plugins.module_utils.checksums import checksum_problem
from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import Problems
from ansible_collections.aiplatform.cluster.plugins.module_utils.urls import url_problem

COMPONENTS = ("kubelet", "kubeadm", "kubectl")
ARCHES = ("amd64", "arm64")
_VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")


def kube_binaries_problems(settings, checksums, arch):
    """One message per problem in the kube_binaries role's input, each naming its variable.

    ``settings`` holds the role's variables by name; ``checksums`` the pinned sha256 (the collection's table
    with kube_binaries_checksums merged over it: version -> arch -> binary -> ``sha256:<hex>``); ``arch`` the
    host's architecture as the release URLs name it (amd64, arm64).
    """
    problems = Problems()
    version = settings.get("kube_binaries_version")
    if not isinstance(version, str) or not _VERSION.match(version):
        problems.add("kube_binaries_version", "must be a release version X.Y.Z without a leading v", version)
        version = None
    _url_problems(problems, settings.get("kube_binaries_base_url"))
    components = _component_problems(problems, settings.get("kube_binaries_components"))
    for name in ("kube_binaries_bin_dir", "kube_binaries_cache_dir"):
        value = settings.get(name)
        if not isinstance(value, str) or not posixpath.isabs(value) or posixpath.normpath(value) == "/":
            problems.add(name, "must be an absolute folder path other than /", value)
    if not isinstance(checksums, dict):
        problems.add("kube_binaries_checksums", "must map version -> arch -> binary -> sha256:<hex>", checksums)
    elif arch not in ARCHES:
        problems.add(
            "kube_binaries_version", f"binaries are pinned for {', '.join(ARCHES)} only, not this host's {arch}"
        )
    elif version is not None:
        _checksum_problems(problems, checksums, version, arch, components)
    return problems.messages


def _url_problems(problems, url):
    why = url_problem(url)
    if why:
        problems.add("kube_binaries_base_url", why, url)
    elif str(url).rstrip("/") != str(url) or "?" in str(url) or "#" in str(url):
        problems.add(
            "kube_binaries_base_url", "must end with the release folder: no trailing '/', query or fragment", url
        )


def _component_problems(problems, components):
    """The known components listed (in order), after adding the problems of the list."""
    if not isinstance(components, list):
        problems.add("kube_binaries_components", f"must be a list of {', '.join(COMPONENTS)}", components)
        return []
    unknown = [c for c in components if c not in COMPONENTS]
    if unknown:
        problems.add("kube_binaries_components", f"may list only {', '.join(COMPONENTS)}", unknown)
    if len(set(map(str, components))) != len(components):
        problems.add("kube_binaries_components", "lists a binary twice", components)
    return [c for c in components if c in COMPONENTS]


def _checksum_problems(problems, checksums, version, arch, components):
    pinned = checksums.get(version)
    pinned = pinned.get(arch) if isinstance(pinned, dict) else None
    pinned = pinned if isinstance(pinned, dict) else {}
    missing = [name for name in components if pinned.get(name) is None]
    if missing:
        problems.add(
            "kube_binaries_version",
            f"{version} has no pinned sha256 for {', '.join(missing)} on {arch}: add it to kube_binaries_checksums"
            f" ({version} -> {arch} -> <binary>: sha256:<hex> from the release's .sha256 files)"
            " or pick a pinned version",
        )
    for name in [name for name in components if name not in missing]:
        value = pinned[name]
        why = checksum_problem(value, allow_url=False)
        if why or not str(value).lower().startswith("sha256:"):
            problems.add(
                "kube_binaries_checksums",
                f"{version} -> {arch} -> {name} {why or 'must be sha256:<64 hex digits>'}",
                value,
            )


class FilterModule:
    def filters(self):
        return {"kube_binaries_problems": kube_binaries_problems}
