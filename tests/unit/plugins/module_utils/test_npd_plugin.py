"""node-problem-detector's custom plugin: the exit-code contract (0 OK, 1 problem, 2 unknown) and one
line of output, over the healthy and broken fixture roots of the preflight (real check library)."""

import io
import json
import re
from pathlib import Path

import pytest
import yaml
from preflight_fixture_root import build_root

from ansible_collections.aiplatform.cluster.plugins.module_utils.npd_plugin import main, run_group, verdict

GROUPS = {
    "gpu": ["gpu.nvidia_smi", "gpu.count", "gpu.ecc.uncorrected", "gpu.xid"],
    "time": ["time.sync"],
    "disk": ["fs.read_only"],
    "none": [],
}


def result(check_id, status, message="m"):
    return {"id": check_id, "status": status, "message": message}


def test_verdict_contract():
    assert verdict([result("a", "pass"), result("b", "skip")]) == (0, "2 check(s) ok")
    assert verdict([result("a", "pass"), result("b", "warn")]) == (0, "2 check(s) ok (warn: b)")
    assert verdict([result("a", "fail", "7 GPUs"), result("b", "pass")]) == (1, "a: 7 GPUs")
    assert verdict([result("a", "skip", "nvidia-smi not found")]) == (2, "cannot check: a: nvidia-smi not found")
    code, message = verdict([result("a", "fail", "x" * 200)], max_output=80)
    assert code == 1 and len(message) == 80 and message.endswith("...")


@pytest.fixture(name="config")
def fixture_config(tmp_path):
    def make(broken):
        root = tmp_path / ("broken" if broken else "healthy")
        params = build_root(root, broken=broken)
        return root, {
            "groups": GROUPS,
            "settings": params["settings"],
            "search_path": params["search_path"],
            "max_output_length": 200,
            "command_timeout": 10,
        }

    return make


def test_healthy_root_is_ok(config):
    root, cfg = config(False)
    assert run_group(cfg, "gpu", str(root)) == (0, "4 check(s) ok")
    assert run_group(cfg, "time", str(root)) == (0, "1 check(s) ok")
    assert run_group(cfg, "none", str(root)) == (0, "no none checks apply to this node")


def test_broken_root_is_a_problem_naming_the_checks(config):
    root, cfg = config(True)
    code, message = run_group(cfg, "gpu", str(root))
    assert code == 1
    assert message.startswith("gpu.count: ")
    assert "gpu.ecc.uncorrected: " in message and "gpu.xid: " in message
    code, message = run_group(cfg, "time", str(root))
    assert code == 1 and message.startswith("time.sync: ")


def test_unknown_group_or_check_is_unknown(config):
    root, cfg = config(False)
    assert run_group(cfg, "nope", str(root))[0] == 2
    assert run_group({**cfg, "groups": {"x": ["no.such.check"]}}, "x", str(root)) == (
        2,
        "unknown check id(s): no.such.check",
    )


def test_main_reads_the_host_file(tmp_path, config):
    _root, cfg = config(False)
    # main() runs on "/" (the node's own root after chroot): a group of a root-independent check.
    path = tmp_path / "checks.json"
    path.write_text(json.dumps({**cfg, "groups": {"none": []}}))
    out = io.StringIO()
    assert main(["none"], out, str(path)) == 0
    assert out.getvalue() == "no none checks apply to this node\n"
    out = io.StringIO()
    assert main([], out, str(path)) == 2
    assert main(["none"], io.StringIO(), str(tmp_path / "missing.json")) == 2


def test_the_installed_library_holds_every_module_the_runner_imports():
    # The role copies a list of module_utils files to the host; a check module missing from it breaks the
    # runner there ("cannot import name") while every test on the controller passes.
    repo = Path(__file__).resolve().parents[4]
    folder = repo / "plugins" / "module_utils"
    listed = set(
        yaml.safe_load((repo / "roles/node_problem_detector/vars/main.yml").read_text())[
            "_node_problem_detector_library"
        ]
    )
    single = re.compile(r"plugins\.module_utils\.(\w+) import")
    grouped = re.compile(r"plugins\.module_utils import \(([^)]*)\)|plugins\.module_utils import (\w+)")
    needed, todo = set(), ["npd_plugin"]
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        needed.add(name)
        text = (folder / f"{name}.py").read_text()
        todo += single.findall(text)
        for many, one in grouped.findall(text):
            todo += [item.strip() for item in (many or one).replace("\n", " ").split(",") if item.strip()]
    assert {f"{name}.py" for name in needed} <= listed, sorted({f"{name}.py" for name in needed} - listed)
    assert "preflight_checks_kubeadm.py" in listed
