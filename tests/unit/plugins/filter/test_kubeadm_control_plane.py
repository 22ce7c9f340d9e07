"""kubeadm_control_plane filters: a host's kubeadm state from its files, and the role's input rules (partial
runs refused with their files, a balancer address and a certificate key before control planes join)."""

from __future__ import annotations

import pytest

from ansible_collections.aiplatform.cluster.plugins.filter.kubeadm_control_plane import (
    FilterModule,
    kubeadm_control_plane_problems,
    kubeadm_control_plane_state,
)

FILES = ["/etc/kubernetes/admin.conf", "/etc/kubernetes/kubelet.conf", "/etc/kubernetes/pki/ca.crt"]
KEY = "0123456789abcdef" * 4


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {
        "kubeadm_control_plane_config",
        "kubeadm_control_plane_join",
        "kubeadm_control_plane_state",
        "kubeadm_control_plane_problems",
    }


@pytest.mark.parametrize(
    ("present", "status", "missing"),
    [(FILES, "done", []), ([], "absent", FILES), (FILES[:1], "partial", FILES[1:]),
     (["/etc/kubernetes/other", *FILES[2:]], "partial", FILES[:2])],
)  # fmt: skip
def test_state_from_the_files_kubeadm_writes(present, status, missing):
    state = kubeadm_control_plane_state(present, FILES)
    assert (state["status"], state["missing"]) == (status, missing)


def host(status="absent", kubeadm=True, config_found=True, endpoint="lb:6443", key=KEY):
    present = {"done": FILES, "absent": [], "partial": FILES[:1]}[status]
    return {
        "kubeadm": kubeadm,
        "config_found": config_found,
        "config": {"control_plane_endpoint": endpoint, "certificate_key": key},
        "state": kubeadm_control_plane_state(present, FILES),
    }


def settings(**hosts):
    return {"hosts": hosts or {"cp1": host(), "cp2": host(), "cp3": host()}, "first": "cp1", "check_mode": False,
            "token_ttl": "15m", "admin_kubeconfig": "/home/ops/state/kubeconfig/admin.conf"}  # fmt: skip


def test_good_input_has_no_problems():
    assert kubeadm_control_plane_problems(settings()) == []
    assert kubeadm_control_plane_problems(settings(cp1=host(endpoint=""))) == []  # one control plane


def test_a_partial_run_is_refused_with_its_files():
    problems = kubeadm_control_plane_problems(settings(cp1=host("done"), cp2=host("partial"), cp3=host()))
    assert len(problems) == 1
    assert problems[0].startswith("cp2: a partial kubeadm init or join")
    assert "/etc/kubernetes/admin.conf" in problems[0] and "/etc/kubernetes/pki/ca.crt" in problems[0]
    assert "kubeadm reset" in problems[0]


@pytest.mark.parametrize(
    ("changes", "variable"),
    [({"token_ttl": "2h"}, "kubeadm_control_plane_token_ttl"),
     ({"token_ttl": "soon"}, "kubeadm_control_plane_token_ttl"),
     ({"admin_kubeconfig": "reports/admin.conf"}, "topology_admin_kubeconfig")],
)  # fmt: skip
def test_bad_settings_name_the_variable(changes, variable):
    problems = kubeadm_control_plane_problems(settings() | changes)
    assert problems and problems[0].startswith(variable + ":")


def test_joining_control_planes_need_an_endpoint_and_a_certificate_key():
    problems = kubeadm_control_plane_problems(settings(cp1=host(endpoint="", key=""), cp2=host(), cp3=host()))
    assert [p.split(":")[0] for p in problems] == ["kube_apiserver_control_plane_endpoint",
                                                   "kube_apiserver_secrets_controller_dir"]  # fmt: skip


def test_a_missing_configuration_is_an_error_except_in_check_mode():
    hosts = {"cp1": host(config_found=False)}
    assert any("kube_apiserver_mode" in p for p in kubeadm_control_plane_problems(settings(**hosts)))
    assert kubeadm_control_plane_problems(settings(**hosts) | {"check_mode": True}) == []
    assert kubeadm_control_plane_problems(settings(cp1=host(kubeadm=False, config_found=False))) == []
