"""Shared helpers: URLs with IPv6 brackets, typed values from -e, the problem collector."""

import pytest

from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import Problems, as_bool, as_int
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
