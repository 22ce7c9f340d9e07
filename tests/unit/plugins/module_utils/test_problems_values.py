# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE)
"""The shared value readers of module_utils/problems.py: typed values and their -e string forms."""

from __future__ import annotations

import pytest

from ansible_collections.aiplatform.cluster.plugins.module_utils.problems import as_float


@pytest.mark.parametrize(("value", "expected"), [(1, 1.0), (0.5, 0.5), ("0.25", 0.25), (" 3 ", 3.0), ("-1.5", -1.5)])
def test_as_float_reads_numbers_and_their_string_forms(value, expected):
    assert as_float(value) == expected


@pytest.mark.parametrize("value", [True, False, None, "", "1d", "half", [1], {"a": 1}])
def test_as_float_refuses_what_is_not_a_number(value):
    assert as_float(value) is None
