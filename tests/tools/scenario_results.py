"""Decide whether a `make molecule` run passed: one passing result per scenario asked for, and a verify
that ran at least the scenario's minimum number of tests with none failed.

Usage: scenario_results.py LOG_DIR JUNIT_DIR SCENARIO...

For every scenario named on the command line the runner must have left exactly one
``LOG_DIR/<scenario>.result`` whose line says ``passed``, and molecule's testinfra verifier a JUnit
file ``JUNIT_DIR/<scenario>.xml`` (see .config/molecule/config.yml) counting at least
``MIN_PASSED[scenario]`` passed tests and no failure or error. No scenario named, a scenario without a
minimum, a missing or extra result: failure. Prints one line per scenario and exits 1 on any problem.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

# Passed tests each scenario's verify must report (testinfra counts one test per host it runs on).
# Raise a figure when tests are added; a scenario that runs fewer, or no tests at all, fails the run.
MIN_PASSED = {
    "apiserver": 84,  # 8 tests x cp1-cp3; the etcd tests x cp1-cp3, ev1 and web (3 skips), + the rolling restart
    "etcd_ops": 18,  # controller-side, once each (+ the certificate renewal)
    "k8s_binaries": 8,  # node1 once each: install, runs, subset, 2 refusals, 3 on the kubelet unit
    "kubeadm": 14,  # controller-side, once each
    "node_os": 12,  # 10 tests, 2 of them on both hosts
    "monitoring": 10,  # mon1, etcd1, node1: targets, rules, alert path, remote-write gap, -e strings
    "preflight": 25,  # the hosts, the playbooks, kubeadm's checks on both hosts, the NPD plugin
    "runtime": 24,  # 13 on gpu1, the schema test, 2 drop-in, 6 rejections, 2 SSD judgements
    "smoke": 11,  # 5 tests x 2 hosts, + the site report
}


def junit_counts(path: Path) -> dict[str, int]:
    """tests, failures, errors, skipped and passed, summed over the file's test suites."""
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    counts = {key: sum(int(s.get(key, 0)) for s in suites) for key in ("tests", "failures", "errors", "skipped")}
    counts["passed"] = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    return counts


def problems(log_dir: Path, junit_dir: Path, scenarios: list[str], minimum: dict[str, int]) -> list[str]:
    """Every reason the run does not count as passed; an empty list when it does."""
    if not scenarios:
        return ["no scenario was asked for: an empty run proves nothing"]
    found = []
    for extra in sorted({p.stem for p in log_dir.glob("*.result")} - set(scenarios)):
        found.append(f"{extra}: a result for a scenario that was not asked for")
    for name in scenarios:
        if scenarios.count(name) > 1:
            found.append(f"{name}: asked for more than once")
            continue
        result = log_dir / f"{name}.result"
        lines = result.read_text(encoding="utf-8").splitlines() if result.exists() else []
        if len(lines) != 1 or not lines[0].startswith("== molecule passed:"):
            found.append(f"{name}: expected one 'passed' result line in {result}, found {lines}")
        if name not in minimum:
            found.append(f"{name}: no minimum test count recorded in tests/tools/scenario_results.py")
            continue
        junit = junit_dir / f"{name}.xml"
        if not junit.exists():
            found.append(f"{name}: no JUnit report {junit} (the verify step ran no tests)")
            continue
        counts = junit_counts(junit)
        if counts["failures"] or counts["errors"]:
            found.append(f"{name}: {counts['failures']} failed and {counts['errors']} errored tests")
        if counts["passed"] < minimum[name]:
            found.append(f"{name}: {counts['passed']} tests passed, at least {minimum[name]} expected ({counts})")
    return found


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    log_dir, junit_dir, scenarios = Path(argv[0]), Path(argv[1]), argv[2:]
    for name in scenarios:
        junit = junit_dir / f"{name}.xml"
        if junit.exists():
            print(f"{name}: {junit_counts(junit)}")
    found = problems(log_dir, junit_dir, scenarios, MIN_PASSED)
    for problem in found:
        print(f"FAILED: {problem}")
    if not found:
        print(f"scenarios passed: {' '.join(scenarios)}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
