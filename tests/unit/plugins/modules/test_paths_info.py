"""The paths_info module run as Ansible runs it (a JSON argument file), on a temporary folder."""

import os
from pathlib import Path

import module_runner


def run_module(tmp_path, paths):
    return module_runner.run_module("paths_info", {"paths": paths}, tmp_path)


def test_every_path_is_answered_in_one_call(tmp_path):
    (tmp_path / "dir").mkdir(mode=0o750)
    os.chmod(tmp_path / "dir", 0o750)
    (tmp_path / "dir/file").write_text("abc")
    os.chmod(tmp_path / "dir/file", 0o640)
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    paths = [str(tmp_path / name) for name in ("dir", "dir/file", "dangling", "missing", "dir/file/below")]
    result = run_module(tmp_path, paths)
    assert result["changed"] is False
    assert not result.get("warnings")
    info = result["paths"]
    assert info[paths[0]]["type"] == "directory"
    assert info[paths[0]]["mode"] == "0750"
    assert info[paths[1]] | {"owner": None, "group": None} == {
        "exists": True,
        "type": "file",
        "owner": None,
        "group": None,
        "mode": "0640",
        "size": 3,
    }
    assert info[paths[1]]["owner"] == Path(paths[1]).owner()
    assert info[paths[2]]["type"] == "link"
    assert info[paths[3]] == {"exists": False}
    assert info[paths[4]] == {"exists": False}


def test_relative_paths_are_refused(tmp_path):
    result = run_module(tmp_path, ["etc/x", "/etc"])
    assert result["failed"] is True
    assert result["msg"] == "paths must be absolute: etc/x"
