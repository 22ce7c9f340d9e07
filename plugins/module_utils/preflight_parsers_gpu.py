# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Pure parsers for the GPU, fabric and burn-in checks: sysfs values, the fabric manager's version,
SXid lines, dcgmi diag JSON, nvbandwidth and nccl-tests output. Malformed input raises CheckError;
the formats' sources are in tests/fixtures/preflight/README.md."""

from __future__ import annotations

import json
import re

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_core import CheckError

# sysfs current_link_speed / max_link_speed: "32.0 GT/s PCIe" (older kernels: "8 GT/s"), per generation.
_PCIE_GT = {2.5: 1, 5.0: 2, 8.0: 3, 16.0: 4, 32.0: 5, 64.0: 6}


def parse_pcie_speed(text):
    """PCIe generation of a sysfs link speed ("32.0 GT/s PCIe" -> 5)."""
    match = re.match(r"\s*([\d.]+)\s*GT/s", text or "")
    if not match or float(match.group(1)) not in _PCIE_GT:
        raise CheckError(f"not a PCIe link speed: {text!r}")
    return _PCIE_GT[float(match.group(1))]


def parse_ib_rate(text):
    """Gb/s of a sysfs InfiniBand rate ("400 Gb/sec (4X NDR)" -> 400.0), None when unreadable."""
    match = re.match(r"\s*([\d.]+)\s*Gb/sec", text or "")
    return float(match.group(1)) if match else None


def parse_fabric_manager_version(text):
    """``nv-fabricmanager --version``: "Fabric Manager version is : 535.161.08" -> "535.161.08"."""
    match = re.search(r"Fabric Manager version is\s*:\s*(\S+)", text or "")
    if not match:
        raise CheckError(f"nv-fabricmanager --version: no version in {(text or '').strip()[:200]!r}")
    return match.group(1)


_SXID = re.compile(r"(nvidia-nvswitch\d+): SXid \((PCI:[0-9A-Fa-f:.]+)\): (\d+), (Fatal|Non-fatal)")


def parse_sxids(lines):
    """[(switch, pci, sxid, fatal)] of the NVSwitch driver's ``nvidia-nvswitchN: SXid (PCI:…): N, Fatal|Non-fatal``."""
    found = []
    for line in lines:
        match = _SXID.search(line)
        if match:
            found.append((match.group(1), match.group(2), int(match.group(3)), match.group(4) == "Fatal"))
    return found


def parse_dcgm_diag(text):
    """``dcgmi diag -r N -j``: [(category, test, status, warning text)] for every result of every test."""
    try:
        data = json.loads(text)
        categories = data["DCGM GPU Diagnostic"]["test_categories"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckError(f"dcgmi diag -j: not the diagnostic JSON ({exc})") from exc
    results = []
    for category in categories:
        for test in category.get("tests", []):
            for result in test.get("results", []):
                warnings = result.get("warnings") or []
                text = "; ".join(str(w.get("warning", w)) if isinstance(w, dict) else str(w) for w in warnings)
                results.append(
                    (category.get("category", "?"), test.get("name", "?"), str(result.get("status", "")), text)
                )
    if not results:
        raise CheckError("dcgmi diag -j: no test results")
    return results


def parse_nvbandwidth(text):
    """nvbandwidth's matrices: {test name: [GB/s, ...]} ("Running <test>.", a title, the column numbers, then
    rows "<row> <GB/s> <GB/s> ..."; N/A cells, the diagonal of device-to-device tests, are left out)."""
    tests, current = {}, None
    for line in text.splitlines():
        running = re.match(r"\s*Running (\S+?)\.?\s*$", line)
        if running:
            current = tests.setdefault(running.group(1), [])
            continue
        if current is None:
            continue
        cells = line.split()
        # Rows start with the row's device number; the column header has device numbers only.
        if len(cells) > 1 and cells[0].isdigit() and not all(cell.isdigit() for cell in cells):
            for cell in cells[1:]:
                try:
                    current.append(float(cell))
                except ValueError:
                    continue
    if not tests or not any(tests.values()):
        raise CheckError("nvbandwidth: no bandwidth matrix in its output")
    return tests


def parse_nccl_busbw(text):
    """nccl-tests' all_reduce_perf: the "# Avg bus bandwidth    : 460.12" line, in GB/s."""
    match = re.search(r"#\s*Avg bus bandwidth\s*:\s*([\d.]+)", text)
    if not match:
        raise CheckError("all_reduce_perf: no '# Avg bus bandwidth' line")
    return float(match.group(1))


def parse_ib_write_bw(text):
    """perftest's ib_write_bw report: the BW average [Gb/sec] of its result line (run with --report_gbits)."""
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if "BW average" in line and "#bytes" in line:
            for row in lines[number + 1 :]:
                cells = row.split()
                if len(cells) >= 4 and cells[0].isdigit():
                    return float(cells[3])
    raise CheckError("ib_write_bw: no result line under '#bytes ... BW average'")
