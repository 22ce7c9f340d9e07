"""Validate node-problem-detector monitor configurations against the fields NPD documents and reads.

Written from node-problem-detector's Go types (pkg/custompluginmonitor/types/config.go and types.go,
pkg/systemlogmonitor/config.go, pkg/systemlogmonitor/logwatchers/types/log_watcher.go,
pkg/systemlogmonitor/types/types.go, pkg/types/types.go): only those fields (unknown ones fail here,
where NPD would silently ignore them), their types, and the checks NPD's Validate() makes: a custom
plugin's rule timeout within the global one, and every permanent rule's condition among the default
conditions. Kernel-monitor patterns must compile (RE2 and Python agree on the syntax used here).
"""

from __future__ import annotations

import re

import jsonschema

_STR = {"type": "string", "minLength": 1}
_DURATION = {"type": "string", "pattern": r"^\d+(ms|s|m|h)$"}


def _object(properties, required=()):
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


_CONDITION = _object({"type": _STR, "reason": _STR, "message": {"type": "string"}}, ["type", "reason", "message"])
_PROBLEM_TYPE = {"enum": ["temporary", "permanent"]}

KERNEL_MONITOR = _object(
    {
        "plugin": {"enum": ["kmsg", "journald", "filelog"]},
        "pluginConfig": {"type": "object", "additionalProperties": {"type": "string"}},
        "skipList": {"type": "array", "items": {"type": "string"}},
        "logPath": _STR,
        "lookback": _DURATION,
        "delay": _DURATION,
        "bufferSize": {"type": "integer", "minimum": 1},
        "source": _STR,
        "conditions": {"type": "array", "items": _CONDITION},
        "rules": {
            "type": "array",
            "minItems": 1,
            "items": _object(
                {
                    "type": _PROBLEM_TYPE,
                    "condition": _STR,
                    "reason": _STR,
                    "pattern": _STR,
                    "patternGeneratedMessageSuffix": {"type": "string"},
                },
                ["type", "reason", "pattern"],
            ),
        },
        "metricsReporting": {"type": "boolean"},
    },
    ["plugin", "source", "conditions", "rules"],
)

CUSTOM_PLUGIN_MONITOR = _object(
    {
        "plugin": {"const": "custom"},
        "pluginConfig": _object(
            {
                "invoke_interval": _DURATION,
                "timeout": _DURATION,
                "max_output_length": {"type": "integer", "minimum": 1},
                "concurrency": {"type": "integer", "minimum": 1},
                "enable_message_change_based_condition_update": {"type": "boolean"},
                "skip_initial_status": {"type": "boolean"},
            }
        ),
        "source": _STR,
        "conditions": {"type": "array", "items": _CONDITION},
        "rules": {
            "type": "array",
            "minItems": 1,
            "items": _object(
                {
                    "type": _PROBLEM_TYPE,
                    "condition": _STR,
                    "reason": _STR,
                    "path": {"type": "string", "pattern": "^/"},
                    "args": {"type": "array", "items": {"type": "string"}},
                    "timeout": _DURATION,
                    "invoke_interval": _DURATION,
                },
                ["type", "reason", "path"],
            ),
        },
        "metricsReporting": {"type": "boolean"},
    },
    ["plugin", "source", "conditions", "rules"],
)

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def seconds(duration):
    number, unit = re.match(r"^(\d+)(ms|s|m|h)$", duration).groups()
    return int(number) * _UNITS[unit]


def _permanent_conditions(config):
    defaults = {condition["type"] for condition in config["conditions"]}
    for rule in config["rules"]:
        if rule["type"] == "permanent" and rule.get("condition") not in defaults:
            raise ValueError(f"permanent rule {rule['reason']} has no default condition {rule.get('condition')!r}")


def validate_kernel_monitor(config):
    jsonschema.validate(config, KERNEL_MONITOR)
    _permanent_conditions(config)
    for rule in config["rules"]:
        re.compile(rule["pattern"])


def validate_custom_plugin_monitor(config):
    jsonschema.validate(config, CUSTOM_PLUGIN_MONITOR)
    _permanent_conditions(config)
    limit = seconds(config.get("pluginConfig", {}).get("timeout", "5s"))
    for rule in config["rules"]:
        if "timeout" in rule and seconds(rule["timeout"]) > limit:
            raise ValueError(f"rule {rule['reason']}: timeout {rule['timeout']} above the global timeout")
