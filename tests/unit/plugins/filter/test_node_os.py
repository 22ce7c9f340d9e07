"""node_os filters: input checks (one message per problem, naming the variable), plan and verdict."""

import pytest

from ansible_collections.aiplatform.cluster.plugins.filter.node_os import (
    node_os_problems,
    node_os_sysctl_plan,
    node_os_sysctl_verdict,
    node_os_sysctls,
)

FIXED = {"net.ipv4.ip_forward": 1, "vm.overcommit_memory": 1}
GOOD = {
    "node_os_kernel_modules": ["overlay", "br_netfilter"],
    "node_os_neigh_gc_thresh1": 80000,
    "node_os_neigh_gc_thresh2": 90000,
    "node_os_neigh_gc_thresh3": 100000,
    "node_os_nf_conntrack_max": 1048576,
    "node_os_somaxconn": 4096,
    "node_os_inotify_max_user_instances": 8192,
    "node_os_inotify_max_user_watches": 1048576,
    "node_os_file_max": 9223372036854775807,
    "node_os_pid_max": "4194304",
    "node_os_max_map_count": 262144,
    "node_os_sysctls": {"net.ipv4.ip_local_port_range": "1024 65535"},
    "node_os_journald_system_max_use": "4G",
    "node_os_journald_system_max_file_size": "256M",
    "node_os_chrony_servers": ["ntp1.example.net", "10.0.0.1", "fd00::1"],
    "node_os_chrony_makestep_threshold": 1.0,
    "node_os_chrony_makestep_limit": 3,
    "node_os_chrony_local_stratum": 0,
    "node_os_chrony_allow": ["10.213.77.0/24"],
    "node_os_chrony_wait_s": 60,
    "node_os_env_sysctl_writable": ["*"],
}


def problems(**changes):
    return node_os_problems({**GOOD, **changes}, FIXED)


def test_good_input_has_no_problem():
    assert problems() == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"node_os_sysctls": {"vm.no such": 1}},
            "node_os_sysctls: is not a sysctl key (dotted, under one of abi, crypto, debug, dev, fs, kernel, net, "
            "sunrpc, user, vm) (got 'vm.no such')",
        ),
        (
            {"node_os_sysctls": {"nonsense.key": 1}},
            "node_os_sysctls: is not a sysctl key (dotted, under one of abi, crypto, debug, dev, fs, kernel, net, "
            "sunrpc, user, vm) (got 'nonsense.key')",
        ),
        (
            {"node_os_sysctls": {"vm.swappiness": "lots"}},
            "node_os_sysctls[vm.swappiness]: must be a non-negative whole number or several (got 'lots')",
        ),
        (
            {"node_os_sysctls": {"vm.swappiness": -1}},
            "node_os_sysctls[vm.swappiness]: must be a non-negative whole number or several (got -1)",
        ),
        (
            {"node_os_sysctls": {"net.ipv4.ip_forward": 0}},
            "node_os_sysctls[net.ipv4.ip_forward]: contradicts what Kubernetes needs (net.ipv4.ip_forward = 1); "
            "remove it (got '0')",
        ),
        (
            {"node_os_neigh_gc_thresh1": 100000, "node_os_neigh_gc_thresh3": 80000},
            "node_os_neigh_gc_thresh1: must not exceed node_os_neigh_gc_thresh2, nor that node_os_neigh_gc_thresh3 "
            "(the kernel collects below 1, soon above 2, at once above 3) (got [100000, 90000, 80000])",
        ),
        ({"node_os_pid_max": -5}, "node_os_pid_max: must be a non-negative whole number (got -5)"),
        ({"node_os_somaxconn": "many"}, "node_os_somaxconn: must be a non-negative whole number (got 'many')"),
        ({"node_os_max_map_count": True}, "node_os_max_map_count: must be a non-negative whole number (got True)"),
        (
            {"node_os_chrony_servers": ["ntp_1!.example"]},
            "node_os_chrony_servers[0]: is neither a host name nor an address (got 'ntp_1!.example')",
        ),
        (
            {"node_os_chrony_servers": ["10.0.0.300"]},
            "node_os_chrony_servers[0]: is neither a host name nor an address (got '10.0.0.300')",
        ),
        (
            {"node_os_chrony_servers": []},
            "node_os_chrony_servers: is empty and node_os_chrony_local_stratum is 0: chrony would have no time source "
            "(got [])",
        ),
        ({"node_os_chrony_allow": ["lab"]}, "node_os_chrony_allow[0]: is not a network such as 10.0.0.0/8 (got 'lab')"),
        ({"node_os_chrony_local_stratum": 16}, "node_os_chrony_local_stratum: must be 0 (off) or 1..15 (got 16)"),
        ({"node_os_chrony_wait_s": 0}, "node_os_chrony_wait_s: must be a positive whole number (got 0)"),
        (
            {"node_os_chrony_makestep_threshold": -1},
            "node_os_chrony_makestep_threshold: must be a positive number of seconds (got -1)",
        ),
        (
            {"node_os_chrony_makestep_limit": -2},
            "node_os_chrony_makestep_limit: must be -1 (always) or a count of updates (got -2)",
        ),
        (
            {"node_os_journald_system_max_use": "4 GB"},
            "node_os_journald_system_max_use: must be a size such as 4G or 512M (got '4 GB')",
        ),
        (
            {"node_os_kernel_modules": ["br netfilter"]},
            "node_os_kernel_modules: must be a list of module names such as br_netfilter (got ['br netfilter'])",
        ),
        (
            {"node_os_env_sysctl_writable": "net.*"},
            "node_os_env_sysctl_writable: must be a list of key patterns such as 'net.*' (got 'net.*')",
        ),
    ],
)
def test_each_problem_is_named_once(changes, expected):
    found = problems(**changes)
    assert len(found) == 1, found
    assert found == [expected]


def test_a_local_stratum_is_a_time_source():
    assert problems(node_os_chrony_servers=[], node_os_chrony_local_stratum=8) == []


def test_wanted_sysctls_fixed_then_fleet_then_extra():
    wanted = node_os_sysctls({**GOOD, "node_os_sysctls": {"vm.max_map_count": 65530}}, FIXED)
    assert wanted["net.ipv4.ip_forward"] == "1"
    assert wanted["kernel.pid_max"] == "4194304"
    assert wanted["net.ipv4.neigh.default.gc_thresh3"] == "100000"
    assert wanted["vm.max_map_count"] == "65530"
    assert list(wanted) == sorted(wanted)


PROBED = {
    "net.ipv4.ip_forward": {"present": True, "value": "0", "writable": True},
    "net.core.somaxconn": {"present": True, "value": "4096", "writable": False},
    "net.ipv4.neigh.default.gc_thresh1": {"present": False, "value": None, "writable": False},
    "vm.max_map_count": {"present": True, "value": "65530", "writable": True},
}
WANTED = {
    "net.ipv4.ip_forward": "1",
    "net.core.somaxconn": "4096",
    "net.ipv4.neigh.default.gc_thresh1": "80000",
    "vm.max_map_count": "262144",
}


def test_plan_never_writes_what_the_environment_forbids():
    plan = node_os_sysctl_plan(WANTED, PROBED, ["net.*"])
    assert {row["name"]: row["state"] for row in plan} == {
        "net.core.somaxconn": "read-only",
        "net.ipv4.ip_forward": "managed",
        "net.ipv4.neigh.default.gc_thresh1": "absent",
        "vm.max_map_count": "environment limit",
    }
    assert node_os_sysctl_plan(WANTED, PROBED, ["*"])[-1]["state"] == "managed"


def test_verdict_separates_failures_from_limits():
    plan = node_os_sysctl_plan(WANTED, PROBED, ["net.*"])
    after = {**PROBED, "net.ipv4.ip_forward": {"present": True, "value": "1", "writable": True}}
    verdict = node_os_sysctl_verdict(plan, after)
    assert verdict["failures"] == []
    assert verdict["limited"] == [
        "net.ipv4.neigh.default.gc_thresh1: want 80000, have nothing (absent)",
        "vm.max_map_count: want 262144, have 65530 (environment limit)",
    ]
    not_written = node_os_sysctl_verdict(plan, PROBED)
    assert not_written["failures"] == ["net.ipv4.ip_forward: want 1, have 0 (managed)"]
    assert node_os_sysctl_verdict(plan, PROBED, check_mode=True)["failures"] == []
