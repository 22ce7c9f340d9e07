"""gpu_operator filters: chart values from the role's variables, unknown and removed value keys of the
pinned chart refused (the key list generated from the packaged chart), the DCGM metrics rules."""

from pathlib import Path

import chart_keys
import yaml

from ansible_collections.aiplatform.cluster.plugins.filter.gpu_operator import (
    gpu_operator_dcgm_csv,
    gpu_operator_problems,
    gpu_operator_values,
    unknown_value_keys,
)

ROOT = Path(__file__).resolve().parents[4]
DEFAULTS = yaml.safe_load((ROOT / "roles/gpu_operator/defaults/main.yml").read_text())
VERSION = yaml.safe_load((ROOT / "roles/kube_addons/defaults/main.yml").read_text())["kube_addons_versions"][
    "gpu_operator_chart"
]["version"]
KEYS = yaml.safe_load((ROOT / f"roles/gpu_operator/files/chart-keys-{VERSION}.yml").read_text())
REMOVED = yaml.safe_load((ROOT / "roles/gpu_operator/vars/main.yml").read_text())["_gpu_operator_removed_keys"]
SETTINGS = {
    name: value
    for name, value in DEFAULTS.items()
    if name
    not in ("gpu_operator_enabled", "gpu_operator_namespace", "gpu_operator_release", "gpu_operator_wait_timeout_s")
}


def settings(**changes):
    return {**SETTINGS, **changes}


def test_key_list_is_the_packaged_charts():
    # The committed list equals what the tool reads from the packaged chart (tests/fixtures/charts).
    files = chart_keys.chart_files(ROOT / f"tests/fixtures/charts/gpu-operator-{VERSION}.tgz")
    assert chart_keys.chart_version(files) == VERSION
    assert chart_keys.chart_keys(files) == KEYS


def test_defaults_are_fine_and_values_follow_the_variables():
    assert gpu_operator_problems(SETTINGS, KEYS, REMOVED) == []
    values = gpu_operator_values(settings(gpu_operator_driver_enabled="false", gpu_operator_mig_strategy="mixed"))
    assert values["driver"] == {"enabled": False}
    assert values["mig"] == {"strategy": "mixed"}
    assert values["daemonsets"] == {
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    }
    assert values["dcgmExporter"]["config"]["name"] == "aiplatform-dcgm-metrics"
    assert (
        "DCGM_FI_DEV_ROW_REMAP_FAILURE, gauge, Whether remapping of rows has failed.\n"
        in values["dcgmExporter"]["config"]["data"]
    )
    assert "operator" not in values


def test_extra_values_merge_and_free_form_keys_pass():
    extra = {
        "operator": {"nodeSelector": {"node-role/infra": "true"}, "resources": {"limits": {"cpu": "1"}}},
        "driver": {"kernelModuleType": "open"},
    }
    merged = gpu_operator_values(settings(gpu_operator_values_extra=extra, gpu_operator_driver_version="580.126.20"))
    assert merged["driver"] == {"enabled": True, "version": "580.126.20", "kernelModuleType": "open"}
    assert gpu_operator_problems(settings(gpu_operator_values_extra=extra), KEYS, REMOVED) == []


def test_unknown_and_removed_keys_are_refused():
    extra = {
        "operator": {"defaultRuntime": "containerd"},
        "cdi": {"default": True},
        "dcgmExporter": {"confg": {"x": 1}},
        "nosuch": 1,
    }
    assert gpu_operator_problems(settings(gpu_operator_values_extra=extra), KEYS, REMOVED) == [
        "gpu_operator_values_extra: 'cdi.default' was removed from the chart (CDI is the default since v26.7; "
        "remove it)",
        "gpu_operator_values_extra: 'dcgmExporter.confg' is not a value of the pinned chart (see "
        "roles/gpu_operator/files/chart-keys-*.yml)",
        "gpu_operator_values_extra: 'nosuch' is not a value of the pinned chart (see "
        "roles/gpu_operator/files/chart-keys-*.yml)",
        "gpu_operator_values_extra: 'operator.defaultRuntime' was removed from the chart (the toolkit detects "
        "the container runtime; remove it)",
    ]


def test_unknown_value_keys_rules():
    keys = ["a", "a.b", "a.b.c", "a.leaf", "a.labels", "a.labels.x"]
    assert unknown_value_keys({"a": {"b": {"c": 1}, "leaf": {"anything": 1}, "labels": {"y": "1"}}}, keys) == []
    assert unknown_value_keys({"a": {"b": {"d": {"e": 1}}}}, keys) == ["a.b.d"]


def test_variable_problems():
    problems = gpu_operator_problems(
        settings(
            gpu_operator_driver_enabled="no",
            gpu_operator_driver_version="latest",
            gpu_operator_mig_strategy="auto",
            gpu_operator_cdi_enabled="perhaps",
            gpu_operator_dcgm_metrics=[{"field": "DCGM_FI_DEV_GPU_TEMP", "type": "gauge", "help": "t"}, {"field": "x"}],
        ),
        KEYS,
        REMOVED,
    )
    assert problems == [
        "gpu_operator_cdi_enabled: must be a boolean (true or false) (got 'perhaps')",
        "gpu_operator_driver_version: must be a driver version like 580.126.20 or empty (the chart's) (got 'latest')",
        "gpu_operator_driver_version: must be empty when gpu_operator_driver_enabled is false (got 'latest')",
        "gpu_operator_mig_strategy: must be one of none, single, mixed (got 'auto')",
        "gpu_operator_dcgm_metrics: every entry must be {field: DCGM_FI_..., type: gauge|counter|label, help: "
        "one line} (got {'field': 'x'})",
        "gpu_operator_dcgm_metrics: must keep the ECC, row-remap and Xid counters (got "
        "['DCGM_FI_DEV_ECC_DBE_VOL_TOTAL', "
        "'DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS', 'DCGM_FI_DEV_ROW_REMAP_FAILURE', 'DCGM_FI_DEV_XID_ERRORS'])",
    ]


def test_dcgm_csv():
    assert gpu_operator_dcgm_csv(
        [{"field": "DCGM_FI_DEV_GPU_TEMP", "type": "gauge", "help": "GPU temperature (in C)."}]
    ) == ("DCGM_FI_DEV_GPU_TEMP, gauge, GPU temperature (in C).\n")
