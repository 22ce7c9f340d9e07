# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""node-problem-detector custom plugin: run a group of the collection's node checks on the node and
answer with the plugin contract (exit 0 OK, 1 problem, 2 unknown; one line of stdout).

The node_problem_detector role installs this file, the check library (preflight_*.py) and a small
runner (roles/node_problem_detector/files/aiplatform-npd-check) on every node, plus a JSON file per
host naming the checks of each group and their settings. node-problem-detector runs the runner in the
host's root (chroot) with the group's name; the runner calls :func:`run_group`.
"""

from __future__ import annotations

import json

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_catalogue import catalogue
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_core import (
    FAIL,
    SKIP,
    WARN,
    Context,
    run_profile,
    select_checks,
)

OK = 0
NON_OK = 1
UNKNOWN = 2


def verdict(results, max_output=80):
    """(exit code, message) for the results of one group.

    A failed check makes the group NonOK (1); a group whose every check was skipped (its tool or file
    missing: nothing could be judged) is Unknown (2); otherwise OK (0), warnings named in the message.
    The message is cut to ``max_output`` characters, as node-problem-detector cuts it anyway.
    """
    failed = [r for r in results if r["status"] == FAIL]
    warned = [r for r in results if r["status"] == WARN]
    if failed:
        code, message = NON_OK, "; ".join(f"{r['id']}: {r['message']}" for r in failed)
    elif results and all(r["status"] == SKIP for r in results):
        code, message = UNKNOWN, "cannot check: " + "; ".join(f"{r['id']}: {r['message']}" for r in results)
    else:
        code = OK
        message = f"{len(results)} check(s) ok" + (
            " (warn: " + ", ".join(r["id"] for r in warned) + ")" if warned else ""
        )
    if len(message) > max_output:
        message = message[: max(max_output - 3, 0)] + "..."
    return code, message


def run_group(config, group, root="/"):
    """Run one group of the host's plugin configuration: (exit code, message).

    ``config`` is the JSON the role writes: ``{"groups": {name: [check ids]}, "settings": {...},
    "max_output_length": 80, "command_timeout": 10}`` (and ``search_path``, where tools are looked up).
    A group with no checks on this host (a GPU group on a node without GPUs) is OK: nothing of it
    applies here.
    """
    groups = config.get("groups", {})
    max_output = int(config.get("max_output_length", 80))
    if group not in groups:
        known = ", ".join(sorted(groups)) or "none"
        return UNKNOWN, f"unknown check group {group!r} (known: {known})"[:max_output]
    ids = groups[group]
    if not ids:
        return OK, f"no {group} checks apply to this node"[:max_output]
    registry = catalogue()
    missing = [check_id for check_id in ids if check_id not in registry]
    if missing:
        return UNKNOWN, f"unknown check id(s): {', '.join(missing)}"[:max_output]
    chosen = select_checks(registry, (), include=ids)
    ctx = Context(
        root=root,
        settings=config.get("settings", {}),
        search_path=config.get("search_path") or None,
        timeout=float(config.get("command_timeout", 10)),
    )
    results, _summary = run_profile(ctx, chosen)
    return verdict(results, max_output)


def main(argv, stdout, config_path):
    """The runner's body: ``argv`` is [group]; prints the message, returns the exit code."""
    if len(argv) != 1:
        stdout.write("usage: aiplatform-npd-check GROUP\n")
        return UNKNOWN
    try:
        with open(config_path, encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError) as exc:
        stdout.write(f"cannot read {config_path}: {exc}"[:80] + "\n")
        return UNKNOWN
    code, message = run_group(config, argv[0])
    stdout.write(message + "\n")
    return code
