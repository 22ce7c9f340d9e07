"""Where state lives (issue 13): the roles' problem filters refuse a secret store inside a git work tree
unless topology_state_allow_in_git, and the contract checks topology_cluster_name (it names a folder)."""

from __future__ import annotations

import pytest
from test_monitoring import GOOD as MONITORING_GOOD
from test_monitoring import PARTS as MONITORING_PARTS
from test_node_exporter import GOOD as NODE_EXPORTER_GOOD
from test_refused_inputs import ETCD_CHOICES, ETCD_CLUSTERS, ETCD_GLOBAL, ETCD_GROUPS, ETCD_OPS, apiserver_settings

from ansible_collections.aiplatform.cluster.plugins.filter.etcd import etcd_problems
from ansible_collections.aiplatform.cluster.plugins.filter.kube_apiserver import kube_apiserver_problems
from ansible_collections.aiplatform.cluster.plugins.filter.monitoring import monitoring_problems
from ansible_collections.aiplatform.cluster.plugins.filter.node_exporter import node_exporter_problems
from ansible_collections.aiplatform.cluster.plugins.filter.topology import topology_problems

IN_GIT = [{"variable": "etcd_pki_controller_dir", "path": "/srv/inventory/.etcd-pki", "work_tree": "/srv/inventory"}]
OUTSIDE = [{"variable": "etcd_pki_controller_dir", "path": "/home/op/.local/state/x/etcd-pki", "work_tree": ""}]
MESSAGE = (
    "etcd_pki_controller_dir: /srv/inventory/.etcd-pki is inside the git work tree /srv/inventory, where secrets "
    "get committed with the inventory; keep it out of version control (the default is a folder under "
    "topology_state_dir), or set topology_state_allow_in_git: true to keep it there anyway"
)


def etcd_errors(stores, allow):
    return etcd_problems(ETCD_CLUSTERS, "main", ETCD_GLOBAL, {}, ETCD_GROUPS, ops=ETCD_OPS, choices=ETCD_CHOICES,
                         stores=stores, allow_in_git=allow)["errors"]  # fmt: skip


def test_etcd_refuses_its_store_inside_a_git_work_tree():
    assert etcd_errors(IN_GIT, False) == [MESSAGE]
    assert etcd_errors(IN_GIT, "false") == [MESSAGE]
    assert etcd_errors(IN_GIT, True) == []
    assert etcd_errors(IN_GIT, "yes") == []
    assert etcd_errors(OUTSIDE, False) == []


def test_kube_apiserver_refuses_its_stores_inside_a_git_work_tree():
    stores = [
        {"variable": "kube_apiserver_secrets_controller_dir", "path": "/srv/inv/.k", "work_tree": "/srv/inv"},
        {"variable": "kube_apiserver_etcd_pki_controller_dir", "path": "/home/op/s/etcd-pki", "work_tree": ""},
    ]
    errors = kube_apiserver_problems(apiserver_settings(stores=stores, state_allow_in_git=False))["errors"]
    assert len(errors) == 1, errors
    assert errors[0].startswith(
        "kube_apiserver_secrets_controller_dir: /srv/inv/.k is inside the git work tree /srv/inv"
    )
    assert kube_apiserver_problems(apiserver_settings(stores=stores, state_allow_in_git="true"))["errors"] == []


def monitoring_store(variable, work_tree):
    return [{"variable": variable, "path": f"{work_tree or '/home/op/.local/state/x'}/monitoring-pki",
             "work_tree": work_tree}]  # fmt: skip


def test_monitoring_refuses_the_monitoring_ca_store_inside_a_git_work_tree():
    def errors(stores, allow):
        return monitoring_problems(
            dict(MONITORING_GOOD, stores=stores, topology_state_allow_in_git=allow), MONITORING_PARTS
        )

    inside = monitoring_store("monitoring_pki_controller_dir", "/srv/inventory")
    assert errors(inside, False) == [
        "monitoring_pki_controller_dir: /srv/inventory/monitoring-pki is inside the git work tree /srv/inventory, "
        "where secrets get committed with the inventory; keep it out of version control (the default is a folder "
        "under topology_state_dir), or set topology_state_allow_in_git: true to keep it there anyway"
    ]
    assert errors(inside, "false") == errors(inside, False)
    assert errors(inside, True) == []
    assert errors(inside, "yes") == []
    assert errors(monitoring_store("monitoring_pki_controller_dir", ""), False) == []


def test_node_exporter_refuses_the_monitoring_ca_store_inside_a_git_work_tree():
    def errors(stores, allow):
        return node_exporter_problems(dict(NODE_EXPORTER_GOOD, stores=stores, topology_state_allow_in_git=allow))

    inside = monitoring_store("node_exporter_pki_controller_dir", "/srv/inventory")
    [message] = errors(inside, False)
    assert message.startswith(
        "node_exporter_pki_controller_dir: /srv/inventory/monitoring-pki is inside the git work tree /srv/inventory"
    )
    assert errors(inside, "true") == []
    assert errors(monitoring_store("node_exporter_pki_controller_dir", ""), False) == []
    # Without TLS the role lists no store (roles/node_exporter/vars/main.yml): nothing to refuse.
    assert errors([], False) == []


@pytest.mark.parametrize("name", ["", "Prod", "prod/eu", "../x", ".hidden", 7])
def test_topology_cluster_name_names_a_folder(name):
    clusters = ETCD_CLUSTERS
    groups = {"control_plane": "kube_control_plane", "nodes": "kube_node", "gpu": "gpu", "monitoring": "monitoring"}
    errors = topology_problems(groups, clusters, name)
    assert len(errors) == 1, errors
    assert errors[0].startswith("topology_cluster_name: must start with a-z or 0-9")


def test_topology_cluster_name_accepts_folder_names():
    groups = {"control_plane": "kube_control_plane", "nodes": "kube_node", "gpu": "gpu", "monitoring": "monitoring"}
    for name in ("kubernetes", "prod-eu.1", "lab_2"):
        assert topology_problems(groups, ETCD_CLUSTERS, name) == [], name
    assert topology_problems(groups, ETCD_CLUSTERS) == []
