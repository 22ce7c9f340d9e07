"""The argument-spec checker must catch every kind of drift between defaults and specs."""

import check_argument_specs
import yaml


def make_role(root, name, defaults, options):
    role = root / name
    (role / "defaults").mkdir(parents=True)
    (role / "meta").mkdir()
    (role / "defaults" / "main.yml").write_text(yaml.safe_dump(defaults))
    specs = {"argument_specs": {"main": {"short_description": "x", "options": options}}}
    (role / "meta" / "argument_specs.yml").write_text(yaml.safe_dump(specs))
    return role


def option(default, type_="str"):
    return {"description": "d", "type": type_, "default": default}


def test_consistent_role_passes(tmp_path):
    role = make_role(tmp_path, "demo", {"demo_port": 2379}, {"demo_port": option(2379, "int")})
    assert check_argument_specs.check_role(role) == []
    assert check_argument_specs.main(["x", str(tmp_path)]) == 0


def test_variable_missing_from_specs(tmp_path):
    role = make_role(tmp_path, "demo", {"demo_a": 1, "demo_b": 2}, {"demo_a": option(1, "int")})
    assert check_argument_specs.check_role(role) == [
        "demo: demo_b is in defaults/main.yml but not in meta/argument_specs.yml"
    ]


def test_option_missing_from_defaults(tmp_path):
    role = make_role(tmp_path, "demo", {}, {"demo_a": option(1, "int")})
    assert check_argument_specs.check_role(role) == [
        "demo: demo_a is in meta/argument_specs.yml but not in defaults/main.yml"
    ]


def test_default_value_drift(tmp_path):
    role = make_role(tmp_path, "demo", {"demo_a": "8GiB"}, {"demo_a": option("2GiB")})
    (problem,) = check_argument_specs.check_role(role)
    assert "demo_a (entry point main) default differs" in problem


def test_missing_type_description_and_prefix(tmp_path):
    role = make_role(tmp_path, "demo", {"other_a": 1}, {"other_a": {"default": 1}})
    problems = check_argument_specs.check_role(role)
    assert "demo: other_a (entry point main) has no description in meta/argument_specs.yml" in problems
    assert "demo: other_a (entry point main) has no type in meta/argument_specs.yml" in problems
    assert "demo: other_a is not prefixed with the role name 'demo_'" in problems


def test_missing_specs_file_fails_main(tmp_path, capsys):
    (tmp_path / "bare" / "defaults").mkdir(parents=True)
    assert check_argument_specs.main(["x", str(tmp_path)]) == 1
    assert "bare: meta/argument_specs.yml is missing" in capsys.readouterr().err


def test_repository_roles_are_consistent():
    assert check_argument_specs.main(["x", "roles"]) == 0


def test_entry_point_in_use_needs_a_spec(tmp_path):
    role = make_role(tmp_path, "demo", {"demo_a": 1}, {"demo_a": option(1, "int")})
    (role / "tasks").mkdir()
    (role / "tasks" / "main.yml").write_text("[]\n")
    (role / "tasks" / "backup.yml").write_text("[]\n")
    assert check_argument_specs.check_role(role, {"backup"}) == [
        "demo: entry point 'backup' has no argument spec in meta/argument_specs.yml"
    ]


def test_entry_point_spec_without_tasks_and_shared_option_drift(tmp_path):
    role = make_role(tmp_path, "demo", {"demo_a": 1}, {"demo_a": option(1, "int")})
    specs = {
        "argument_specs": {
            "main": {"short_description": "x", "options": {"demo_a": option(1, "int")}},
            "restore": {"short_description": "x", "options": {"demo_a": option(2, "int")}},
        }
    }
    (role / "meta" / "argument_specs.yml").write_text(yaml.safe_dump(specs))
    problems = check_argument_specs.check_role(role)
    assert "demo: argument spec 'restore' has no tasks/restore.yml" in problems
    assert any(p.startswith("demo: demo_a (entry point restore) default differs") for p in problems)


def test_tasks_from_uses_are_found(tmp_path):
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "x.yml").write_text(
        "- ansible.builtin.include_role:\n    name: aiplatform.cluster.etcd\n    tasks_from: backup_now\n"
    )
    assert check_argument_specs.tasks_from_uses(tmp_path) == {("etcd", "backup_now")}
