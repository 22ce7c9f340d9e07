# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""The GPU node's fabric: the NVSwitch fabric manager and the GPUs' fabric registration, SXid errors,
PCIe links and NUMA placement of GPUs and NICs, InfiniBand ports and link flaps.

Sources of what is read: sysfs (Linux Documentation/ABI/testing/sysfs-bus-pci: vendor, class,
current_link_speed/width, max_link_speed/width, numa_node; Documentation/ABI/stable/sysfs-class-infiniband:
ports/N/state, phys_state, rate, link_layer, counters/link_downed), nvidia-smi's fabric fields, the fabric
manager's ``--version`` and the NVSwitch driver's SXid lines (tests/fixtures/preflight/README.md)."""

from __future__ import annotations

import os
import re

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_checks_gpu import (
    driver_info,
    gpu_thresholds,
)
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_checks_host import kernel_log
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_core import (
    GPU_PROFILES,
    CheckError,
    Skip,
    check,
    failed,
    passed,
    warned,
)
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_parsers import parse_nvidia_csv
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_parsers_gpu import (
    parse_fabric_manager_version,
    parse_ib_rate,
    parse_pcie_speed,
    parse_sxids,
)

NVSWITCH_DEVICES = "/proc/driver/nvidia-nvswitch/devices"
FABRIC_QUERY = ("--query-gpu=index,pci.bus_id,fabric.state,fabric.status", "--format=csv,noheader")
FABRIC_FIELDS = ("index", "pci.bus_id", "fabric.state", "fabric.status")
PCI_DEVICES = "/sys/bus/pci/devices"
IB_DEVICES = "/sys/class/infiniband"
NVIDIA_VENDOR = "0x10de"
MELLANOX_VENDOR = "0x15b3"


def fabric_rows(ctx):
    """The GPUs' fabric registration, or None when this driver's nvidia-smi has no fabric fields."""
    return ctx.memo("gpu_fabric", lambda: _fabric_rows(ctx))


def _fabric_rows(ctx):
    if ctx.which("nvidia-smi") is None:
        raise Skip("nvidia-smi not found (see gpu.nvidia_smi)")
    rc, out, err = ctx.run("nvidia-smi", list(FABRIC_QUERY))
    if rc == 2 and "is not a valid field" in out + err:
        return None
    if rc != 0:
        text = (err or out).strip().splitlines()
        raise CheckError(f"nvidia-smi {FABRIC_QUERY[0]} exited {rc}: {text[0][:200] if text else 'no output'}")
    return parse_nvidia_csv(out, FABRIC_FIELDS)


def _on_fabric(row):
    return row["fabric.state"] not in (None, "Not Supported")


def _switches(ctx):
    try:
        return sorted(os.listdir(ctx.path(NVSWITCH_DEVICES)))
    except OSError:
        return []


@check("gpu.fabric_state", "fabric", profiles=GPU_PROFILES)
def fabric_state(ctx):
    """Every GPU on an NVSwitch fabric registered with it (state Completed, status Success)."""
    rows = fabric_rows(ctx)
    if rows is None:
        raise Skip(f"driver {driver_info(ctx)['driver']}'s nvidia-smi does not report fabric.state")
    observed = {row["index"]: row["fabric.state"] for row in rows}
    fabric = [row for row in rows if _on_fabric(row)]
    if not fabric:
        return passed(observed, "Completed/Success", "no GPU on an NVSwitch fabric (Not Supported)")
    bad = [
        f"GPU {row['index']}: {row['fabric.state']}/{row['fabric.status'] or 'N/A'}"
        for row in fabric
        if row["fabric.state"] != "Completed" or row["fabric.status"] != "Success"
    ]
    if bad:
        return failed(
            observed,
            "Completed/Success",
            "GPUs not registered with the NVSwitch fabric (fabric manager down or failing): " + ", ".join(bad),
        )
    return passed(observed, "Completed/Success", f"{len(fabric)} GPU(s) registered with the NVSwitch fabric")


@check("gpu.fabric_manager", "fabric", profiles=GPU_PROFILES)
def fabric_manager(ctx):
    """On NVSwitch systems (switch devices in /proc, or GPUs reporting a fabric state) the fabric manager
    service is active and its version is the driver's (it refuses to run otherwise)."""
    switches = _switches(ctx)
    try:
        rows = fabric_rows(ctx) or []
    except (Skip, CheckError):
        rows = []
    on_fabric = [row for row in rows if _on_fabric(row)]
    if not switches and not on_fabric:
        return passed(0, None, "no NVSwitch: no fabric manager needed")
    where = f"{len(switches)} NVSwitch device(s)" if switches else f"{len(on_fabric)} GPU(s) on an NVSwitch fabric"
    service = ctx.setting("fabric_manager_service")
    rc, out, _err = ctx.run("systemctl", ["is-active", service])
    state = out.strip() or f"rc {rc}"
    if rc != 0 or state != "active":
        return failed(state, "active", f"{where} but {service} is {state}: GPUs cannot talk over NVLink")
    if ctx.which("nv-fabricmanager") is None:
        return passed(
            state, "active", f"{service} active for {where} (nv-fabricmanager not found: version not compared)"
        )
    rc, out, err = ctx.run("nv-fabricmanager", ["--version"])
    version = parse_fabric_manager_version(out + err)
    driver = driver_info(ctx)["driver"]
    if version != driver:
        return failed(
            {"service": state, "version": version},
            {"service": "active", "version": driver},
            f"fabric manager {version} does not match driver {driver}: install the one of the driver's version",
        )
    return passed(
        {"service": state, "version": version},
        {"service": "active", "version": driver},
        f"{service} {version} active for {where}",
    )


@check("gpu.sxid", "fabric", profiles=GPU_PROFILES)
def sxid(ctx):
    """NVSwitch errors in the kernel log's lookback window: fatal ones fail (the fabric manager and the
    GPUs need a reset), non-fatal ones warn."""
    events = parse_sxids(kernel_log(ctx))
    if not events:
        return passed([], "no SXid", "no SXid in the kernel log")
    codes = sorted({code for _dev, _pci, code, _fatal in events})
    fatal = sorted({f"{dev} ({pci}) SXid {code}" for dev, pci, code, is_fatal in events if is_fatal})
    if fatal:
        return failed(codes, "no fatal SXid", "fatal NVSwitch errors: " + ", ".join(fatal))
    return warned(codes, "no fatal SXid", "non-fatal NVSwitch errors: " + ", ".join(map(str, codes)))


def _read(ctx, path):
    try:
        return ctx.read(path).strip()
    except Skip:
        return None


def pci_devices(ctx):
    """{"gpus": [...], "nics": [...]}: NVIDIA display/3D controllers and InfiniBand or Mellanox NICs, each
    {"address", "current_speed", "max_speed", "current_width", "max_width", "numa_node"}."""
    return ctx.memo("pci_devices", lambda: _pci_devices(ctx))


def _pci_devices(ctx):
    try:
        addresses = sorted(os.listdir(ctx.path(PCI_DEVICES)))
    except OSError as exc:
        raise Skip(f"cannot list {PCI_DEVICES}: {exc.strerror}") from exc
    found = {"gpus": [], "nics": []}
    for address in addresses:
        base = f"{PCI_DEVICES}/{address}"
        vendor, klass = _read(ctx, f"{base}/vendor"), _read(ctx, f"{base}/class") or ""
        if vendor == NVIDIA_VENDOR and klass[:6] in ("0x0300", "0x0302"):
            kind = "gpus"
        elif klass.startswith("0x0207") or (vendor == MELLANOX_VENDOR and klass.startswith("0x0200")):
            kind = "nics"
        else:
            continue
        node = _read(ctx, f"{base}/numa_node")
        found[kind].append(
            {
                "address": address,
                "current_speed": _read(ctx, f"{base}/current_link_speed"),
                "max_speed": _read(ctx, f"{base}/max_link_speed"),
                "current_width": _read(ctx, f"{base}/current_link_width"),
                "max_width": _read(ctx, f"{base}/max_link_width"),
                "numa_node": int(node) if node and re.fullmatch(r"-?\d+", node) else None,
            }
        )
    if not found["gpus"] and not found["nics"]:
        raise Skip(f"no NVIDIA GPU or InfiniBand/Mellanox NIC in {PCI_DEVICES}")
    return found


def _model_pcie_gen(ctx):
    try:
        return gpu_thresholds(ctx)["pcie_gen"]
    except (Skip, CheckError):
        return None


def _gen(speed):
    """PCIe generation of a sysfs speed; None when missing or "Unknown" (the kernel's word for a link it
    cannot read, as on virtual functions)."""
    if not speed or speed.strip() == "Unknown":
        return None
    return parse_pcie_speed(speed)


@check("gpu.pcie", "fabric", profiles=GPU_PROFILES)
def pcie(ctx):
    """Every GPU and NIC at its full link width; NICs at their full speed; GPUs able to reach the model's
    PCIe generation (a GPU lowers its link speed when idle, so its current speed is not judged)."""
    devices = pci_devices(ctx)
    want_gen = _model_pcie_gen(ctx)
    observed, bad = {}, []
    for kind, items in devices.items():
        for dev in items:
            width, top = dev["current_width"], dev["max_width"]
            observed[dev["address"]] = f"x{width} of x{top}, {dev['current_speed']} of {dev['max_speed']}"
            if width and top and width.isdigit() and top.isdigit() and int(width) < int(top):
                bad.append(f"{dev['address']} runs x{width} of x{top}")
            current, top_gen = _gen(dev["current_speed"]), _gen(dev["max_speed"])
            if kind == "nics" and current and top_gen and current < top_gen:
                bad.append(f"NIC {dev['address']} at {dev['current_speed']} of {dev['max_speed']}")
            if kind == "gpus" and want_gen and top_gen and top_gen < int(want_gen):
                bad.append(f"GPU {dev['address']} reaches PCIe Gen{top_gen}, the model needs Gen{want_gen}")
    expected = "full width" + (f", GPUs Gen{want_gen}" if want_gen else "")
    if bad:
        return failed(observed, expected, "degraded PCIe links: " + "; ".join(bad))
    return passed(observed, expected, f"{sum(map(len, devices.values()))} GPU/NIC link(s) at full width")


@check("gpu.numa", "fabric", profiles=GPU_PROFILES)
def numa(ctx):
    """On a multi-node machine every GPU and NIC reports its NUMA node (-1 means the firmware did not say:
    NCCL and the device plugin then pair GPUs with far NICs), and every GPU's node has a NIC."""
    devices = pci_devices(ctx)
    online = _read(ctx, "/sys/devices/system/node/online") or "0"
    nodes = set()
    for part in online.split(","):
        first, _sep, last = part.partition("-")
        if first.strip().isdigit():
            nodes.update(range(int(first), int(last or first) + 1))
    observed = {dev["address"]: dev["numa_node"] for items in devices.values() for dev in items}
    if len(nodes) <= 1:
        return passed(observed, "one NUMA node", "one NUMA node: nothing to place")
    unknown = [address for address, node in observed.items() if node is None or node < 0]
    if unknown:
        return failed(observed, "a NUMA node per device", "no NUMA node reported for " + ", ".join(unknown))
    nic_nodes = {dev["numa_node"] for dev in devices["nics"]}
    lonely = [dev["address"] for dev in devices["gpus"] if nic_nodes and dev["numa_node"] not in nic_nodes]
    if lonely:
        return warned(
            observed, "a NIC on every GPU's node", "GPUs without a NIC on their NUMA node: " + ", ".join(lonely)
        )
    return passed(observed, "a NIC on every GPU's node", f"GPUs and NICs placed on {len(nodes)} NUMA nodes")


def ib_ports(ctx):
    """[{"port": "mlx5_0/1", "state", "phys_state", "rate", "link_downed"}] of the InfiniBand-layer ports."""
    try:
        devices = sorted(os.listdir(ctx.path(IB_DEVICES)))
    except OSError:
        devices = []
    ports = []
    for device in devices:
        try:
            numbers = sorted(
                os.listdir(ctx.path(f"{IB_DEVICES}/{device}/ports")), key=lambda n: int(n) if n.isdigit() else 0
            )
        except OSError:
            continue
        for number in numbers:
            base = f"{IB_DEVICES}/{device}/ports/{number}"
            if (_read(ctx, f"{base}/link_layer") or "InfiniBand") != "InfiniBand":
                continue
            downed = _read(ctx, f"{base}/counters/link_downed")
            ports.append(
                {
                    "port": f"{device}/{number}",
                    "state": _read(ctx, f"{base}/state") or "",
                    "phys_state": _read(ctx, f"{base}/phys_state") or "",
                    "rate": _read(ctx, f"{base}/rate") or "",
                    "link_downed": int(downed) if downed and downed.isdigit() else None,
                }
            )
    if not ports:
        raise Skip(f"no InfiniBand port in {IB_DEVICES}")
    return ports


def _want_rate(ctx):
    rate = ctx.setting("ib_rate_gbps")
    if rate is None:
        try:
            rate = gpu_thresholds(ctx)["ib_rate_gbps"]
        except (Skip, CheckError):
            rate = None
    return rate


@check("gpu.ib.ports", "fabric", profiles=GPU_PROFILES)
def ib_port_state(ctx):
    """Every InfiniBand port ACTIVE and LinkUp, at ib_rate_gbps (else the GPU model's rate) or faster."""
    want = _want_rate(ctx)
    observed, bad = {}, []
    for port in ib_ports(ctx):
        rate = parse_ib_rate(port["rate"])
        observed[port["port"]] = f"{port['state']}, {port['phys_state']}, {port['rate']}"
        if "ACTIVE" not in port["state"] or "LinkUp" not in port["phys_state"]:
            bad.append(f"{port['port']} is {port['state']} / {port['phys_state']}")
        elif want and (rate is None or rate < float(want)):
            bad.append(f"{port['port']} at {port['rate']} (expected {want} Gb/sec)")
    expected = "ACTIVE, LinkUp" + (f", >= {want} Gb/sec" if want else "")
    if bad:
        return failed(observed, expected, "InfiniBand ports down or slow: " + "; ".join(bad))
    return passed(observed, expected, f"{len(observed)} InfiniBand port(s) up")


@check("gpu.ib.link_flaps", "fabric", profiles=GPU_PROFILES)
def ib_link_flaps(ctx):
    """Link flapping: each port's link_downed counter (times the link went down since the counters were
    reset, usually the driver load) at most ib_link_downed_max."""
    limit = int(ctx.setting("ib_link_downed_max"))
    counts = {port["port"]: port["link_downed"] for port in ib_ports(ctx)}
    if all(count is None for count in counts.values()):
        raise Skip("no link_downed counter under the InfiniBand ports")
    bad = {port: count for port, count in counts.items() if count is not None and count > limit}
    if bad:
        return failed(
            counts, f"<= {limit}", "InfiniBand links went down: " + ", ".join(f"{p} {n}x" for p, n in bad.items())
        )
    return passed(counts, f"<= {limit}", "no InfiniBand link flaps")
