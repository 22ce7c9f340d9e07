"""The node_problem_detector role installs every module of the check library the plugin runner imports."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
MODULE_UTILS = ROOT / "plugins" / "module_utils"
IMPORT = re.compile(
    r"ansible_collections\.aiplatform\.cluster\.plugins\.module_utils(?:\.(\w+)| import \(?([\w,\s]+)\)?)"
)


def imported(name, seen):
    """The module_utils files ``name`` imports, transitively."""
    if name in seen:
        return seen
    seen.add(name)
    text = (MODULE_UTILS / name).read_text(encoding="utf-8")
    for single, several in IMPORT.findall(text):
        for module in [single] if single else [m.strip() for m in several.split(",") if m.strip()]:
            if (MODULE_UTILS / f"{module}.py").is_file():
                imported(f"{module}.py", seen)
    return seen


def test_the_installed_library_is_what_the_runner_imports():
    library = yaml.safe_load((ROOT / "roles/node_problem_detector/vars/main.yml").read_text(encoding="utf-8"))
    installed = set(library["_node_problem_detector_library"])
    assert imported("npd_plugin.py", set()) <= installed
    assert "preflight_checks_fabric.py" in installed  # the catalogue's modules are found by the walk above
