# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""API Priority and Fairness: objects from the kube_apiserver role's variables, and their checks (pure functions).

Filters: plugins/filter/apf.py; kube_apiserver_problems runs the checks with the role's other rules.
"""

from __future__ import annotations

import re

from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import is_int

API_VERSION = "flowcontrol.apiserver.k8s.io/v1"
# Levels every apiserver creates itself: a FlowSchema may point at them without defining them.
BUILTIN_LEVELS = (
    "exempt",
    "catch-all",
    "leader-election",
    "node-high",
    "system",
    "workload-high",
    "workload-low",
    "global-default",
)
DISTINGUISHERS = ("ByUser", "ByNamespace")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


def apf_priority_level(level):
    """A PriorityLevelConfiguration from ``{name, shares, lendable_percent, borrowing_limit_percent, queuing}``.

    ``queuing`` (``{queues, hand_size, queue_length_limit}``) makes excess requests wait in fair queues;
    without it they are rejected (HTTP 429).
    """
    limited = {"nominalConcurrencyShares": level["shares"]}
    for key, field in (("lendable_percent", "lendablePercent"), ("borrowing_limit_percent", "borrowingLimitPercent")):
        if level.get(key) is not None:
            limited[field] = level[key]
    queuing = level.get("queuing")
    if queuing:
        limited["limitResponse"] = {
            "type": "Queue",
            "queuing": {
                "queues": queuing["queues"],
                "handSize": queuing["hand_size"],
                "queueLengthLimit": queuing["queue_length_limit"],
            },
        }
    else:
        limited["limitResponse"] = {"type": "Reject"}
    return {
        "apiVersion": API_VERSION,
        "kind": "PriorityLevelConfiguration",
        "metadata": {"name": level["name"], "labels": {"app.kubernetes.io/managed-by": "aiplatform.cluster"}},
        "spec": {"type": "Limited", "limited": limited},
    }


def apf_flow_schema(schema):
    """A FlowSchema from ``{name, priority_level, precedence, distinguisher, rules}`` (rules as in the API)."""
    spec = {
        "priorityLevelConfiguration": {"name": schema["priority_level"]},
        "matchingPrecedence": schema["precedence"],
        "rules": schema["rules"],
    }
    if schema.get("distinguisher"):
        spec["distinguisherMethod"] = {"type": schema["distinguisher"]}
    return {
        "apiVersion": API_VERSION,
        "kind": "FlowSchema",
        "metadata": {"name": schema["name"], "labels": {"app.kubernetes.io/managed-by": "aiplatform.cluster"}},
        "spec": spec,
    }


def apf_objects(levels, schemas):
    """Every APF object: the priority levels first (FlowSchemas refer to them), then the FlowSchemas."""
    return [apf_priority_level(level) for level in levels or []] + [apf_flow_schema(s) for s in schemas or []]


def _named(items, variable, errors):
    """(where, item) for each item named by a lower-case DNS name; an error for each other item."""
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not _NAME.match(str(item.get("name", ""))):
            errors.append(f"{variable}[{index}].name must be a lower-case DNS name")
            continue
        yield f"{variable}[{item['name']}]", item


def _level_problems(levels, errors):
    for where, level in _named(levels, "kube_apiserver_apf_priority_levels", errors):
        if level["name"] in BUILTIN_LEVELS:
            errors.append(f"{where}: {level['name']} is a built-in level (the apiserver owns it)")
        if not is_int(level.get("shares")) or level["shares"] <= 0:
            errors.append(f"{where}.shares must be a positive integer (got {level.get('shares')!r})")
        for key in ("lendable_percent", "borrowing_limit_percent"):
            value = level.get(key)
            if value is not None and (not is_int(value) or value < 0 or (key == "lendable_percent" and value > 100)):
                errors.append(f"{where}.{key} must be an integer percentage (got {value!r})")
        queuing = level.get("queuing")
        if queuing is not None and queuing != {}:
            if not isinstance(queuing, dict) or not all(
                is_int(queuing.get(k)) and queuing.get(k) > 0 for k in ("queues", "hand_size", "queue_length_limit")
            ):
                errors.append(f"{where}.queuing needs positive integers queues, hand_size and queue_length_limit")
            elif queuing["hand_size"] > queuing["queues"]:
                errors.append(f"{where}.queuing.hand_size ({queuing['hand_size']}) must not exceed queues")


def _schema_problems(schemas, defined, errors):
    for where, schema in _named(schemas, "kube_apiserver_apf_flow_schemas", errors):
        level = schema.get("priority_level")
        if level not in defined and level not in BUILTIN_LEVELS:
            errors.append(
                f"{where}.priority_level {level!r} is neither in kube_apiserver_apf_priority_levels "
                f"nor a built-in level ({', '.join(BUILTIN_LEVELS)})"
            )
        precedence = schema.get("precedence")
        if not is_int(precedence) or not 1 <= precedence <= 10000:
            errors.append(f"{where}.precedence must be an integer from 1 to 10000 (got {precedence!r})")
        if schema.get("distinguisher") not in (None, "", *DISTINGUISHERS):
            errors.append(
                f"{where}.distinguisher must be ByUser, ByNamespace or empty (got {schema['distinguisher']!r})"
            )
        rules = schema.get("rules")
        with_subjects = isinstance(rules, list) and all(isinstance(r, dict) and r.get("subjects") for r in rules)
        if not rules or not with_subjects:
            errors.append(f"{where}.rules must be a non-empty list of rules, each with subjects")


def apf_problems(levels, schemas):
    """Errors in the APF variables (every message names the variable), as a list."""
    errors = []
    if not isinstance(levels, list) or not isinstance(schemas, list):
        return ["kube_apiserver_apf_priority_levels and kube_apiserver_apf_flow_schemas must be lists"]
    _level_problems(levels, errors)
    names = [lvl.get("name") for lvl in levels if isinstance(lvl, dict)]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        errors.append(f"kube_apiserver_apf_priority_levels: duplicate names {duplicates}")
    _schema_problems(schemas, set(names), errors)
    schema_names = [s.get("name") for s in schemas if isinstance(s, dict)]
    duplicates = sorted({n for n in schema_names if schema_names.count(n) > 1})
    if duplicates:
        errors.append(f"kube_apiserver_apf_flow_schemas: duplicate names {duplicates}")
    return errors
