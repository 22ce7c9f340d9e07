"""Operators' own checks: declarative checks from variables and site Python checks from a directory."""

import pytest
from conftest import put_file

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_core import run_check
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_custom import (
    declarative_checks,
    site_checks,
    unsafe_reason,
)


def outcome(ctx, spec):
    (item,) = declarative_checks([spec])
    return run_check(ctx, item)


def test_command_check(host):
    ctx = host()
    put_file(host.root, "bin/show-mig", "#!/bin/sh\necho 'MIG mode: Disabled'\n", 0o755)
    spec = {"id": "site.mig_off", "type": "command", "command": "show-mig", "stdout_regex": "MIG mode: Disabled"}
    assert outcome(ctx, spec)["status"] == "pass"
    assert outcome(ctx, {**spec, "stdout_regex": "Enabled"})["status"] == "fail"
    assert outcome(ctx, {**spec, "rc": 3})["status"] == "fail"
    assert outcome(ctx, {**spec, "command": ["missing-tool"]})["status"] == "skip"


def test_file_check(host):
    ctx = host()
    put_file(host.root, "etc/site.conf", "mode=strict\n", 0o644)
    spec = {"id": "site.conf", "type": "file", "path": "/etc/site.conf", "content_regex": "^mode=strict$"}
    assert outcome(ctx, spec)["status"] == "pass"
    assert outcome(ctx, {**spec, "mode": "0600"})["status"] == "fail"
    assert outcome(ctx, {**spec, "exists": False})["status"] == "fail"
    assert outcome(ctx, {**spec, "path": "/etc/absent", "exists": False})["status"] == "pass"
    assert outcome(ctx, {**spec, "content_regex": "lenient"})["status"] == "fail"


def test_sysctl_check(host):
    ctx = host()
    spec = {"id": "site.fwd", "type": "sysctl", "name": "net.ipv4.ip_forward", "value": 1}
    assert outcome(ctx, spec)["status"] == "pass"
    assert outcome(ctx, {**spec, "value": "0"})["status"] == "fail"
    assert outcome(ctx, {**spec, "name": "vm.nothing"})["status"] == "skip"


def test_service_check(host):
    ctx = host()
    put_file(
        host.root,
        "bin/systemctl",
        '#!/bin/sh\n[ "$2" = chrony ] && { echo active; exit 0; }\necho inactive\nexit 3\n',
        0o755,
    )
    spec = {"id": "site.chrony", "type": "service", "name": "chrony"}
    assert outcome(ctx, spec)["status"] == "pass"
    assert outcome(ctx, {**spec, "name": "ntp"})["observed"] == "inactive"
    assert outcome(ctx, {**spec, "name": "ntp", "state": "inactive"})["status"] == "pass"


def test_warn_severity_and_profiles():
    (item,) = declarative_checks(
        [{"id": "s.x", "type": "sysctl", "name": "a", "value": 1, "severity": "warn", "profiles": ["etcd"]}]
    )
    assert (item.severity, item.profiles) == ("warn", frozenset({"etcd"}))


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ({"id": "x", "type": "dns"}, "type must be one of"),
        ({"id": "x", "type": "command"}, "lacks command"),
        ({"type": "file", "path": "/x"}, "lacks id"),
        ({"id": "x", "type": "sysctl", "name": "a"}, "lacks value"),
    ],
)
def test_bad_declarative_checks_are_refused(spec, error):
    with pytest.raises(ValueError, match=error):
        declarative_checks([spec])


SITE_CHECK = """
def has_marker(ctx):
    present = ctx.exists("/etc/site-marker")
    return {"status": "pass" if present else "fail", "observed": present, "expected": True,
            "message": "marker present" if present else "no /etc/site-marker"}

CHECKS = [{"id": "site.marker", "category": "site", "run": has_marker}]
"""


def test_site_python_checks(host, tmp_path):
    folder = tmp_path / "preflight.d"
    put_file(folder, "marker.py", SITE_CHECK)
    put_file(folder, "broken.py", "CHECKS = [{'run': None}]\n")
    put_file(folder, "_helper.py", "raise RuntimeError('not loaded')\n")
    put_file(folder, "notes.txt", "ignored")
    checks, errors = site_checks(str(folder))
    assert [c.check_id for c in checks] == ["site.marker"]
    assert len(errors) == 1
    assert "broken.py: KeyError" in errors[0]
    assert run_check(host(), checks[0])["status"] == "fail"
    put_file(host.root, "etc/site-marker", "")
    assert run_check(host(), checks[0])["status"] == "pass"
    assert site_checks(str(tmp_path / "absent")) == ([], [])


@pytest.mark.parametrize(
    ("uid", "mode", "euid", "reason"),
    [
        (0, 0o100644, 0, None),
        (0, 0o040755, 0, None),
        (1000, 0o100644, 1000, None),
        (1000, 0o100644, 0, "owned by uid 1000: must be owned by root (or uid 0, which runs the checks)"),
        (0, 0o100664, 0, "mode 0664 lets group or others write it: must not (0644, 0755)"),
        (0, 0o100646, 0, "mode 0646 lets group or others write it: must not (0644, 0755)"),
        (0, 0o041777, 0, "mode 1777 lets group or others write it: must not (0644, 0755)"),
    ],
)
def test_site_check_owner_and_mode_rule(uid, mode, euid, reason):
    assert unsafe_reason(uid, mode, euid) == reason


def test_writable_site_checks_are_not_run(host, tmp_path):
    folder = tmp_path / "preflight.d"
    put_file(folder, "marker.py", SITE_CHECK)
    put_file(folder, "evil.py", "raise SystemExit('ran')\n")
    (folder / "evil.py").chmod(0o666)
    checks, errors = site_checks(str(folder))
    assert [c.check_id for c in checks] == ["site.marker"]
    assert errors == [f"{folder}/evil.py: not loaded, mode 0666 lets group or others write it: must not (0644, 0755)"]
    # A folder others may write: nothing in it is loaded, not even the safe file.
    folder.chmod(0o777)
    assert site_checks(str(folder)) == (
        [],
        [f"{folder}: not loaded, mode 0777 lets group or others write it: must not (0644, 0755)"],
    )
