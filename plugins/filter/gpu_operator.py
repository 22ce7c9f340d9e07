# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""Filters of the gpu_operator role: the chart values from the role's variables, the DCGM exporter's
metrics file and the role's input checks, unknown value keys of the pinned chart included (pure)."""

from __future__ import annotations

import re

from ansible_collections.aiplatform.cluster.plugins.module_utils.chart_values import merge, unknown_value_keys
from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import Problems, as_bool

MIG_STRATEGIES = ("none", "single", "mixed")
METRIC_TYPES = ("gauge", "counter", "label")
# What must stay in the DCGM exporter's metrics: ECC and row-remap counters (off in the default CSV).
REQUIRED_METRICS = (
    "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL",
    "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS",
    "DCGM_FI_DEV_ROW_REMAP_FAILURE",
    "DCGM_FI_DEV_XID_ERRORS",
)
_FIELD = re.compile(r"^DCGM_FI_[A-Z0-9_]+$")
_DRIVER = re.compile(r"^\d+\.\d+(\.\d+)?$")
DCGM_CONFIG_NAME = "aiplatform-dcgm-metrics"


def gpu_operator_dcgm_csv(metrics):
    """The DCGM exporter's metrics file (``field, type, help`` per line)."""
    return "".join(f"{m['field']}, {m['type']}, {m['help']}\n" for m in metrics)


def gpu_operator_values(settings):
    """The chart values: the role's variables, then gpu_operator_values_extra merged over them."""
    values = {
        "driver": {"enabled": as_bool(settings["gpu_operator_driver_enabled"])},
        "toolkit": {"enabled": as_bool(settings["gpu_operator_toolkit_enabled"])},
        "devicePlugin": {"enabled": as_bool(settings["gpu_operator_device_plugin_enabled"])},
        "dcgmExporter": {
            "enabled": as_bool(settings["gpu_operator_dcgm_exporter_enabled"]),
            "config": {
                "name": DCGM_CONFIG_NAME,
                "create": True,
                "data": gpu_operator_dcgm_csv(settings["gpu_operator_dcgm_metrics"]),
            },
        },
        "gfd": {"enabled": as_bool(settings["gpu_operator_gfd_enabled"])},
        "migManager": {"enabled": as_bool(settings["gpu_operator_mig_manager_enabled"])},
        "mig": {"strategy": settings["gpu_operator_mig_strategy"]},
        "nfd": {"enabled": as_bool(settings["gpu_operator_nfd_enabled"])},
        "cdi": {"enabled": as_bool(settings["gpu_operator_cdi_enabled"])},
        "daemonsets": {"tolerations": list(settings["gpu_operator_tolerations"])},
    }
    if settings.get("gpu_operator_driver_version"):
        values["driver"]["version"] = str(settings["gpu_operator_driver_version"])
    if settings.get("gpu_operator_operator_node_selector"):
        values["operator"] = {"nodeSelector": dict(settings["gpu_operator_operator_node_selector"])}
    if settings.get("gpu_operator_nfd_worker_node_selector"):
        values["node-feature-discovery"] = {
            "worker": {"nodeSelector": dict(settings["gpu_operator_nfd_worker_node_selector"])}
        }
    return merge(values, settings.get("gpu_operator_values_extra") or {})


def _flag_problems(settings, problems):
    flags = {}
    for name in (
        "gpu_operator_driver_enabled",
        "gpu_operator_toolkit_enabled",
        "gpu_operator_device_plugin_enabled",
        "gpu_operator_dcgm_exporter_enabled",
        "gpu_operator_gfd_enabled",
        "gpu_operator_mig_manager_enabled",
        "gpu_operator_nfd_enabled",
        "gpu_operator_cdi_enabled",
    ):
        flags[name] = problems.boolean(name, settings.get(name))
    return flags


def _setting_problems(settings, flags, problems):
    version = settings.get("gpu_operator_driver_version")
    if version not in (None, "") and not _DRIVER.match(str(version)):
        problems.add(
            "gpu_operator_driver_version", "must be a driver version like 580.126.20 or empty (the chart's)", version
        )
    if flags["gpu_operator_driver_enabled"] is False and version not in (None, ""):
        problems.add("gpu_operator_driver_version", "must be empty when gpu_operator_driver_enabled is false", version)
    if settings.get("gpu_operator_mig_strategy") not in MIG_STRATEGIES:
        problems.add(
            "gpu_operator_mig_strategy",
            f"must be one of {', '.join(MIG_STRATEGIES)}",
            settings.get("gpu_operator_mig_strategy"),
        )
    if not isinstance(settings.get("gpu_operator_tolerations"), list):
        problems.add(
            "gpu_operator_tolerations", "must be a list of tolerations", settings.get("gpu_operator_tolerations")
        )
    for name in (
        "gpu_operator_operator_node_selector",
        "gpu_operator_nfd_worker_node_selector",
        "gpu_operator_values_extra",
    ):
        if not isinstance(settings.get(name), dict):
            problems.add(name, "must be a dict", settings.get(name))


def gpu_operator_problems(settings, known_keys, removed_keys):
    """One message per problem in the gpu_operator role's input, each naming its variable."""
    problems = Problems()
    flags = _flag_problems(settings, problems)
    _setting_problems(settings, flags, problems)
    _metric_problems(settings.get("gpu_operator_dcgm_metrics"), problems)
    if problems:
        return problems.messages
    values = gpu_operator_values(settings)
    for path in unknown_value_keys(values, known_keys):
        source = "gpu_operator_values_extra"
        if path in removed_keys:
            problems.add(source, f"'{path}' was removed from the chart ({removed_keys[path]})")
        else:
            problems.add(
                source, f"'{path}' is not a value of the pinned chart (see roles/gpu_operator/files/chart-keys-*.yml)"
            )
    return problems.messages


def _metric_problems(metrics, problems):
    if not isinstance(metrics, list):
        problems.add("gpu_operator_dcgm_metrics", "must be a list of {field, type, help}", metrics)
        metrics = []
    for metric in metrics:
        ok = (
            isinstance(metric, dict)
            and set(metric) == {"field", "type", "help"}
            and _FIELD.match(str(metric["field"]))
            and metric["type"] in METRIC_TYPES
            and "\n" not in str(metric["help"])
        )
        if not ok:
            problems.add(
                "gpu_operator_dcgm_metrics",
                "every entry must be {field: DCGM_FI_..., type: gauge|counter|label, help: one line}",
                metric,
            )
    fields = {m.get("field") for m in metrics if isinstance(m, dict)}
    missing = [field for field in REQUIRED_METRICS if field not in fields]
    if missing:
        problems.add("gpu_operator_dcgm_metrics", "must keep the ECC, row-remap and Xid counters", missing)


class FilterModule:
    def filters(self):
        return {
            "gpu_operator_values": gpu_operator_values,
            "gpu_operator_problems": gpu_operator_problems,
            "gpu_operator_dcgm_csv": gpu_operator_dcgm_csv,
        }
