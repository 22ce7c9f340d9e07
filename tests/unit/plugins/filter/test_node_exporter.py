"""node_exporter_problems: one message per problem, naming the variable, never echoing a password."""

import pytest

from ansible_collections.aiplatform.cluster.plugins.filter.node_exporter import FilterModule, node_exporter_problems

GOOD = {
    "node_exporter_port": 9100,
    "node_exporter_textfile_dir": "/var/lib/prometheus/node-exporter",
    "node_exporter_collectors": ["cpu", "meminfo"],
    "node_exporter_basic_auth_users": {"prometheus": "$2b$10$abcdefghijklmnopqrstuv"},
    "node_exporter_tls": True,
    "node_exporter_tls_client_auth": True,
}


def test_good_input_has_no_problem():
    assert node_exporter_problems(GOOD) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"node_exporter_port": 0}, "node_exporter_port: must be a port number (1..65535) (got 0)"),
        ({"node_exporter_port": 70000}, "node_exporter_port: must be a port number (1..65535) (got 70000)"),
        (
            {"node_exporter_textfile_dir": "var/lib/textfile"},
            "node_exporter_textfile_dir: must be an absolute path (got 'var/lib/textfile')",
        ),
        ({"node_exporter_collectors": []}, "node_exporter_collectors: must name at least one collector (got [])"),
        (
            {"node_exporter_tls": False},
            "node_exporter_tls_client_auth: needs node_exporter_tls (got True)",
        ),
    ],
)
def test_each_problem_is_named_once(changes, expected):
    assert node_exporter_problems({**GOOD, **changes}) == [expected]


def test_a_password_is_refused_without_being_shown():
    found = node_exporter_problems({**GOOD, "node_exporter_basic_auth_users": {"ops": "hunter2"}})
    assert found == [
        "node_exporter_basic_auth_users[ops]: must be a bcrypt hash ($2a$/$2b$/$2y$), never a password "
        "(got 'a value that is not a bcrypt hash')"
    ]
    assert "hunter2" not in found[0]


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"node_exporter_problems"}
