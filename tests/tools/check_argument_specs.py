"""Check that every role's meta/argument_specs.yml declares exactly the variables of defaults/main.yml.

For each role: the names in defaults/main.yml equal the options of the `main` entry point, and every
option that has a default in defaults/main.yml declares the same value as its `default`.
Exits 1 and names every mismatch; prints one line per role checked.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml


def load_yaml(path: Path):
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def check_role(role_dir: Path) -> list[str]:
    """Return the problems found in one role (empty when the role is consistent)."""
    role = role_dir.name
    defaults_file = role_dir / "defaults" / "main.yml"
    specs_file = role_dir / "meta" / "argument_specs.yml"
    defaults = load_yaml(defaults_file) if defaults_file.is_file() else {}
    if not specs_file.is_file():
        return [f"{role}: meta/argument_specs.yml is missing"]
    specs = load_yaml(specs_file).get("argument_specs", {})
    if "main" not in specs:
        return [f"{role}: meta/argument_specs.yml has no 'main' entry point"]
    options = specs["main"].get("options") or {}

    problems = []
    for name in sorted(set(defaults) - set(options)):
        problems.append(f"{role}: {name} is in defaults/main.yml but not in meta/argument_specs.yml")
    for name in sorted(set(options) - set(defaults)):
        problems.append(f"{role}: {name} is in meta/argument_specs.yml but not in defaults/main.yml")
    for name in sorted(set(defaults) & set(options)):
        option = options[name] or {}
        if "default" not in option:
            problems.append(f"{role}: {name} has no 'default' in meta/argument_specs.yml")
        elif option["default"] != defaults[name]:
            problems.append(
                f"{role}: {name} default differs: defaults/main.yml has {defaults[name]!r}, "
                f"meta/argument_specs.yml has {option['default']!r}"
            )
        if not option.get("description"):
            problems.append(f"{role}: {name} has no description in meta/argument_specs.yml")
        if not option.get("type"):
            problems.append(f"{role}: {name} has no type in meta/argument_specs.yml")
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
    problems = []
    for role_dir in role_dirs:
        found = check_role(role_dir)
        problems.extend(found)
        print(f"argument specs {'FAIL' if found else 'ok'}: {role_dir.name}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
