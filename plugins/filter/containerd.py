# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Cross-field rules of the containerd role (pure; types and choices are in its argument specs)."""

from __future__ import annotations

import re

from ansible_collections.aiplatform.cluster.plugins.module_utils.checksums import checksum_problem
from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import Problems, as_bool
from ansible_collections.aiplatform.cluster.plugins.module_utils.urls import url_problem

CAPABILITIES = ("pull", "resolve", "push")
_URL = re.compile(r"^https?://[^/\s]+")
_SCHEDULER = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$")
# Downloads, by the switch that turns them on (None: the archive install method), each URL with its checksum.
DOWNLOADS = (
    (None, "containerd_archive_url", "containerd_archive_checksum"),
    (None, "containerd_runc_url", "containerd_runc_checksum"),
    ("containerd_stargz_enabled", "containerd_stargz_archive_url", "containerd_stargz_archive_checksum"),
    ("containerd_dragonfly_enabled", "containerd_dragonfly_archive_url", "containerd_dragonfly_archive_checksum"),
)
INSECURE_SWITCH = "containerd_registry_allow_insecure"
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
    _download_problems(problems, settings)
    schedulers = (get("containerd_dragonfly_schedulers") or []) if get("containerd_dragonfly_enabled") else []
    for index, server in enumerate(schedulers):
        if not _SCHEDULER.match(str(server)):
            problems.add(f"containerd_dragonfly_schedulers[{index}]", "must be host:port", server)
    insecure_ok = as_bool(get(INSECURE_SWITCH)) is True
    for index, entry in enumerate(get("containerd_registry_mirrors") or []):
        _mirror_problems(problems, f"containerd_registry_mirrors[{index}]", entry, insecure_ok)
    if as_bool(get("containerd_estargz_plain_http")) and not insecure_ok:
        problems.add(
            "containerd_estargz_plain_http", f"talks plain HTTP to registries: needs {INSECURE_SWITCH}: true", True
        )
    if "containerd_estargz_images" in settings:
        _estargz_problems(problems, get("containerd_estargz_images"))
    return problems.messages


def _download_problems(problems, settings):
    """Every download the settings turn on: an http(s) URL and a full checksum (get_url verifies both forms)."""
    for switch, url, checksum in DOWNLOADS:
        wanted = settings.get("containerd_install_method") == "archive" if switch is None else settings.get(switch)
        if not wanted or (url not in settings and checksum not in settings):
            continue
        problem = url_problem(settings.get(url))
        if problem:
            problems.add(url, problem, settings.get(url))
        problem = checksum_problem(settings.get(checksum))
        if problem:
            problems.add(checksum, f"{problem}: the download of {url} is verified against it", settings.get(checksum))


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


def _mirror_problems(problems, name, entry, insecure_ok):
    if not isinstance(entry, dict):
        problems.add(name, "must be a mapping with registry, server and mirrors", entry)
        return
    registry = entry.get("registry")
    if not isinstance(registry, str) or not registry or re.search(r"[/\s]", registry):
        problems.add(f"{name}.registry", "must be a registry name like docker.io (no slash)", registry)
    server = entry.get("server", f"https://{registry}")
    if not _URL.match(str(server)):
        problems.add(f"{name}.server", "must be an http:// or https:// URL", server)
    elif str(server).startswith("http://") and not insecure_ok:
        problems.add(f"{name}.server", f"is plain HTTP: use https://, or set {INSECURE_SWITCH}: true", server)
    mirrors = entry.get("mirrors", [])
    if not isinstance(mirrors, list):
        problems.add(f"{name}.mirrors", "must be a list", mirrors)
        return
    for index, mirror in enumerate(mirrors):
        where = f"{name}.mirrors[{index}]"
        if not isinstance(mirror, dict) or not _URL.match(str(mirror.get("host", ""))):
            problems.add(f"{where}.host", "must be an http:// or https:// URL", (mirror or {}).get("host"))
            continue
        if str(mirror["host"]).startswith("http://") and not insecure_ok:
            problems.add(
                f"{where}.host", f"is plain HTTP: use https://, or set {INSECURE_SWITCH}: true", mirror["host"]
            )
        skip_verify = as_bool(mirror.get("skip_verify", False))
        if skip_verify is None:
            problems.add(f"{where}.skip_verify", "must be true or false", mirror.get("skip_verify"))
        elif skip_verify and not insecure_ok:
            problems.add(f"{where}.skip_verify", f"turns TLS verification off: needs {INSECURE_SWITCH}: true", True)
        unknown = [c for c in mirror.get("capabilities", ["pull"]) if c not in CAPABILITIES]
        if unknown:
            problems.add(f"{where}.capabilities", f"must be among {', '.join(CAPABILITIES)}", unknown)


class FilterModule:
    """containerd filters."""

    def filters(self):
        return {"containerd_problems": containerd_problems}
