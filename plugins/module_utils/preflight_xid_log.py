# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""The kernel log over a longer window and across boots, for counting Xids that come back after a reboot
(gpu.xid) and for SXids (gpu.sxid). The other kernel-log checks read the current boot's lookback window
(preflight_checks_host.kernel_log)."""

from __future__ import annotations

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_checks_host import (
    kernel_log,
    now,
    uptime,
)
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_core import CheckError, Skip
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_parsers import recent_log_lines


def xid_log_lines(ctx, lookback):
    """Kernel log lines of the last ``lookback`` seconds, every boot the source holds.

    file: the log file (it spans boots); journal: ``journalctl _TRANSPORT=kernel`` (every boot the journal
    keeps; ``-k`` would mean the current boot only); kmsg: the current boot only (it holds nothing older)."""
    return ctx.memo(("xid_log", lookback), lambda: _lines(ctx, lookback))


def _lines(ctx, lookback):
    source = ctx.setting("kernel_log_source")
    if source == "file":
        return recent_log_lines(ctx.read(ctx.setting("kernel_log_path")), now(ctx), uptime(ctx), lookback)
    if source == "journal":
        since = f"@{int(now(ctx) - lookback)}"
        args = ["_TRANSPORT=kernel", "-q", "--no-pager", "-o", "short-iso", "--since", since]
        rc, out, err = ctx.run("journalctl", args)
        if rc != 0:
            raise Skip(f"journalctl _TRANSPORT=kernel failed: {(err or out).strip()[:200]}")
        return [line for line in out.splitlines() if line.strip()]
    if source == "kmsg":
        return kernel_log(ctx)
    raise CheckError(f"unknown kernel_log_source {source!r} (kmsg, journal or file)")
