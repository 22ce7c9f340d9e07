"""The check-mode verdict of tests/tools/check_mode.py on json-callback reports."""

import check_mode


def report(stats, changed_task=None):
    tasks = []
    if changed_task:
        host, name = changed_task
        tasks.append({"task": {"name": name}, "hosts": {host: {"changed": True}}})
    return {"plays": [{"tasks": tasks}], "stats": stats}


def counts(changed=0, failures=0, unreachable=0):
    return {"ok": 10, "changed": changed, "failures": failures, "unreachable": unreachable, "skipped": 1}


def test_converged_hosts_must_report_changed_0():
    assert check_mode.problems(report({"a": counts(), "b": counts()}), "converged") == []
    found = check_mode.problems(report({"a": counts(changed=1), "b": counts()}, ("a", "Write x")), "converged")
    assert found == ["a: changed=1 on converged hosts: ['Write x']"]


def test_fresh_hosts_must_report_changes_and_no_failure():
    assert check_mode.problems(report({"a": counts(changed=7), "b": counts()}), "fresh") == []
    assert check_mode.problems(report({"a": counts()}), "fresh") == [
        "fresh hosts: check mode reported no change at all (a converge has work to do)"
    ]
    failing = report({"a": counts(changed=3, failures=1)})
    failing["plays"][0]["tasks"].append({"task": {"name": "Install"}, "hosts": {"a": {"failed": True, "msg": "no"}}})
    assert check_mode.problems(failing, "fresh") == ["a: failures=1 in check mode: ['Install (no)']"]


def test_unreachable_or_no_host_fails_both_phases():
    for when in ("fresh", "converged"):
        assert check_mode.problems(report({"a": counts(changed=1, unreachable=1)}), when)[0] == (
            "a: unreachable=1 in check mode"
        )
        assert check_mode.problems(report({}), when) == ["the check run reported no host at all"]


def test_phase_follows_molecule_state(tmp_path):
    state = tmp_path / "state.yml"
    assert check_mode.phase(state) == "fresh"
    state.write_text("converged: false\ncreated: true\n")
    assert check_mode.phase(state) == "fresh"
    state.write_text("converged: true\ncreated: true\n")
    assert check_mode.phase(state) == "converged"


def test_a_documented_stop_on_fresh_hosts_must_be_exactly_that():
    stopped = report({"a": counts(changed=2, failures=1), "b": counts()})
    stopped["plays"][0]["tasks"].append(
        {"task": {"name": "etcd : Make the CA key"}, "hosts": {"a": {"failed": True, "msg": "no folder"}}}
    )
    assert check_mode.problems(stopped, "fresh", "Make the CA key") == []
    assert "should stop at 'Install' only" in check_mode.problems(stopped, "fresh", "Install")[0]
    # A check that no longer stops there is reported too: the docs must then be corrected.
    assert (
        "should stop at 'Make the CA key' only"
        in check_mode.problems(report({"a": counts(changed=2)}), "fresh", "Make the CA key")[0]
    )
    # The documented stop is for fresh hosts only: converged hosts still need changed=0 and no failure.
    assert check_mode.problems(stopped, "converged", "Make the CA key")[0].startswith("a: failures=1")


def test_a_documented_stop_whose_name_has_parentheses():
    stopped = report({"a": counts(changed=2, failures=1)})
    name = "containerd : Download the containerd release archive (checksum verified)"
    stopped["plays"][0]["tasks"].append({"task": {"name": name}, "hosts": {"a": {"failed": True, "msg": "no dir"}}})
    assert check_mode.problems(stopped, "fresh", "Download the containerd release archive (checksum verified)") == []
