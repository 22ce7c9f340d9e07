"""The managed_files module run as Ansible runs it (a JSON argument file), on a temporary folder."""

import os
import stat

import module_runner


def run_module(tmp_path, files, check=False, diff=False):
    args = {"files": files, "_ansible_check_mode": check, "_ansible_diff": diff}
    return module_runner.run_module("managed_files", args, tmp_path)


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def wanted(root, web="tls: on\n", key="secret\n"):
    return [
        {"path": str(root / "etc"), "state": "directory", "mode": "0750"},
        {"path": str(root / "etc/web.yml"), "content": web, "mode": "0640"},
        {"path": str(root / "etc/server.key"), "content": key, "mode": "0600"},
    ]


def test_first_run_makes_everything_and_second_changes_nothing(tmp_path):
    first = run_module(tmp_path, wanted(tmp_path))
    assert not first.get("failed"), first
    assert first["changed"] is True
    assert first["changed_paths"] == [str(tmp_path / p) for p in ("etc", "etc/web.yml", "etc/server.key")]
    assert (tmp_path / "etc/web.yml").read_text() == "tls: on\n"
    assert (mode_of(tmp_path / "etc"), mode_of(tmp_path / "etc/web.yml"), mode_of(tmp_path / "etc/server.key")) == (
        0o750,
        0o640,
        0o600,
    )
    second = run_module(tmp_path, wanted(tmp_path))
    assert second["changed"] is False
    assert second["changed_paths"] == []
    assert not [p.name for p in (tmp_path / "etc").iterdir() if p.name.startswith(".managed_files.")]


def test_only_what_differs_is_reported(tmp_path):
    run_module(tmp_path, wanted(tmp_path))
    os.chmod(tmp_path / "etc/server.key", 0o644)
    result = run_module(tmp_path, wanted(tmp_path, web="tls: off\n"))
    assert result["changed_paths"] == [str(tmp_path / "etc/web.yml"), str(tmp_path / "etc/server.key")]
    assert (tmp_path / "etc/web.yml").read_text() == "tls: off\n"
    assert mode_of(tmp_path / "etc/server.key") == 0o600
    assert mode_of(tmp_path / "etc/web.yml") == 0o640


def test_check_mode_reports_and_writes_nothing(tmp_path):
    result = run_module(tmp_path, wanted(tmp_path), check=True)
    assert result["changed"] is True
    assert len(result["changed_paths"]) == 3
    assert not (tmp_path / "etc").exists()
    run_module(tmp_path, wanted(tmp_path))
    changed = run_module(tmp_path, wanted(tmp_path, key="other\n"), check=True, diff=True)
    assert changed["changed_paths"] == [str(tmp_path / "etc/server.key")]
    assert changed["diff"] == [
        {
            "before_header": str(tmp_path / "etc/server.key"),
            "after_header": str(tmp_path / "etc/server.key"),
            "before": "secret\n",
            "after": "other\n",
        }
    ]
    assert (tmp_path / "etc/server.key").read_text() == "secret\n"


def test_a_failed_validation_leaves_the_file_as_it_was(tmp_path):
    run_module(tmp_path, wanted(tmp_path))
    files = wanted(tmp_path, web="broken\n")
    files[1]["validate"] = "/bin/grep -q tls %s"
    result = run_module(tmp_path, files)
    assert result["failed"] is True
    assert "etc/web.yml: validation failed" in result["msg"]
    assert (tmp_path / "etc/web.yml").read_text() == "tls: on\n"
    assert not [p.name for p in (tmp_path / "etc").iterdir() if p.name.startswith(".managed_files.")]
    files = wanted(tmp_path, web="tls: strict\n")
    files[1]["validate"] = "/bin/grep -q tls %s"
    assert run_module(tmp_path, files)["changed_paths"] == [str(tmp_path / "etc/web.yml")]


def test_absent_removes_files_and_folders(tmp_path):
    run_module(tmp_path, wanted(tmp_path))
    gone = [
        {"path": str(tmp_path / "etc/web.yml"), "state": "absent"},
        {"path": str(tmp_path / "etc"), "state": "absent"},
    ]
    assert run_module(tmp_path, gone)["changed_paths"] == [str(tmp_path / "etc/web.yml"), str(tmp_path / "etc")]
    assert not (tmp_path / "etc").exists()
    assert run_module(tmp_path, gone)["changed"] is False


def test_bad_entries_are_refused_by_path(tmp_path):
    assert "must be an absolute path" in run_module(tmp_path, [{"path": "etc/x", "content": ""}])["msg"]
    assert "content is required" in run_module(tmp_path, [{"path": str(tmp_path / "x")}])["msg"]
    (tmp_path / "f").write_text("")
    assert "is not a folder" in run_module(tmp_path, [{"path": str(tmp_path / "f"), "state": "directory"}])["msg"]
    assert (
        "validate must contain %s"
        in run_module(tmp_path, [{"path": str(tmp_path / "f"), "content": "x", "validate": "/bin/true"}])["msg"]
    )
