"""The engine: profiles, include/exclude, ignore list, severities, errors that never escape."""

import pytest

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_core import (
    REGISTRY,
    Check,
    CheckError,
    Context,
    Skip,
    failed,
    passed,
    run_check,
    run_profile,
    select_checks,
    summarise,
)


def ids(checks):
    return [c.check_id for c in checks]


def test_every_registered_check_has_a_dotted_id_and_known_profiles():
    assert len(REGISTRY) >= 40
    for check_id, item in REGISTRY.items():
        assert "." in check_id and check_id == check_id.lower()
        assert item.profiles <= {"control_plane", "nodes", "gpu", "etcd", "monitoring", "gpu_burnin"}


def test_profiles_select_their_checks():
    worker = ids(select_checks(REGISTRY, ["nodes"]))
    assert "net.ip_forward" in worker
    assert not [i for i in worker if i.startswith("gpu.")]
    assert "disk.etcd_fdatasync" not in worker
    etcd = ids(select_checks(REGISTRY, ["etcd"]))
    assert "disk.etcd_fdatasync" in etcd
    assert "kubelet.leftover_files" not in etcd
    assert ids(select_checks(REGISTRY, ["gpu"])) == sorted(ids(select_checks(REGISTRY, ["gpu"])))


def test_include_and_exclude_patterns():
    chosen = ids(select_checks(REGISTRY, ["nodes"], include=["gpu.xid"], exclude=["kernel.*", "swap.off"]))
    assert "gpu.xid" in chosen
    assert not [i for i in chosen if i.startswith("kernel.")]
    assert "swap.off" not in chosen


def make(check_id, func, severity="fail"):
    return Check(check_id, "test", severity, ["nodes"], func)


def test_ignore_turns_a_failure_into_a_warning():
    item = make("x.fails", lambda ctx: failed(1, 0, "bad"))
    assert run_check(Context(), item)["status"] == "fail"
    ignored = run_check(Context(), item, ignore=["x.*"])
    assert (ignored["status"], ignored["ignored"]) == ("warn", True)
    assert run_check(Context(), item, ignore=["*"])["status"] == "warn"


def test_warn_severity_caps_a_failure():
    result = run_check(Context(), make("x.soft", lambda ctx: failed(), severity="warn"))
    assert (result["status"], result["ignored"]) == ("warn", False)


def raise_skip(ctx):
    raise Skip("tool missing")


def raise_check_error(ctx):
    raise CheckError("garbled")


def raise_bug(ctx):
    return {}["missing"]


@pytest.mark.parametrize(
    ("func", "status", "message"),
    [
        (raise_skip, "skip", "tool missing"),
        (raise_check_error, "fail", "could not evaluate: garbled"),
        (raise_bug, "fail", "check error: KeyError: 'missing'"),
        (lambda ctx: {"status": "pass", "observed": 1}, "pass", ""),
        (lambda ctx: "nonsense", "fail", "could not evaluate"),
    ],
)
def test_errors_never_escape(func, status, message):
    result = run_check(Context(), make("x.y", func))
    assert result["status"] == status
    assert result["message"].startswith(message)


def test_bad_severity_is_refused():
    with pytest.raises(ValueError, match="severity"):
        Check("x.y", "test", "error", ["nodes"], passed)


def test_summary_and_run_profile():
    checks = [
        make("a.pass", lambda ctx: passed()),
        make("b.fail", lambda ctx: failed()),
        make("c.skip", raise_skip),
        make("d.warn", lambda ctx: failed(), severity="warn"),
    ]
    results, summary = run_profile(Context(), checks, ignore=[])
    assert [r["id"] for r in results] == ["a.pass", "b.fail", "c.skip", "d.warn"]
    assert summary == {
        "pass": 1,
        "warn": 1,
        "fail": 1,
        "skip": 1,
        "total": 4,
        "failed": ["b.fail"],
        "warned": ["d.warn"],
        "ignored": [],
        "ok": False,
    }
    assert summarise([])["ok"] is True


def test_context_paths_and_commands(tmp_path):
    ctx = Context(root=str(tmp_path), search_path=[str(tmp_path)], commands={"tool": "/nonexistent/tool"})
    assert ctx.path("/etc/hosts") == f"{tmp_path}/etc/hosts"
    assert Context().path("/etc/hosts") == "/etc/hosts"
    assert ctx.which("tool") is None
    with pytest.raises(Skip, match="tool not found"):
        ctx.run("tool", [])
    with pytest.raises(Skip, match="cannot read /missing"):
        ctx.read("/missing")
