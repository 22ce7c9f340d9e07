"""Unit tests for the API Priority and Fairness filters and the role's default set for AI clusters."""

from __future__ import annotations

import copy
from pathlib import Path

import kube_schemas
import pytest
import yaml

from ansible_collections.aiplatform.cluster.plugins.filter.apf import (
    FilterModule,
    apf_objects,
    apf_problems,
)

ROOT = Path(__file__).resolve().parents[4]
DEFAULTS = yaml.safe_load((ROOT / "roles/kube_apiserver/defaults/main.yml").read_text(encoding="utf-8"))
LEVELS = DEFAULTS["kube_apiserver_apf_priority_levels"]
SCHEMAS = DEFAULTS["kube_apiserver_apf_flow_schemas"]
# The Kubernetes release whose OpenAPI schema the objects must validate against (docs/kube-apiserver.md).
VERSION = "1.34.2"
# The priority levels every kube-apiserver creates itself (its APF bootstrap configuration), written out.
UPSTREAM_BUILTIN_LEVELS = [
    "exempt",
    "catch-all",
    "leader-election",
    "node-high",
    "system",
    "workload-high",
    "workload-low",
    "global-default",
]
# Precedences of the built-in FlowSchemas our defaults must come before (kube-apiserver bootstrap config).
BUILTIN_PRECEDENCE = {"system-node-high": 400, "kube-system-service-accounts": 900, "service-accounts": 9000}


def by_name(objects, kind):
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"apf_objects", "apf_problems"}


def test_defaults_have_no_problems():
    assert apf_problems(LEVELS, SCHEMAS) == []


@pytest.mark.parametrize("index", range(len(LEVELS) + len(SCHEMAS)))
def test_every_default_object_validates_against_the_openapi_schema(index):
    obj = apf_objects(LEVELS, SCHEMAS)[index]
    assert obj["apiVersion"] == "flowcontrol.apiserver.k8s.io/v1"
    assert kube_schemas.validate(obj, VERSION) == "openapi"


def test_levels_come_before_the_schemas_that_use_them():
    kinds = [o["kind"] for o in apf_objects(LEVELS, SCHEMAS)]
    assert kinds == sorted(kinds, key=lambda k: k != "PriorityLevelConfiguration")


def test_node_heartbeats_are_protected_and_come_before_the_builtin_node_schema():
    objects = apf_objects(LEVELS, SCHEMAS)
    level = by_name(objects, "PriorityLevelConfiguration")["aiplatform-node-heartbeats"]["spec"]["limited"]
    assert level["lendablePercent"] == 0
    schema = by_name(objects, "FlowSchema")["aiplatform-node-heartbeats"]["spec"]
    assert schema["matchingPrecedence"] < BUILTIN_PRECEDENCE["system-node-high"]
    rule = schema["rules"][0]
    assert rule["subjects"] == [{"kind": "Group", "group": {"name": "system:nodes"}}]
    assert {"leases", "nodes/status"} <= {r for rr in rule["resourceRules"] for r in rr["resources"]}


def test_node_agents_queue_and_cannot_borrow_so_a_list_storm_stays_in_their_level():
    objects = apf_objects(LEVELS, SCHEMAS)
    level = by_name(objects, "PriorityLevelConfiguration")["aiplatform-node-agents"]["spec"]["limited"]
    assert level["borrowingLimitPercent"] == 0
    assert level["limitResponse"]["type"] == "Queue"
    assert level["limitResponse"]["queuing"]["queues"] >= 64
    schema = by_name(objects, "FlowSchema")["aiplatform-node-agents"]["spec"]
    # Before the built-in kube-system service accounts schema, or kube-proxy and CNI agents would land there.
    assert schema["matchingPrecedence"] < BUILTIN_PRECEDENCE["kube-system-service-accounts"]
    assert schema["distinguisherMethod"] == {"type": "ByUser"}


def test_controllers_and_batch_have_levels_and_batch_cannot_borrow():
    objects = apf_objects(LEVELS, SCHEMAS)
    levels = by_name(objects, "PriorityLevelConfiguration")
    assert (
        levels["aiplatform-controllers"]["spec"]["limited"]["nominalConcurrencyShares"]
        > (levels["aiplatform-node-agents"]["spec"]["limited"]["nominalConcurrencyShares"])
    )
    assert levels["aiplatform-batch"]["spec"]["limited"]["borrowingLimitPercent"] == 0
    batch = by_name(objects, "FlowSchema")["aiplatform-batch"]["spec"]
    assert batch["matchingPrecedence"] < BUILTIN_PRECEDENCE["service-accounts"]


def test_a_level_without_queuing_rejects():
    level = apf_objects([{"name": "x", "shares": 5}], [])[0]
    assert level["spec"]["limited"]["limitResponse"] == {"type": "Reject"}
    kube_schemas.validate(level, VERSION)


@pytest.mark.parametrize("level", UPSTREAM_BUILTIN_LEVELS)
def test_a_schema_may_use_a_builtin_level(level):
    assert apf_problems([], [SCHEMAS[0] | {"priority_level": level}]) == []


def test_a_schema_may_not_use_an_undefined_level_that_is_not_builtin():
    assert apf_problems([], [SCHEMAS[0] | {"priority_level": "workload-medium"}])


def test_schema_validation_catches_a_bad_rule():
    schema = copy.deepcopy(SCHEMAS[0])
    schema["rules"][0]["resourceRules"][0]["verbs"] = "get"
    obj = apf_objects([], [schema])[0]
    with pytest.raises(kube_schemas.kubernetes_validate.ValidationError):
        kube_schemas.validate(obj, VERSION)


def changed_level(index, **changes):
    levels = copy.deepcopy(LEVELS)
    levels[index].update(changes)
    return levels


def changed_schema(index, **changes):
    schemas = copy.deepcopy(SCHEMAS)
    schemas[index].update(changes)
    return schemas


BAD = {
    "undefined level": (LEVELS, changed_schema(0, priority_level="missing"), "priority_level 'missing'"),
    "level removed but still used": (LEVELS[1:], SCHEMAS, "aiplatform-node-heartbeats"),
    "zero shares": (changed_level(0, shares=0), SCHEMAS, ".shares"),
    "lendable above 100": (changed_level(0, lendable_percent=150), SCHEMAS, ".lendable_percent"),
    "hand size above queues": (
        changed_level(0, queuing={"queues": 2, "hand_size": 4, "queue_length_limit": 5}),
        SCHEMAS,
        "hand_size",
    ),
    "queuing missing a field": (changed_level(0, queuing={"queues": 2}), SCHEMAS, ".queuing"),
    "builtin level redefined": (changed_level(0, name="workload-low"), SCHEMAS, "built-in"),
    "duplicate level": ([*LEVELS, LEVELS[0]], SCHEMAS, "duplicate"),
    "duplicate schema": (LEVELS, [*SCHEMAS, SCHEMAS[0]], "duplicate"),
    "precedence out of range": (LEVELS, changed_schema(0, precedence=20000), ".precedence"),
    "bad distinguisher": (LEVELS, changed_schema(0, distinguisher="ByNode"), ".distinguisher"),
    "rule without subjects": (LEVELS, changed_schema(0, rules=[{"resourceRules": []}]), ".rules"),
    "bad name": (changed_level(0, name="Node_Heartbeats"), SCHEMAS, ".name"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_apf_input_is_an_error_naming_the_variable(case):
    levels, schemas, words = BAD[case]
    errors = apf_problems(levels, schemas)
    assert errors, case
    assert any(words in e and "kube_apiserver_apf_" in e for e in errors), errors


def test_non_lists_are_refused():
    assert apf_problems({}, SCHEMAS)
