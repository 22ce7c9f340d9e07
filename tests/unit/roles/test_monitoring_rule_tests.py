"""Every alert rule of the monitoring role has promtool tests that see it fire and stay quiet.

promtool itself runs the tests (``make rules``); this checks that none is missing: each alert in
roles/monitoring/files/rules appears in tests/monitoring/*.test.yml with at least one case that
expects it to fire and one that expects no alert, and every rule file is loaded by a test file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "roles" / "monitoring" / "files" / "rules"
TESTS = ROOT / "tests" / "monitoring"


def alerts():
    names = []
    for path in sorted(RULES.glob("*.rules.yml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            names += [rule["alert"] for rule in group["rules"] if "alert" in rule]
    return names


def cases():
    found = {}
    for path in sorted(TESTS.glob("*.test.yml")):
        for test in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            for case in test.get("alert_rule_test", []):
                found.setdefault(case["alertname"], []).append(case["exp_alerts"])
    return found


def test_the_rule_files_hold_alerts():
    assert len(alerts()) >= 20


@pytest.mark.parametrize("alert", alerts())
def test_each_alert_has_a_firing_and_a_quiet_case(alert):
    expectations = cases().get(alert, [])
    assert any(expected for expected in expectations), f"{alert}: no test expects it to fire"
    assert any(expected == [] for expected in expectations), f"{alert}: no test expects it to stay quiet"


def test_each_rule_file_is_loaded_by_a_test_file():
    loaded = set()
    for path in TESTS.glob("*.test.yml"):
        for rule_file in yaml.safe_load(path.read_text(encoding="utf-8"))["rule_files"]:
            loaded.add((path.parent / rule_file).resolve())
    assert {p.resolve() for p in RULES.glob("*.rules.yml")} <= loaded
