# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Xid decisions, code by code, from NVIDIA's Xid catalogue, and repeat counting across boots (pure).

Source: NVIDIA, "Analyzing Xid Errors with the Xid Catalog"
(https://docs.nvidia.com/deploy/xid-errors/analyzing-xid-catalog.html), the downloadable catalogue of
Ampere-and-later Xids with a "Resolution Bucket (Immediate Action)" and "(Investigatory Action)" per code,
read through the generated copy of its "Catalog" sheet in leptonai/gpud
(components/accelerator/nvidia/xid/catalog_generated.go, generated 2025-10-29). Every code the catalogue
marks used on A100/H100/B100/GB200 is decided here with the bucket beside it; codes it marks "Unused" and
codes it does not list are ``unknown`` (a warning: the driver printed something the catalogue does not
expect).

Decisions:
- ``drain``: the GPU must not take new work until it is reset, the node rebooted or someone looks at it
  (buckets RESET_GPU, RESTART_BM, RESTART_VM, CHECK_MECHANICALS, CONTACT_SUPPORT, WORKFLOW_XID_48,
  WORKFLOW_NVLINK_ERR, WORKFLOW_NVLINK5_ERR);
- ``application``: the application's fault, the GPU is fine (RESTART_APP, the sympathetic 43 and 45);
- ``watch``: nothing to do now, but worth a warning (IGNORE with an investigatory action, 63's row remap);
- ``info``: nothing to do (IGNORE/IGNORE, test messages);
- 154 states its own action in its message ("GPU recovery action changed from 0x0 (None) to 0x1 (GPU
  Reset Required)"): drain unless the new action is None.
"""

from __future__ import annotations

import re

DRAIN = "drain"
APPLICATION = "application"
WATCH = "watch"
INFO = "info"
UNKNOWN = "unknown"

# code: (decision, NVIDIA immediate bucket, why). One row per code the catalogue marks used.
XID_DECISIONS = {
    8: (APPLICATION, "RESTART_APP", "GPU stopped processing (idle timeout); restart the application"),
    11: (APPLICATION, "RESTART_APP", "invalid or corrupted push buffer stream: an application or CUDA fault"),
    13: (APPLICATION, "RESTART_APP", "graphics engine exception: an application fault (WORKFLOW_XID_13)"),
    25: (APPLICATION, "RESTART_APP", "invalid or illegal push buffer stream: application"),
    31: (APPLICATION, "RESTART_APP", "GPU memory page fault: usually the application (WORKFLOW_XID_31)"),
    32: (APPLICATION, "RESTART_APP", "invalid or corrupted push buffer stream: application"),
    37: (INFO, "IGNORE", "driver firmware error, nothing to do"),
    38: (WATCH, "IGNORE", "driver firmware watchdog timeout; NVIDIA: contact support if it persists"),
    39: (APPLICATION, "RESTART_APP", "copy engine exception"),
    40: (APPLICATION, "RESTART_APP", "copy engine exception"),
    41: (APPLICATION, "RESTART_APP", "copy engine exception"),
    43: (APPLICATION, "IGNORE", "GPU stopped processing: sympathetic to the Xid before it"),
    44: (WATCH, "IGNORE", "graphics engine fault during context switch; NVIDIA: contact support if it persists"),
    45: (APPLICATION, "WORKFLOW_XID_45", "preemptive cleanup after another error: follow that Xid"),
    46: (DRAIN, "RESET_GPU", "GPU stopped processing: reset the GPU"),
    48: (DRAIN, "WORKFLOW_XID_48", "double-bit ECC error: reset the GPU, then check the SRAM threshold"),
    54: (DRAIN, "CHECK_MECHANICALS", "auxiliary power not connected: the GPU runs at reduced clocks"),
    60: (APPLICATION, "RESTART_APP", "video processor exception"),
    62: (DRAIN, "RESET_GPU", "internal micro-controller halt: reset the GPU"),
    63: (WATCH, "IGNORE", "row remap recorded; pending remaps need a reset (gpu.row_remap.pending), repeats end in 64"),
    64: (DRAIN, "RESET_GPU", "row remapping failed: reset the GPU, replace it if it persists"),
    66: (INFO, "IGNORE", "illegal access by driver"),
    67: (WATCH, "IGNORE", "illegal access by driver; NVIDIA: contact support if it persists"),
    68: (APPLICATION, "RESTART_APP", "NVDEC0 exception"),
    69: (APPLICATION, "RESTART_APP", "graphics engine class error"),
    **{code: (APPLICATION, "RESTART_APP", "copy engine error") for code in (70, 71, 72, 75, 76, 77, 85)},
    74: (DRAIN, "WORKFLOW_NVLINK_ERR", "NVLink error: drain, reset the GPU, follow NVIDIA's NVLink workflow"),
    78: (WATCH, "UPDATE_SWFW", "vGPU start error: update the software or firmware"),
    79: (DRAIN, "RESTART_BM", "GPU has fallen off the bus: reboot the machine"),
    80: (APPLICATION, "RESTART_APP", "corrupted data sent to the GPU"),
    **{code: (APPLICATION, "RESTART_APP", "video/JPEG/OFA engine error") for code in (82, 83, 84, 86, 88, 89)},
    92: (WATCH, "IGNORE", "high single-bit ECC error rate; NVIDIA: contact support"),
    93: (WATCH, "IGNORE", "InfoROM wear limit exceeded (non-fatal); NVIDIA: contact support"),
    94: (APPLICATION, "RESTART_APP", "contained memory error: the application stopped, the GPU goes on"),
    95: (DRAIN, "RESET_GPU", "uncontained memory error: reset the GPU"),
    **{code: (APPLICATION, "RESTART_APP", "video/JPEG engine error") for code in range(96, 106)},
    106: (INFO, "IGNORE", "SMBPBI test message"),
    107: (INFO, "IGNORE", "SMBPBI test message"),
    109: (DRAIN, "RESET_GPU", "context switch timeout: reset the GPU"),
    110: (DRAIN, "RESET_GPU", "security fault: reset the GPU"),
    119: (DRAIN, "RESET_GPU", "GSP RPC timeout: reset the GPU"),
    120: (DRAIN, "RESET_GPU", "GSP error: reset the GPU"),
    121: (WATCH, "IGNORE", "C2C error; NVIDIA: contact support"),
    **{code: (APPLICATION, "RESTART_APP", "copy engine error") for code in range(126, 136)},
    136: (DRAIN, "RESET_GPU", "link training failed: reset the GPU, investigate the link"),
    137: (WATCH, "IGNORE", "NVLink privilege error (XID_137_FLOW)"),
    139: (APPLICATION, "RESTART_APP", "OFA1 error"),
    140: (DRAIN, "RESET_GPU", "unrecovered ECC error: reset the GPU"),
    141: (WATCH, "IGNORE", "CUDA fast path error; NVIDIA: contact support"),
    142: (DRAIN, "CONTACT_SUPPORT", "NVENC3 error: NVIDIA's immediate action is to contact support"),
    143: (DRAIN, "RESET_GPU", "GPU initialisation error: reset the GPU"),
    **{
        code: (DRAIN, "WORKFLOW_NVLINK5_ERR", "NVLink5 error: follow NVIDIA's NVLink5 workflow")
        for code in range(144, 151)
    },
    151: (DRAIN, "RESTART_VM", "key rotation error: restart the VM (confidential computing)"),
    152: (WATCH, "IGNORE", "DLA SMMU error; NVIDIA: contact support"),
    153: (WATCH, "IGNORE", "DLA timeout; NVIDIA: contact support"),
    155: (DRAIN, "RESET_GPU", "NVLink software-defined error: reset the GPU"),
    156: (DRAIN, "RESET_GPU", "resource retirement event: reset the GPU"),
    157: (WATCH, "IGNORE", "resource retirement failure; NVIDIA: contact support"),
    158: (DRAIN, "RESET_GPU", "GPU fatal timeout: reset the GPU"),
    159: (WATCH, "CHECK_UVM", "CHI non-data error: check UVM"),
    160: (WATCH, "IGNORE", "channel retirement event; investigate the software"),
    161: (WATCH, "IGNORE", "channel retirement failure; investigate the software"),
    # Listed after the copy of the catalogue was generated without a bucket: decided from the description.
    167: (DRAIN, "(none listed)", "PCIe fatal timeout: treated like 158, reset the GPU"),
    169: (DRAIN, "(none listed)", "SEC2 micro-controller halt: treated like 62, reset the GPU"),
    171: (DRAIN, "(none listed)", "uncorrectable DRAM error, a companion of 48: treated like 48"),
    172: (DRAIN, "(none listed)", "uncorrectable SRAM error, a companion of 48: treated like 48"),
}

# The action an Xid 154 names; anything but None keeps new work off the GPU.
_XID154 = re.compile(r"recovery action changed from \S+ \(([^)]*)\) to (0x[0-9a-fA-F]+) \(([^)]*)\)")


def decide(code, message="", drain=(), application=()):  # noqa: PLR0911 (one return per kind of answer)
    """(decision, bucket, reason) for one Xid; ``drain`` / ``application`` are the operator's overrides."""
    if code in drain:
        return DRAIN, "operator", "in gpu_xid_drain"
    if code in application:
        return APPLICATION, "operator", "in gpu_xid_application"
    if code == 154:
        match = _XID154.search(message)
        if not match:
            return DRAIN, "XID_154", "GPU recovery action changed; the new action could not be read"
        if int(match.group(2), 16) == 0:
            return INFO, "XID_154", f"GPU recovery action back to {match.group(3)}"
        return DRAIN, "XID_154", f"GPU recovery action: {match.group(3)}"
    if code in XID_DECISIONS:
        return XID_DECISIONS[code]
    return UNKNOWN, "", "not a used code in NVIDIA's Xid catalogue"


def codes_with(decision):
    """The codes of the table with one decision, sorted (154 is decided from its message: never listed)."""
    return tuple(sorted(code for code, row in XID_DECISIONS.items() if row[0] == decision))


_XID_LINE = re.compile(r"NVRM: Xid \((PCI:[0-9A-Fa-f:.]+)\): (\d+)\b(.*)$")
# The kernel's first line of every boot ("Linux version 6.1.0-25-amd64 (debian-kernel@...) ...").
_BOOT_BANNER = re.compile(r"\bLinux version \d")


def xid_events(lines):
    """[(boot number, pci, code, rest of the message)] in log order; a kernel banner starts a new boot."""
    events, boot = [], 0
    for line in lines:
        if _BOOT_BANNER.search(line):
            boot += 1
            continue
        match = _XID_LINE.search(line)
        if match:
            events.append((boot, match.group(1), int(match.group(2)), match.group(3)))
    return events


def repeats_across_boots(events, decisions):
    """{(pci, code): number of boots} for drain-class Xids seen in more than one boot of the log.

    An Xid that comes back after the reboot that was meant to clear it points at the hardware: NVIDIA's
    buckets say to reset or reboot first and to contact support (inspection, RMA) when it persists."""
    boots = {}
    for (boot, pci, code, _rest), decision in zip(events, decisions):  # noqa: B905 (targets may run Python 3.9: no strict=)
        if decision == DRAIN:
            boots.setdefault((pci, code), set()).add(boot)
    return {key: len(seen) for key, seen in boots.items() if len(seen) > 1}
