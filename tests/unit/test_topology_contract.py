"""The topology contract: group names and etcd clusters come from the inventory alone.

tests/fixtures/inventories/renamed names every part differently (masters, workers, a100_pool, prom,
store_a/b/c) and adds a third etcd cluster, in its own group_vars only; every playbook's plays must
then target the right hosts, and no file outside roles/topology may name a default group.
"""

import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "tools"))

import render_plays  # noqa: E402

RENAMED = REPO / "tests" / "fixtures" / "inventories" / "renamed"
CONTROL_PLANE = ["m1", "m2", "m3"]
EVENTS_AND_LEASES = ["e1", "e2", "e3"]
ETCD = sorted(CONTROL_PLANE + EVENTS_AND_LEASES)
NODES = ["g1", "g2", "w1"]
EVERY_HOST = sorted(CONTROL_PLANE + EVENTS_AND_LEASES + NODES + ["p1"])


@pytest.fixture(scope="module")
def rendered():
    return render_plays.render(
        RENAMED, sorted(p for p in (REPO / "playbooks").glob("*.yml") if p.name != "topology.yml")
    )


def hosts_of(rendered, playbook):
    return [hosts for _play, hosts in rendered[playbook]]


@pytest.mark.parametrize(
    ("playbook", "expected"),
    [
        ("etcd.yml", [ETCD]),
        ("etcd_backup.yml", [ETCD]),
        ("etcd_rolling_restart.yml", [ETCD]),
        ("etcd_defrag.yml", [ETCD]),
        ("etcd_health.yml", [ETCD]),
        ("node_os.yml", [EVERY_HOST]),
    ],
)
def test_plays_target_the_renamed_groups(rendered, playbook, expected):
    assert hosts_of(rendered, playbook) == expected


def test_kube_apiserver_targets_the_masters(rendered):
    assert hosts_of(rendered, "kube_apiserver.yml")[-1] == CONTROL_PLANE


def test_monitoring_collects_on_prom(rendered):
    assert ["p1"] in hosts_of(rendered, "monitoring.yml")


def test_workers_are_preflighted_and_joined(rendered):
    assert NODES in hosts_of(rendered, "join_nodes.yml")
    assert hosts_of(rendered, "preflight.yml")[0] == EVERY_HOST


def test_every_play_targets_some_host(rendered):
    empty = [f"{book}: {play}" for book, plays in rendered.items() for play, hosts in plays if not hosts]
    # etcd_restore's members are named by -e etcd_restore_cluster; join_nodes joins the hosts of a group its
    # first play makes (node_preflight_passed); site.yml imports join_nodes.yml.
    joins = ("join_nodes.yml: Join", "site.yml: Join the nodes that passed")
    assert [e for e in empty if not e.startswith(("etcd_restore.yml", *joins))] == []


# The default group names, as they would appear in code that names a group instead of reading the contract.
_LITERAL = re.compile(
    r"\b(kube_control_plane|kube_node|etcd_main|etcd_events)\b|groups\[['\"](gpu|monitoring)['\"]\]|(?<!topology_)groups\.(gpu|monitoring)\b"
)


def test_no_group_name_outside_the_contract():
    offenders = []
    for folder in ("roles", "playbooks", "plugins"):
        for path in sorted((REPO / folder).rglob("*")):
            if not path.is_file() or path.suffix not in {".yml", ".yaml", ".py", ".j2"}:
                continue
            if path.is_relative_to(REPO / "roles" / "topology"):
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if _LITERAL.search(line.split("#", 1)[0] if path.suffix != ".py" else line):
                    offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert offenders == []
