"""The files node_preflight keeps on the host: folders and files with their modes, changed only when they
differ, nothing written in check mode."""

import os
from pathlib import Path

import pytest

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_host_files import (
    ensure_dir,
    install_files,
    marker_text,
    put_file,
    under_root,
)


def mode(path):
    return oct(os.stat(path).st_mode & 0o777)


def test_under_root():
    assert under_root("/", "/var/lib/x") == "/var/lib/x"
    assert under_root("/srv/root/", "/var/lib/x") == "/srv/root/var/lib/x"


def test_ensure_dir_creates_parents_with_the_mode_and_fixes_an_existing_one(tmp_path):
    target = tmp_path / "a" / "b"
    assert ensure_dir(str(target), check_mode=True) is True
    assert not (tmp_path / "a").exists()
    os.umask(0o077)
    try:
        assert ensure_dir(str(target)) is True
    finally:
        os.umask(0o022)
    assert (mode(tmp_path / "a"), mode(target)) == ("0o755", "0o755")
    assert ensure_dir(str(target)) is False
    target.chmod(0o700)
    assert ensure_dir(str(target), check_mode=True) is True
    assert mode(target) == "0o700"
    assert ensure_dir(str(target)) is True
    assert mode(target) == "0o755"


def test_put_file_changes_only_what_differs(tmp_path):
    path = str(tmp_path / "f")
    assert put_file(path, "one\n", check_mode=True) is True
    assert not os.path.exists(path)
    assert put_file(path, "one\n") is True
    assert (Path(path).read_text(), mode(path)) == ("one\n", "0o644")
    assert put_file(path, "one\n") is False
    os.chmod(path, 0o600)
    assert put_file(path, "one\n") is True
    assert mode(path) == "0o644"
    assert put_file(path, "two\n") is True
    assert Path(path).read_text() == "two\n"
    # The temporary file is renamed over the target: nothing is left behind.
    assert os.listdir(tmp_path) == ["f"]


def test_install_files_refuses_paths_outside_the_folder(tmp_path):
    with pytest.raises(ValueError, match="must be a path inside the folder"):
        install_files(str(tmp_path / "d"), {"../x.py": ""})
    with pytest.raises(ValueError, match="must be a path inside the folder"):
        install_files(str(tmp_path / "d"), {"/etc/x.py": ""})


def test_install_files_in_check_mode_writes_nothing(tmp_path):
    assert install_files(str(tmp_path / "d"), {"a.py": "A\n", "sub/b.py": "B\n"}, check_mode=True) is True
    assert not (tmp_path / "d").exists()
    assert install_files(str(tmp_path / "d"), {"a.py": "A\n", "sub/b.py": "B\n"}) is True
    assert (tmp_path / "d" / "sub" / "b.py").read_text() == "B\n"
    assert install_files(str(tmp_path / "d"), {"a.py": "A\n", "sub/b.py": "B\n"}) is False


def test_marker_text_names_the_checks_it_leaves_out():
    assert marker_text(["ports.free"]) == (
        "passed aiplatform.cluster node_preflight; delete this file to run ports.free again\n"
    )
