"""kube-bench's CIS 1.12 etcd checks (2.1-2.7, and 1.1.11 / 1.1.12 on etcd's data directory), evaluated as
kube-bench evaluates them, from its own check definitions.

The definitions are vendored unchanged in tests/fixtures/kube-bench (commit and license in its README). What
this module mirrors of kube-bench at that commit, so that a PASS here is a PASS there:

- ``cmd/common.go``: the substitutions (``$etcdbin`` -> the first of the component's ``bins`` that runs,
  ``$etcddatadir`` -> the first of its ``datadirs`` that exists, else ``defaultdatadir``; config.yaml), and
  the audit of the environment kube-bench adds to a check whose test items name an ``env`` but that has no
  ``audit_env``: ``cat /proc/<pid of $etcdbin>/environ``, when the file substitutes exactly one binary.
- ``check/check.go``: ``run`` (skip / manual / no tests, the audit commands run by ``/bin/sh`` with the script
  on stdin, stdout and stderr together, a non-zero exit is a FAIL of a scored check and a WARN of another),
  ``runAuditCommands`` and ``execute`` (each test item read from the audit output, then the environment
  output when the flag is not there; ``bin_op`` and / or, anything else is an error).
- ``check/test.go``: ``flagTestItem.findValue`` (the flag found anywhere in the output by substring, its value
  from the first match of ``(FLAG)(=|: *)*([^\\s]*) *``, a bare ``--flag`` is ``true``),
  ``envTestItem.findValue``, ``evaluate`` (``set``, default true; ``set: false`` passes when absent) and
  ``compareOp`` (every op). Path (``audit_config`` / jsonpath) test items are not implemented: a check that
  needs one is refused rather than guessed.

Two etcd processes on one host (main and events co-located): kube-bench runs each check once per host.
Section 2's audit is ``ps -ef | grep etcd | grep -v grep``: both processes' lines in one output, and a flag's
value is taken from its first occurrence, so the line of the process with the lower PID decides (a flag
missing there is found on the other line). Its environment audit gets two PIDs and reads no file. 1.1.11 and
1.1.12 stat one data directory: the last ``--data-dir`` of the ``ps`` output that exists. So kube-bench alone
cannot show that every member passes. This module evaluates both views: the host as kube-bench sees it
(``run_check`` with a runner on the host), and one process at a time (``for_process``: the same audit
scripts, run by the same shell, with ``ps`` answering for that one process only), which is the stricter:
every process passing alone implies the host passing for the test forms these checks use.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures/kube-bench/cfg"
BENCHMARK = "cis-1.12"
# The checks on etcd's settings: all of etcd.yaml, and master.yaml's data directory checks.
ETCD_CHECKS = ("2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7")
DATA_DIR_CHECKS = ("1.1.11", "1.1.12")
PASS, FAIL, WARN, INFO = "PASS", "FAIL", "WARN", "INFO"

# gopkg.in/yaml.v2 booleans (the vendored files are read with BaseLoader: every scalar a string, as the Go
# structs' string fields get them).
_YAML_TRUE = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}
_YAML_FALSE = {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}
# Go's \s (RE2): [\t\n\f\r ].
_GO_SPACE = "\t\n\f\r "


def _bool(value, default=False):
    if value is None:
        return default
    if value in _YAML_TRUE:
        return True
    if value in _YAML_FALSE:
        return False
    raise ValueError(f"not a YAML boolean: {value!r}")


def _load(relative):
    return yaml.load((FIXTURES / relative).read_text(encoding="utf-8"), Loader=yaml.BaseLoader)


def controls_text(name):
    """The raw text of cfg/<benchmark>/<name>.yaml (kube-bench substitutes in the text, then parses it)."""
    return (FIXTURES / BENCHMARK / f"{name}.yaml").read_text(encoding="utf-8")


def component(node_type, name="etcd"):
    """A component's section of config.yaml for a node type ("etcd" for etcd.yaml, "master" for master.yaml)."""
    return _load("config.yaml")[node_type][name]


def substitute(text, node_type, *, running=None, exists=None):
    """kube-bench's substitutions of the etcd component's variables in a controls file's text.

    ``running(bin)``: whether that candidate runs (kube-bench: ``ps -C <first word> -o cmd`` and a first word
    ending in it), default: the first candidate runs. ``exists(path)``: whether a candidate data directory or
    config file exists, default: none does. Returns (text, the binaries substituted).
    """
    comp = component(node_type)
    running = running or (lambda candidate: candidate == comp["bins"][0])
    exists = exists or (lambda _path: False)
    found_bin = next((b for b in comp["bins"] if running(b)), "etcd")
    datadir = next((d for d in comp.get("datadirs", []) if exists(d)), comp.get("defaultdatadir", "etcd"))
    conf = next((c for c in comp.get("confs", []) if exists(c)), comp.get("defaultconf", "etcd"))
    subs = []
    for variable, value in (("$etcdbin", found_bin), ("$etcdconf", conf), ("$etcddatadir", datadir)):
        quoted = f"'{value}'" if " " in value.strip() else value  # multiWordReplace
        if variable in text:
            text = text.replace(variable, quoted)
            if variable == "$etcdbin":
                subs.append(value)
    return text, subs


@dataclass
class TestItem:
    flag: str = ""
    env: str = ""
    path: str = ""
    set: bool = True
    op: str = ""
    value: str = ""

    @classmethod
    def parse(cls, raw):
        compare = raw.get("compare") or {}
        return cls(
            flag=raw.get("flag", ""),
            env=raw.get("env", ""),
            path=raw.get("path", ""),
            set=_bool(raw.get("set"), default=True),
            op=compare.get("op", ""),
            value=compare.get("value", ""),
        )


@dataclass
class Check:
    id: str
    text: str
    audit: str
    audit_env: str
    audit_config: str
    type: str
    scored: bool
    multiple: bool
    bin_op: str | None
    items: list[TestItem] | None

    @classmethod
    def parse(cls, raw):
        tests = raw.get("tests")
        return cls(
            id=raw["id"],
            text=raw.get("text", ""),
            audit=raw.get("audit", ""),
            audit_env=raw.get("audit_env", ""),
            audit_config=raw.get("audit_config", ""),
            type=raw.get("type", ""),
            scored=_bool(raw.get("scored")),
            multiple=_bool(raw.get("use_multiple_values")),
            bin_op=None if tests is None else tests.get("bin_op", ""),
            items=None if tests is None else [TestItem.parse(t) for t in tests.get("test_items") or []],
        )


def load_checks(name, node_type, ids, **substitution):
    """The checks ``ids`` of cfg/<benchmark>/<name>.yaml after kube-bench's substitutions, by id, each with the
    environment audit kube-bench generates for it."""
    text, bin_subs = substitute(controls_text(name), node_type, **substitution)
    controls = yaml.load(text, Loader=yaml.BaseLoader)
    found = {}
    for group in controls["groups"]:
        for raw in group["checks"]:
            if raw["id"] in ids:
                check = Check.parse(raw)
                if check.items and any(t.env for t in check.items) and not check.audit_env:
                    bin_path = bin_subs[0] if len(bin_subs) == 1 else ""
                    check.audit_env = (
                        f"cat \"/proc/$(/bin/ps -C {bin_path} -o pid= | tr -d ' ')/environ\" | tr '\\0' '\\n'"
                    )
                found[check.id] = check
    missing = sorted(set(ids) - set(found))
    if missing:
        raise LookupError(f"{name}.yaml has no check {missing}")
    return found


def etcd_checks(**substitution):
    """2.1-2.7 (etcd.yaml, node type etcd) and 1.1.11, 1.1.12 (master.yaml, node type master), by id."""
    return load_checks("etcd", "etcd", ETCD_CHECKS, **substitution) | load_checks(
        "master", "master", DATA_DIR_CHECKS, **substitution
    )


def _find_flag(item, text):
    """flagTestItem.findValue: (found, value)."""
    if not text or not item.flag:
        return False, ""
    if item.flag not in text:
        return False, ""
    match = re.search("(" + item.flag + ")(=|: *)*([^" + _GO_SPACE + "]*) *", text)
    if not match:
        raise ValueError(f"invalid flag in testItem definition: {text}")
    if match[3]:
        return True, match[3]
    return True, "true" if item.flag.startswith("--") else match[1]


def _find_env(item, text):
    """envTestItem.findValue: (found, value)."""
    if not text or not item.env:
        return False, ""
    match = re.search(re.escape(item.env) + "=.*(?:$|\n)", text)
    out = match[0] if match else ""
    out = out.replace("\n", "", 1).replace(f"{item.env}=", "", 1)
    return (True, out) if out else (False, "")


def _equal(flag_value, expected):
    lowered = flag_value.lower()  # booleans compare without case
    return lowered == expected if lowered in ("true", "false") else flag_value == expected


def _numbers(flag_value, expected, test):
    try:
        return test(int(flag_value.strip()), int(expected.strip()))
    except ValueError:
        return False


def _elements(text):
    cleaned = text.strip().rstrip(",")
    return [s.strip() for s in cleaned.split(",")] if cleaned else []


def _valid_elements(flag_value, expected):
    source, target = _elements(flag_value), _elements(expected)
    if not source or not target:
        return not source and not target
    return all(s in target for s in source)


def _bitmask(flag_value, expected):
    try:
        requested, allowed = int(flag_value, 8), int(expected, 8)
    except ValueError:
        return False
    return allowed & requested == requested


_OPS = {
    "eq": _equal,
    "noteq": lambda v, e: not _equal(v, e),
    "gt": lambda v, e: _numbers(v, e, lambda a, b: a > b),
    "gte": lambda v, e: _numbers(v, e, lambda a, b: a >= b),
    "lt": lambda v, e: _numbers(v, e, lambda a, b: a < b),
    "lte": lambda v, e: _numbers(v, e, lambda a, b: a <= b),
    "has": lambda v, e: e in v,
    "nothave": lambda v, e: e not in v,
    "regex": lambda v, e: re.search(e, v) is not None,
    "valid_elements": _valid_elements,
    "bitmask": _bitmask,
}


def compare(op, flag_value, expected):
    """compareOp: whether ``flag_value`` passes ``op`` against ``expected`` (an unknown op: false)."""
    return _OPS.get(op, lambda _v, _e: False)(flag_value, expected)


def _evaluate_item(item, text, source):
    """testItem.evaluate on one row: (passed, found)."""
    if source == "config":
        raise NotImplementedError("path (audit_config) test items are not implemented")
    found, value = _find_env(item, text) if source == "env" else _find_flag(item, text)
    if not item.set:
        return not found, found
    return (compare(item.op, value, item.value) if found and item.op else found), found


def _execute_item(item, text, source, multiple):
    """testItem.execute: (passed, found) over the output, row by row for use_multiple_values."""
    text = text.rstrip(" \n")
    rows = text.split("\n") if multiple else [text]
    passed, found = False, False
    for row in rows:
        passed, found = _evaluate_item(item, row, source)
        if not passed:
            break
    return passed, found


@dataclass
class Result:
    id: str
    state: str
    reason: str = ""

    @property
    def passed(self):
        return self.state == PASS


def _precondition(check):
    """check.run before the audit: the state and reason of a check that is not evaluated, else None."""
    failed = FAIL if check.scored else WARN
    if check.scored and not check.type.strip() and check.items is None:
        return WARN, "There are no tests"
    if check.type == "skip":
        return INFO, "Test marked as skip"
    if check.type == "manual":
        return WARN, "Test marked as a manual test"
    if not check.items:
        return failed, "No tests defined"
    if check.bin_op not in ("and", "or", ""):
        return failed, f"unknown binary operator for tests {check.bin_op}"
    return None


def evaluate(check, audit_output, env_output="", config_output="", error=""):
    """check.run after the audit commands: the check's state from their outputs (``error``: why one failed)."""
    failed = FAIL if check.scored else WARN
    early = _precondition(check)
    if early:
        return Result(check.id, *early)
    if error:
        return Result(check.id, failed, error)
    results = []
    for item in check.items:
        passed, found = _execute_item(item, audit_output, "command", check.multiple)
        if not found and check.audit_config and config_output:
            passed, found = _execute_item(item, config_output, "config", check.multiple)
            if not found and item.env:
                passed, found = _execute_item(item, env_output, "env", check.multiple)
        if not found and item.env:
            passed, found = _execute_item(item, env_output, "env", check.multiple)
        results.append(passed)
    verdict = any(results) if check.bin_op == "or" else all(results)
    return Result(check.id, PASS if verdict else failed, "" if verdict else f"audit output: {audit_output.strip()}")


Runner = Callable[[str], tuple[int, str]]


def run_check(check, runner: Runner):
    """check.run with its audit commands run by ``runner`` (script -> (exit status, stdout and stderr)), as
    runAuditCommands runs them: the environment audit first, then the audit, then the config audit."""

    def audit(script):
        if not script.strip():
            return "", ""
        status, output = runner(script.strip())
        return output, (
            f"failed to run: {script.strip()!r}, output: {output!r}, exit status {status}" if status else ""
        )

    env_output, error = audit(check.audit_env) if check.audit_env else ("", "")
    audit_output = config_output = ""
    if not error:
        audit_output, error = audit(check.audit)
    if not error:
        config_output, error = audit(check.audit_config)
        if (
            error
            and ("exit status 127" in error or "No such file or directory" in error)
            and (env_output or audit_output)
        ):
            error, config_output = "", ""
    return evaluate(check, audit_output, env_output, config_output, error)


def run_all(checks, runner: Runner):
    """Every check's result, by id."""
    return {check_id: run_check(check, runner) for check_id, check in checks.items()}


# ---- one process at a time ----

_PS_EF = re.compile(r"^(\S+)\s+(\d+)\s+\d+\s+\S+\s+\S+\s+\S+\s+\S+\s+(.*)$")


def processes(ps_ef_output, binary="etcd"):
    """(pid, line) of each process in ``ps -ef`` output whose command's first word is ``binary``, with or
    without a path (kube-bench's verifyBin, anchored at the word's end so that etcdctl is not etcd)."""
    first_word = re.compile(r"^(\S*/)*" + re.escape(binary) + r"(\s|$)")
    found = []
    for line in ps_ef_output.splitlines():
        match = _PS_EF.match(line)
        if match and first_word.match(match[3]):
            found.append((int(match[2]), line))
    return found


def for_process(runner: Runner, pid, line) -> Runner:
    """A runner whose ``ps`` shows one process: ``ps -ef`` prints its line, ``ps -C ... -o pid=`` its PID;
    anything else is the real ps. kube-bench's scripts call /bin/ps or ps: both reach the function."""
    shim = (
        'ps() { case "$*" in\n'
        f"  -ef) printf '%s\\n' {shlex.quote(line)} ;;\n"
        f"  '-C '*' -o pid=') printf '%s\\n' {pid} ;;\n"
        '  *) command ps "$@" ;;\n'
        "esac; }\n"
    )

    def run(script):
        return runner(shim + script.replace("/bin/ps ", "ps "))

    return run


def ps_ef_line(argv, pid=4242, user="etcd"):
    """The line ``ps -ef`` prints for a process with ``argv`` (for tests that render a unit)."""
    return f"{user:<8} {pid:>7}       1  0 12:00 ?        00:00:05 {' '.join(argv)}"


def verify_bin(ps_c_output, candidate):
    """kube-bench's verifyBin on the output of ``ps -C <first word> -o cmd --no-headers``: whether a line starts
    with the candidate, with or without a path."""
    first_word = re.compile(r"^(\S*/)*" + candidate.strip("'\""))
    return any(first_word.match(line) for line in ps_c_output.split("\n"))
