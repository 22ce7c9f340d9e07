"""tests/tools/cis_etcd.py evaluates kube-bench's check definitions as kube-bench does.

compareOp against every case of kube-bench's own TestCompareOp (vendored check/test_test.go); the vendored
etcd checks read as written there; the parts of check.go and test.go the etcd checks use (flag forms, set:
false, the environment fallback, bin_op, scored / not scored, a failing audit command, use_multiple_values)
on small outputs; the substitutions; the selection of etcd processes from `ps -ef`.
"""

from __future__ import annotations

import json
import re
import subprocess

import cis_etcd
import pytest
import yaml

GO_TESTS = cis_etcd.FIXTURES.parent / "check/test_test.go"


def compare_op_cases():
    """The cases of TestCompareOp: (label, op, flagVal, compareValue, testResult)."""
    text = GO_TESTS.read_text(encoding="utf-8")
    body = text[text.index("func TestCompareOp(") :]
    body = body[body.index("}{") + 2 : body.index("for _, c := range cases")]
    cases = []
    for block in re.findall(r"\{(.*?)\},\s*\n", body, re.S):
        fields = dict(re.findall(r'(\w+):\s*("(?:[^"\\]|\\.)*"|true|false)', block))
        cases.append(
            (
                json.loads(fields["label"]),
                json.loads(fields["op"]),
                json.loads(fields["flagVal"]),
                json.loads(fields["compareValue"]),
                fields["testResult"] == "true",
            )
        )
    return cases


CASES = compare_op_cases()


def test_kube_bench_compare_op_cases_were_read():
    assert len(CASES) >= 60
    assert {op for _label, op, *_rest in CASES} >= {"eq", "noteq", "gt", "gte", "lt", "lte", "has", "nothave"} | {
        "regex",
        "valid_elements",
        "bitmask",
    }


@pytest.mark.parametrize(("label", "op", "flag_value", "expected", "result"), CASES, ids=[c[0] for c in CASES])
def test_compare_agrees_with_kube_bench_test_compare_op(label, op, flag_value, expected, result):
    assert cis_etcd.compare(op, flag_value, expected) is result, label


def test_the_vendored_etcd_checks_are_what_is_evaluated():
    checks = cis_etcd.etcd_checks()
    assert sorted(checks) == sorted(cis_etcd.ETCD_CHECKS + cis_etcd.DATA_DIR_CHECKS)
    raw = yaml.safe_load((cis_etcd.FIXTURES / "cis-1.12/etcd.yaml").read_text(encoding="utf-8"))
    client_cert_auth = next(c for c in raw["groups"][0]["checks"] if str(c["id"]) == "2.2")["tests"]["test_items"][0]
    item = checks["2.2"].items[0]
    assert (item.flag, item.op, item.value, item.set) == (client_cert_auth["flag"], "eq", "true", True)
    assert checks["2.3"].bin_op == "or" and checks["2.3"].items[0].set is False
    assert not checks["2.7"].scored and checks["2.1"].scored
    # $etcdbin substituted; the environment audit kube-bench adds (cmd/common.go) for items with env.
    assert checks["2.1"].audit == "/bin/ps -ef | /bin/grep etcd | /bin/grep -v grep"
    assert checks["2.1"].audit_env == "cat \"/proc/$(/bin/ps -C etcd -o pid= | tr -d ' ')/environ\" | tr '\\0' '\\n'"
    assert "$etcd" not in checks["1.1.11"].audit and "/var/lib/etcd/default.etcd" in checks["1.1.11"].audit
    assert checks["1.1.11"].audit_env == ""
    with pytest.raises(LookupError, match=r"no check \['2.99'\]"):
        cis_etcd.load_checks("etcd", "etcd", ("2.1", "2.99"))


def test_substitutions_follow_what_runs_and_exists():
    text = "$etcdbin $etcddatadir $etcdconf"
    assert cis_etcd.substitute(text, "etcd") == (
        "etcd /var/lib/etcd/default.etcd /etc/kubernetes/manifests/etcd.yaml",
        ["etcd"],
    )
    exists = {"/var/lib/etcd/data.etcd", "/etc/etcd/etcd.conf"}.__contains__
    assert cis_etcd.substitute(text, "master", exists=exists)[0] == "etcd /var/lib/etcd/data.etcd /etc/etcd/etcd.conf"
    # A multi-word binary is quoted (multiWordReplace).
    running = "openshift start etcd".__eq__
    assert cis_etcd.substitute("$etcdbin", "master", running=running)[0] == "'openshift start etcd'"
    assert cis_etcd.verify_bin("/opt/etcd/v3.5.1/etcd --name=a\n", "etcd")
    assert not cis_etcd.verify_bin("/usr/bin/python3 etcd\n", "etcd")


def check(tests, **fields):
    return cis_etcd.Check.parse({"id": "9.9", "audit": "true", "scored": "true", "tests": tests, **fields})


def state(chk, output, env=""):
    return cis_etcd.evaluate(chk, output, env).state


def test_flag_forms_as_test_go_reads_them():
    eq_true = check({"test_items": [{"flag": "--client-cert-auth", "compare": {"op": "eq", "value": "true"}}]})
    assert state(eq_true, "etcd --client-cert-auth=true") == "PASS"
    assert state(eq_true, "etcd --client-cert-auth=TRUE") == "PASS"  # booleans without case
    assert state(eq_true, "etcd --client-cert-auth") == "PASS"  # a bare --flag is true
    assert state(eq_true, "etcd --client-cert-auth=false") == "FAIL"
    assert state(eq_true, "etcd") == "FAIL"
    assert state(eq_true, "client-cert-auth: true") == "FAIL"  # the flag is --client-cert-auth, with dashes
    # The first occurrence decides, wherever it is.
    assert state(eq_true, "a --client-cert-auth=false\nb --client-cert-auth=true") == "FAIL"
    present = check({"test_items": [{"flag": "permissions"}]})
    assert state(present, "permissions=700") == "PASS" and state(present, "") == "FAIL"
    bitmask = check({"test_items": [{"flag": "permissions", "compare": {"op": "bitmask", "value": "700"}}]})
    assert [state(bitmask, f"permissions={m}") for m in ("700", "600", "0", "750", "755")] == ["PASS"] * 3 + [
        "FAIL"
    ] * 2


def test_set_false_or_false_and_the_environment_fallback():
    absent_or_false = check(
        {
            "bin_op": "or",
            "test_items": [
                {"flag": "--auto-tls", "env": "ETCD_AUTO_TLS", "set": "false"},
                {"flag": "--auto-tls", "env": "ETCD_AUTO_TLS", "compare": {"op": "eq", "value": "false"}},
            ],
        }
    )
    assert state(absent_or_false, "etcd") == "PASS"
    assert state(absent_or_false, "etcd --auto-tls=false") == "PASS"
    assert state(absent_or_false, "etcd --auto-tls=true") == "FAIL"
    assert state(absent_or_false, "etcd", "HOME=/\nETCD_AUTO_TLS=true\n") == "FAIL"
    assert state(absent_or_false, "etcd", "ETCD_AUTO_TLS=false") == "PASS"
    assert state(absent_or_false, "etcd --auto-tls=false", "ETCD_AUTO_TLS=true") == "PASS"  # the flag wins


def test_bin_op_scoring_and_audit_errors():
    both = {"test_items": [{"flag": "--cert-file"}, {"flag": "--key-file"}]}
    assert state(check(both), "etcd --cert-file=a --key-file=b") == "PASS"
    assert state(check(both), "etcd --cert-file=a") == "FAIL"
    assert state(check(both, scored="false"), "etcd --cert-file=a") == "WARN"
    assert state(check({**both, "bin_op": "xor"}), "etcd --cert-file=a --key-file=b") == "FAIL"
    assert state(check(both, type="manual"), "etcd --cert-file=a --key-file=b") == "WARN"
    assert state(check(both, type="skip"), "") == "INFO"
    assert state(check({"test_items": []}), "x") == "FAIL"

    def shell(script):
        done = subprocess.run(["/bin/sh"], input=script, capture_output=True, text=True, check=False)
        return done.returncode, done.stdout + done.stderr

    assert cis_etcd.run_check(check(both, audit="echo etcd --cert-file=a --key-file=b"), shell).passed
    failed = cis_etcd.run_check(check(both, audit="echo etcd --cert-file=a --key-file=b; exit 1"), shell)
    assert failed.state == "FAIL" and "exit status 1" in failed.reason
    rows = check({"test_items": [{"flag": "permissions", "compare": {"op": "bitmask", "value": "600"}}]})
    rows.multiple = True
    assert state(rows, "permissions=600\npermissions=400\n") == "PASS"
    assert state(rows, "permissions=600\npermissions=644\n") == "FAIL"
    path_item = check({"test_items": [{"path": "{.x}"}]}, audit_config="cat x")
    with pytest.raises(NotImplementedError):
        cis_etcd.evaluate(path_item, "", "", "x: 1")


PS_EF = """UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 10:00 ?        00:00:01 /sbin/init
etcd         120       1  2 10:01 ?        00:00:09 /opt/etcd/v3.5.1/etcd --name=cp2 --data-dir=/var/lib/etcd/main
etcd         130       1  2 10:01 ?        00:00:09 /usr/bin/etcd --name=cp2 --data-dir=/var/lib/etcd/events
etcd         140       1  0 10:02 ?        00:00:00 /opt/etcd/v3.5.1/etcdctl snapshot save /var/backups/etcd/main/x.db
root         150       1  0 10:02 ?        00:00:00 python3 -m pytest tests/test_etcd.py
"""


def test_processes_are_the_etcd_servers_only():
    assert [pid for pid, _line in cis_etcd.processes(PS_EF)] == [120, 130]


def test_for_process_shows_one_process_to_the_audit_scripts():
    def shell(script):
        done = subprocess.run(["/bin/sh"], input=script, capture_output=True, text=True, check=False)
        return done.returncode, done.stdout + done.stderr

    pid, line = cis_etcd.processes(PS_EF)[1]
    run = cis_etcd.for_process(shell, pid, line)
    assert run("/bin/ps -ef | /bin/grep etcd | /bin/grep -v grep") == (0, line + "\n")
    assert run("/bin/ps -C etcd -o pid= | tr -d ' '") == (0, "130\n")
    status, output = run("ps -ef | grep etcd | grep -- --data-dir | sed 's%.*data-dir[= ]\\([^ ]*\\).*%\\1%'")
    assert (status, output) == (0, "/var/lib/etcd/events\n")
