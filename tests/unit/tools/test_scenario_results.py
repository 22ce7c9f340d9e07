"""The scenario runner's verdict: one passing result and enough passed tests per scenario asked for."""

import scenario_results

MINIMUM = {"alpha": 3, "beta": 1}


def junit(directory, name, tests, *, failures=0, errors=0, skipped=0):
    directory.mkdir(exist_ok=True)
    (directory / f"{name}.xml").write_text(
        f'<?xml version="1.0"?><testsuites><testsuite name="pytest" tests="{tests}" failures="{failures}" '
        f'errors="{errors}" skipped="{skipped}"></testsuite></testsuites>'
    )


def result(directory, name, verdict="passed"):
    directory.mkdir(exist_ok=True)
    (directory / f"{name}.result").write_text(f"== molecule {verdict}: {name} (12 s)\n")


def check(tmp_path, scenarios):
    return scenario_results.problems(tmp_path / "logs", tmp_path / "junit", scenarios, MINIMUM)


def test_every_scenario_passed_with_enough_tests(tmp_path):
    for name, tests in (("alpha", 3), ("beta", 2)):
        result(tmp_path / "logs", name)
        junit(tmp_path / "junit", name, tests)
    assert check(tmp_path, ["alpha", "beta"]) == []


def test_an_empty_scenario_list_fails(tmp_path):
    (tmp_path / "logs").mkdir()
    assert check(tmp_path, []) == ["no scenario was asked for: an empty run proves nothing"]


def test_a_scenario_without_a_result_fails(tmp_path):
    result(tmp_path / "logs", "alpha")
    junit(tmp_path / "junit", "alpha", 3)
    junit(tmp_path / "junit", "beta", 1)
    assert [p.split(":")[0] for p in check(tmp_path, ["alpha", "beta"])] == ["beta"]


def test_a_failed_result_fails(tmp_path):
    result(tmp_path / "logs", "alpha", "FAILED")
    junit(tmp_path / "junit", "alpha", 3)
    assert "expected one 'passed' result line" in check(tmp_path, ["alpha"])[0]


def test_a_verify_without_tests_fails(tmp_path):
    # molecule's testinfra verifier logs "Skipping, no tests found." and succeeds: no JUnit file.
    result(tmp_path / "logs", "alpha")
    (tmp_path / "junit").mkdir()
    assert check(tmp_path, ["alpha"]) == ["alpha: no JUnit report " + str(tmp_path / "junit/alpha.xml") +
                                          " (the verify step ran no tests)"]  # fmt: skip


def test_skipped_and_failed_tests_do_not_count(tmp_path):
    result(tmp_path / "logs", "alpha")
    junit(tmp_path / "junit", "alpha", 4, skipped=2)
    assert "2 tests passed, at least 3 expected" in check(tmp_path, ["alpha"])[0]
    junit(tmp_path / "junit", "alpha", 4, failures=1)
    assert check(tmp_path, ["alpha"])[0] == "alpha: 1 failed and 0 errored tests"


def test_unknown_extra_and_repeated_scenarios_fail(tmp_path):
    for name in ("alpha", "gamma"):
        result(tmp_path / "logs", name)
        junit(tmp_path / "junit", name, 3)
    found = check(tmp_path, ["gamma"])
    assert "alpha: a result for a scenario that was not asked for" in found
    assert "gamma: no minimum test count recorded in tests/tools/scenario_results.py" in found
    assert check(tmp_path, ["alpha", "alpha"])[-1] == "alpha: asked for more than once"


def test_main_exits_non_zero_on_an_empty_list(tmp_path, capsys):
    (tmp_path / "logs").mkdir()
    assert scenario_results.main([str(tmp_path / "logs"), str(tmp_path / "junit")]) == 1
    assert "FAILED: no scenario was asked for" in capsys.readouterr().out
