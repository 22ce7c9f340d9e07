# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Operators' own checks: declarative ones from variables, and site Python checks from a directory."""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import stat

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_core import (
    ALL_PROFILES,
    FAIL,
    Check,
    CheckError,
    failed,
    passed,
)

DECLARATIVE_TYPES = ("command", "file", "sysctl", "service")


def _command(ctx, spec):
    argv = spec["command"] if isinstance(spec["command"], list) else shlex.split(spec["command"])
    if not argv:
        raise CheckError("command is empty")
    rc, out, err = ctx.run(argv[0], [str(arg) for arg in argv[1:]], timeout=spec.get("timeout"))
    want_rc = int(spec.get("rc", 0))
    if rc != want_rc:
        return failed(rc, want_rc, f"{argv[0]} exited {rc}: {(err or out).strip()[:200]}")
    pattern = spec.get("stdout_regex")
    if pattern and not re.search(pattern, out, re.MULTILINE):
        return failed(out.strip()[:200], pattern, f"output of {argv[0]} does not match {pattern!r}")
    return passed(rc, want_rc, f"{argv[0]} exited {rc}" + (f" and matched {pattern!r}" if pattern else ""))


def _file(ctx, spec):
    path = spec["path"]
    want_exists = bool(spec.get("exists", True))
    present = ctx.exists(path)
    if present != want_exists:
        return failed(present, want_exists, f"{path} {'exists' if present else 'is missing'}")
    if not present:
        return passed(False, False, f"{path} absent")
    if spec.get("mode") is not None:
        limit = int(str(spec["mode"]), 8)
        mode = stat.S_IMODE(os.stat(ctx.path(path)).st_mode)
        if mode & ~limit:
            return failed(f"{mode:04o}", f"<= {limit:04o}", f"{path}: mode {mode:04o} wider than {limit:04o}")
    pattern = spec.get("content_regex")
    if pattern and not re.search(pattern, ctx.read(path), re.MULTILINE):
        return failed(None, pattern, f"{path} does not match {pattern!r}")
    return passed(True, True, f"{path} as expected")


def _sysctl(ctx, spec):
    name = spec["name"]
    value = " ".join(ctx.read("/proc/sys/" + name.replace(".", "/")).split())
    want = " ".join(str(spec["value"]).split())
    if value != want:
        return failed(value, want, f"{name} is {value}, expected {want}")
    return passed(value, want, f"{name} = {value}")


def _service(ctx, spec):
    want = spec.get("state", "active")
    rc, out, _err = ctx.run("systemctl", ["is-active", spec["name"]])
    state = out.strip() or f"rc {rc}"
    if state != want:
        return failed(state, want, f"{spec['name']} is {state}, expected {want}")
    return passed(state, want, f"{spec['name']} is {state}")


RUNNERS = {"command": _command, "file": _file, "sysctl": _sysctl, "service": _service}
REQUIRED = {"command": ("command",), "file": ("path",), "sysctl": ("name", "value"), "service": ("name",)}


def declarative_checks(specs):
    """Checks from variables: [{id, type, severity?, category?, profiles?, ...type's fields}]."""
    checks = []
    for spec in specs or ():
        kind = spec.get("type")
        if kind not in RUNNERS:
            raise ValueError(f"custom check {spec.get('id')!r}: type must be one of {DECLARATIVE_TYPES}")
        missing = [field for field in ("id", *REQUIRED[kind]) if spec.get(field) in (None, "")]
        if missing:
            raise ValueError(f"custom check {spec.get('id')!r} ({kind}) lacks {', '.join(missing)}")
        checks.append(_check_from(spec, "custom", _bind(RUNNERS[kind], spec)))
    return checks


def _check_from(item, category, run):
    """A Check from an operator's dict: its id, and category, severity and profiles or their defaults."""
    return Check(
        item["id"],
        item.get("category", category),
        item.get("severity", FAIL),
        item.get("profiles") or ALL_PROFILES,
        run,
    )


def _bind(runner, spec):
    def run(ctx):
        return runner(ctx, spec)

    return run


def unsafe_reason(uid, mode, euid):
    """Why a site check file or its folder must not be run, or None. The checks run as root: a file someone
    else may write would run their code as root, so (as sshd's StrictModes) the owner is root or the user
    running the checks, and neither group nor others may write it."""
    if uid not in (0, euid):
        return f"owned by uid {uid}: must be owned by root (or uid {euid}, which runs the checks)"
    if mode & 0o022:
        return f"mode {stat.S_IMODE(mode):04o} lets group or others write it: must not (0644, 0755)"
    return None


def _unsafe(path):
    info = os.stat(path)
    reason = unsafe_reason(info.st_uid, info.st_mode, os.geteuid())
    return f"{path}: not loaded, {reason}" if reason else None


def site_checks(directory):
    """Checks from ``*.py`` files in a directory. Each file defines CHECKS: a list of dicts with id,
    run (a function of the context returning a Result or {status, observed, expected, message}) and
    optionally category, severity and profiles. A folder or file that fails unsafe_reason is not loaded
    (the folder: none of its files). Returns (checks, load errors)."""
    checks, errors = [], []
    if not directory or not os.path.isdir(directory):
        return checks, errors
    refused = _unsafe(directory)
    if refused:
        return checks, [refused]
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".py") or name.startswith("_"):
            continue
        path = os.path.join(directory, name)
        refused = _unsafe(path)
        if refused:
            errors.append(refused)
            continue
        try:
            spec = importlib.util.spec_from_file_location(f"preflight_site_{name[:-3]}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            checks.extend(_check_from(item, "site", item["run"]) for item in module.CHECKS)
        except Exception as exc:  # a broken site file is reported, never a traceback
            errors.append(f"{path}: {type(exc).__name__}: {exc}")
    return checks, errors
