from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.cluster.plugins.filter.typed import FilterModule, as_list


def test_a_list_stays_a_list():
    assert as_list(["a", "b"]) == ["a", "b"]
    assert as_list(("a",)) == ["a"]


def test_a_string_is_split_on_commas_as_the_argument_spec_does():
    assert as_list("a, b,,c ") == ["a", "b", "c"]
    assert as_list("gpu.*") == ["gpu.*"]
    assert as_list("") == []
    assert as_list(None) == []


def test_other_types_are_refused_naming_the_variable():
    with pytest.raises(AnsibleFilterError, match="node_preflight_ignore: must be a list"):
        as_list({"a": 1}, "node_preflight_ignore")


def test_filter_is_registered():
    assert FilterModule().filters() == {"as_list": as_list}
