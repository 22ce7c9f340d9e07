"""Shared helpers: URLs with IPv6 brackets, host addresses, typed values from -e, the problem collector."""

import pytest

from ansible_collections.aiplatform.cluster.plugins.module_utils.addresses import host_address
from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import Problems, as_bool, as_int, is_int
from ansible_collections.aiplatform.cluster.plugins.module_utils.urls import host_port, join_url, url_host


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("10.0.0.1", "10.0.0.1"),
        ("etcd1.example.com", "etcd1.example.com"),
        ("fd00::1", "[fd00::1]"),
        ("[fd00::1]", "[fd00::1]"),
        ("fe80::1%eth0", "[fe80::1%eth0]"),
        ("::ffff:10.0.0.1", "[::ffff:10.0.0.1]"),
    ],
)
def test_url_host(host, expected):
    assert url_host(host) == expected


def test_urls():
    assert join_url("https", "fd00::1", 2379) == "https://[fd00::1]:2379"
    assert join_url("http", "10.0.0.1", "2381", "metrics") == "http://10.0.0.1:2381/metrics"
    assert host_port("fd00::1", 2380) == "[fd00::1]:2380"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), ("false", False), ("Yes", True), ("0", False), (1, True), ("maybe", None), (2, None), (None, None)],
)
def test_as_bool(value, expected):
    assert as_bool(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"), [(3, 3), ("3", 3), (" -2 ", -2), (True, None), ("3.5", None), (None, None)]
)
def test_as_int(value, expected):
    assert as_int(value) == expected


def test_problems_name_the_variable_and_the_value():
    problems = Problems()
    assert problems.integer("etcd_backup_keep", "0", minimum=1) is None
    assert problems.integer("etcd_backup_keep", "3", minimum=1) == 3
    assert problems.boolean("etcd_backup_enabled", "maybe") is None
    problems.add("x_mode", "must be one of a, b")
    assert problems.messages == [
        "etcd_backup_keep: must be a whole number of 1 or more (got '0')",
        "etcd_backup_enabled: must be a boolean (true or false) (got 'maybe')",
        "x_mode: must be one of a, b",
    ]
    assert bool(problems)


def test_is_int_takes_typed_integers_only():
    assert is_int(3) and is_int(0) and is_int(-2)
    assert not is_int(True) and not is_int("3") and not is_int(3.0) and not is_int(None)


@pytest.mark.parametrize(
    ("host_vars", "override", "expected"),
    [
        (
            {"etcd_address": "fd00::5", "ansible_facts": {"default_ipv4": {"address": "10.0.0.5"}}},
            "etcd_address",
            "fd00::5",
        ),
        ({"etcd_address": "", "ansible_facts": {"default_ipv4": {"address": "10.0.0.5"}}}, "etcd_address", "10.0.0.5"),
        ({"ansible_facts": {"default_ipv4": {"address": "10.0.0.6"}}}, None, "10.0.0.6"),
        ({"ansible_facts": {}}, "monitoring_address", None),
        (None, "etcd_address", None),
    ],
)
def test_host_address_prefers_the_variable_then_the_facts(host_vars, override, expected):
    assert host_address(host_vars, override) == expected
