"""Unit tests for the monitoring filters: targets from the inventory, shard placement, problems."""

import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.cluster.plugins.filter.monitoring import (
    FilterModule,
    duration_ms,
    monitoring_problems,
    monitoring_shard_hosts,
    monitoring_targets,
)

GOOD = {
    "scrape_interval": "30s",
    "scrape_timeout": "10s",
    "evaluation_interval": "30s",
    "collector_shards": 2,
    "jobs": [
        {
            "name": "node",
            "group": "all",
            "port": 9100,
            "tls": "monitoring",
            "metric_relabel_configs": [{"source_labels": ["__name__"], "regex": "go_.*", "action": "drop"}],
        },
        {"name": "etcd_main", "group": "etcd_main", "port": 2379, "tls": "etcd", "scrape_interval": "15s"},
    ],
    "receivers": [{"name": "oncall", "type": "webhook", "url": "http://x/alerts"}],
    "default_receiver": "oncall",
    "routes": [{"matchers": ['severity="critical"'], "receiver": "oncall"}],
}


def with_changes(**changes):
    settings = copy.deepcopy(GOOD)
    settings.update(changes)
    return settings


def test_good_settings_have_no_problem():
    assert monitoring_problems(GOOD) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [("30s", 30000), ("1m30s", 90000), ("2h", 7200000), ("500ms", 500), ("1d", 86400000), ("", None), ("5x", None)],
)
def test_duration_ms(value, expected):
    assert duration_ms(value) == expected


def test_scrape_interval_above_evaluation_interval_is_refused():
    problems = monitoring_problems(with_changes(scrape_interval="1m"))
    assert problems == [
        "monitoring_scrape_interval 1m is above monitoring_evaluation_interval 30s: "
        "rules would see gaps between samples"
    ]


def test_a_job_scrape_interval_above_evaluation_interval_is_refused():
    settings = with_changes()
    settings["jobs"][1]["scrape_interval"] = "2m"
    assert monitoring_problems(settings) == [
        "monitoring_jobs[1] (etcd_main).scrape_interval 2m is above monitoring_evaluation_interval: "
        "rules would see gaps"
    ]


def test_timeout_above_interval_and_bad_durations_are_refused():
    problems = monitoring_problems(with_changes(scrape_timeout="45s", evaluation_interval="soon"))
    assert "monitoring_evaluation_interval 'soon' is not a positive Prometheus duration" in problems
    assert "monitoring_scrape_timeout 45s is above monitoring_scrape_interval 30s" in problems


def test_unknown_receiver_type_is_refused():
    problems = monitoring_problems(with_changes(receivers=[{"name": "oncall", "type": "carrier-pigeon"}]))
    assert problems == [
        "monitoring_alertmanager_receivers[0] (oncall).type 'carrier-pigeon' is not a known receiver type: "
        "webhook, slack, pagerduty, email"
    ]


def test_receivers_need_their_address_and_routes_a_known_receiver():
    receivers = [{"name": "oncall", "type": "webhook"}, {"name": "pd", "type": "pagerduty"}]
    routes = [{"receiver": "nobody"}]
    problems = monitoring_problems(with_changes(receivers=receivers, routes=routes))
    assert problems == [
        "monitoring_alertmanager_receivers[0] (oncall) of type webhook needs a url",
        "monitoring_alertmanager_receivers[1] (pd) of type pagerduty needs a routing_key",
        "monitoring_alertmanager_routes[0].receiver names receiver 'nobody', "
        "which monitoring_alertmanager_receivers lacks",
    ]


def test_duplicate_job_name_is_refused():
    settings = with_changes()
    settings["jobs"].append({"name": "node", "group": "gpu", "port": 9400})
    assert monitoring_problems(settings) == ["monitoring_jobs: duplicate job name 'node'"]


@pytest.mark.parametrize(
    ("regex", "why"),
    [
        ("(go_.*", "does not compile"),
        ("(?!go_).*", "RE2 does not support"),
        ("(a)\\1", "RE2 does not support"),
        ("a++", "RE2 does not support"),
    ],
)
def test_invalid_relabel_regex_is_refused(regex, why):
    settings = with_changes()
    settings["jobs"][0]["metric_relabel_configs"][0]["regex"] = regex
    problems = monitoring_problems(settings)
    assert len(problems) == 1
    assert problems[0].startswith(f"monitoring_jobs[0] (node).metric_relabel_configs[0].regex '{regex}' ")
    assert why in problems[0]


def test_bad_jobs_shards_and_actions_are_named():
    jobs = [{"name": "bad-name", "port": 0, "tls": "mtls", "metric_relabel_configs": [{"action": "explode"}]}]
    problems = monitoring_problems(with_changes(jobs=jobs, collector_shards=0))
    assert problems == [
        "monitoring_collector_shards must be an integer of 1 or more, got 0",
        "monitoring_jobs[0] (bad-name).name must match ^[a-zA-Z_][a-zA-Z0-9_]*$",
        "monitoring_jobs[0] (bad-name).group (the inventory group of its targets) is required",
        "monitoring_jobs[0] (bad-name).port must be a port number, got 0",
        "monitoring_jobs[0] (bad-name).tls 'mtls' is not one of none, monitoring, etcd, kubernetes",
        "monitoring_jobs[0] (bad-name).metric_relabel_configs[0].action 'explode' is not one of replace, keep, drop, "
        "hashmod, labelmap, labeldrop, labelkeep, lowercase, uppercase, keepequal, dropequal",
    ]


def test_problems_refuse_a_non_mapping():
    with pytest.raises(AnsibleFilterError):
        monitoring_problems(["x"])


GROUPS = {
    "all": ["cp1", "gpu1", "mon1"],
    "gpu": ["gpu1"],
    "kube_node": ["gpu1"],
    "kube_control_plane": ["cp1"],
    "etcd_main": ["cp1"],
    "monitoring": ["mon1"],
    "empty": [],
}
HOSTVARS = {
    "cp1": {"ansible_facts": {"default_ipv4": {"address": "10.0.0.1"}}},
    "gpu1": {"ansible_facts": {"default_ipv4": {"address": "10.0.0.2"}}},
    "mon1": {"monitoring_address": "10.0.0.9", "monitoring_pool": "observability"},
}


def test_targets_per_job_with_instance_cluster_and_pool_labels():
    jobs = [
        {"name": "node", "group": "all", "port": 9100},
        {"name": "dcgm", "group": "gpu", "port": 9400},
        {"name": "none", "group": "empty", "port": 1},
    ]
    assert monitoring_targets(jobs, GROUPS, HOSTVARS, "prod") == {
        "node": [
            {"targets": ["10.0.0.1:9100"], "labels": {"instance": "cp1", "cluster": "prod", "pool": "control_plane"}},
            {"targets": ["10.0.0.2:9100"], "labels": {"instance": "gpu1", "cluster": "prod", "pool": "gpu"}},
            {"targets": ["10.0.0.9:9100"], "labels": {"instance": "mon1", "cluster": "prod", "pool": "observability"}},
        ],
        "dcgm": [{"targets": ["10.0.0.2:9400"], "labels": {"instance": "gpu1", "cluster": "prod", "pool": "gpu"}}],
        "none": [],
    }


def test_targets_need_an_address():
    with pytest.raises(AnsibleFilterError, match="no address for cp1"):
        monitoring_targets([{"name": "n", "group": "etcd_main", "port": 1}], GROUPS, {"cp1": {}}, "prod")


def test_shards_go_round_robin_over_the_hosts():
    assert monitoring_shard_hosts(5, ["a", "b"]) == {"a": [0, 2, 4], "b": [1, 3]}
    assert monitoring_shard_hosts(1, ["a", "b", "c"]) == {"a": [0], "b": [], "c": []}
    assert monitoring_shard_hosts(3, []) == {}


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"monitoring_problems", "monitoring_targets", "monitoring_shard_hosts"}
