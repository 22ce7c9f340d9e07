"""Check that every role's meta/argument_specs.yml declares exactly the variables of defaults/main.yml.

For each role: every entry point (main when tasks/main.yml exists, and every `tasks_from:` used in
playbooks/, roles/ or molecule/) has a spec; the options of all entry points together are exactly the
names in defaults/main.yml, and each declares the same value as its `default` there.
Exits 1 and names every mismatch; prints one line per role checked.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml


def load_yaml(path: Path):
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def tasks_from_uses(root: Path) -> set[tuple[str, str]]:
    """(role, entry point) for every `tasks_from:` in playbooks/, roles/ and molecule/ under ``root``."""
    uses = set()
    for folder in ("playbooks", "roles", "molecule"):
        for path in sorted((root / folder).rglob("*.yml")) if (root / folder).is_dir() else []:
            text = path.read_text(encoding="utf-8")
            for match in _TASKS_FROM.finditer(text):
                uses.add((match.group("role"), match.group("entry")))
    return uses


_TASKS_FROM = re.compile(r"name:\s*(?:aiplatform\.cluster\.)?(?P<role>[a-z_]+)\s*\n\s*tasks_from:\s*(?P<entry>[a-z_]+)")


def check_role(role_dir: Path, used_entries: set[str] | frozenset = frozenset()) -> list[str]:
    """Return the problems found in one role (empty when the role is consistent)."""
    role = role_dir.name
    defaults_file = role_dir / "defaults" / "main.yml"
    specs_file = role_dir / "meta" / "argument_specs.yml"
    defaults = load_yaml(defaults_file) if defaults_file.is_file() else {}
    if not specs_file.is_file():
        return [f"{role}: meta/argument_specs.yml is missing"]
    specs = load_yaml(specs_file).get("argument_specs", {})
    problems = []
    # Every entry point has a spec: main when tasks/main.yml exists, and every tasks_from in use.
    entries = set(used_entries) | ({"main"} if (role_dir / "tasks" / "main.yml").is_file() else set())
    for entry in sorted(entries - set(specs)):
        problems.append(f"{role}: entry point '{entry}' has no argument spec in meta/argument_specs.yml")
    for entry in sorted(set(specs) - {"main"}):
        if not (role_dir / "tasks" / f"{entry}.yml").is_file():
            problems.append(f"{role}: argument spec '{entry}' has no tasks/{entry}.yml")
    return problems + _option_problems(role, defaults, specs)


def _option_problems(role: str, defaults: dict, specs: dict) -> list[str]:
    """The options of all entry points together are exactly the defaults, each with the same default."""
    problems = []
    options: dict = {}
    for entry, spec in specs.items():
        for name, option in ((spec or {}).get("options") or {}).items():
            options.setdefault(name, []).append((entry, option or {}))

    for name in sorted(set(defaults) - set(options)):
        problems.append(f"{role}: {name} is in defaults/main.yml but not in meta/argument_specs.yml")
    for name in sorted(set(options) - set(defaults)):
        problems.append(f"{role}: {name} is in meta/argument_specs.yml but not in defaults/main.yml")
    for name in sorted(set(defaults) & set(options)):
        for entry, option in options[name]:
            where = f"{role}: {name} (entry point {entry})"
            if "default" not in option:
                problems.append(f"{where} has no 'default' in meta/argument_specs.yml")
            elif option["default"] != defaults[name]:
                problems.append(
                    f"{where} default differs: defaults/main.yml has {defaults[name]!r}, "
                    f"meta/argument_specs.yml has {option['default']!r}"
                )
            if not option.get("description"):
                problems.append(f"{where} has no description in meta/argument_specs.yml")
            if not option.get("type"):
                problems.append(f"{where} has no type in meta/argument_specs.yml")
    for name in sorted(defaults):
        if not name.startswith(f"{role}_"):
            problems.append(f"{role}: {name} is not prefixed with the role name '{role}_'")
    return problems


def main(argv: list[str]) -> int:
    roles_dir = Path(argv[1] if len(argv) > 1 else "roles")
    role_dirs = sorted(p for p in roles_dir.iterdir() if p.is_dir()) if roles_dir.is_dir() else []
    if not role_dirs:
        print(f"no roles under {roles_dir}", file=sys.stderr)
        return 1
    uses = tasks_from_uses(roles_dir.resolve().parent)
    problems = []
    for role_dir in role_dirs:
        found = check_role(role_dir, {entry for role, entry in uses if role == role_dir.name})
        problems.extend(found)
        print(f"argument specs {'FAIL' if found else 'ok'}: {role_dir.name}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
