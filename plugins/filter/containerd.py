# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Cross-field rules of the containerd role (pure; types and choices are in its argument specs)."""

from __future__ import annotations

import re

from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import Problems

CAPABILITIES = ("pull", "resolve", "push")
_URL = re.compile(r"^https?://[^/\s]+")
_CHECKSUM = re.compile(r"^sha256:.")
# registry (a host with a dot or a port)/repository:tag
_TARGET = re.compile(r"^[^/]+[.:][^/]*/.+:[^/:]+$")


def _int(value):
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def containerd_problems(settings):
    """One message per problem in the role's input (a dict of its variables), each naming the variable."""
    problems = Problems()
    get = settings.get
    if get("containerd_snapshotter") == "stargz" and not get("containerd_stargz_enabled"):
        problems.add("containerd_snapshotter", "stargz needs containerd_stargz_enabled: true", "stargz")
    downloads = _int(get("containerd_max_concurrent_downloads"))
    if downloads is None or downloads < 1:
        problems.add(
            "containerd_max_concurrent_downloads", "must be 1 or more", get("containerd_max_concurrent_downloads")
        )
    if get("containerd_dragonfly_enabled") and not get("containerd_dragonfly_schedulers"):
        problems.add("containerd_dragonfly_schedulers", "must list a scheduler when containerd_dragonfly_enabled", [])
    if get("containerd_install_method") == "archive":
        for name in ("containerd_archive_url", "containerd_runc_url"):
            if not get(name):
                problems.add(name, "must be set when containerd_install_method is archive", get(name))
        for name in ("containerd_archive_checksum", "containerd_runc_checksum"):
            if not _CHECKSUM.match(str(get(name) or "")):
                problems.add(name, "must be sha256:<hex> or sha256:<URL of a checksum file>", get(name))
    for index, entry in enumerate(get("containerd_registry_mirrors") or []):
        _mirror_problems(problems, f"containerd_registry_mirrors[{index}]", entry)
    if "containerd_estargz_images" in settings:
        _estargz_problems(problems, get("containerd_estargz_images"))
    return problems.messages


def _estargz_problems(problems, images):
    """The estargz_convert entry point's images (checked only when the settings hold them)."""
    if not isinstance(images, list) or not images:
        problems.add("containerd_estargz_images", "must list the images to convert", images)
        return
    for index, image in enumerate(images):
        name = f"containerd_estargz_images[{index}]"
        if not isinstance(image, dict) or not image.get("source"):
            problems.add(f"{name}.source", "must be the reference to pull", (image or {}).get("source"))
        target = image.get("target") if isinstance(image, dict) else None
        if not _TARGET.match(str(target or "")):
            problems.add(f"{name}.target", "must be registry/repository:tag", target)


def _mirror_problems(problems, name, entry):
    if not isinstance(entry, dict):
        problems.add(name, "must be a mapping with registry, server and mirrors", entry)
        return
    registry = entry.get("registry")
    if not isinstance(registry, str) or not registry or re.search(r"[/\s]", registry):
        problems.add(f"{name}.registry", "must be a registry name like docker.io (no slash)", registry)
    server = entry.get("server", f"https://{registry}")
    if not _URL.match(str(server)):
        problems.add(f"{name}.server", "must be an http:// or https:// URL", server)
    mirrors = entry.get("mirrors", [])
    if not isinstance(mirrors, list):
        problems.add(f"{name}.mirrors", "must be a list", mirrors)
        return
    for index, mirror in enumerate(mirrors):
        where = f"{name}.mirrors[{index}]"
        if not isinstance(mirror, dict) or not _URL.match(str(mirror.get("host", ""))):
            problems.add(f"{where}.host", "must be an http:// or https:// URL", (mirror or {}).get("host"))
            continue
        unknown = [c for c in mirror.get("capabilities", ["pull"]) if c not in CAPABILITIES]
        if unknown:
            problems.add(f"{where}.capabilities", f"must be among {', '.join(CAPABILITIES)}", unknown)


class FilterModule:
    """containerd filters."""

    def filters(self):
        return {"containerd_problems": containerd_problems}
