"""Monitoring end to end on the scenario's three hosts, seen from the query tier's API on mon1.

The controller reaches the lab addresses directly (molecule's SSH does too). Waits are bounded and
stated; the alert path's bound is the one docs/monitoring.md gives. Tests that change the lab (a
storage restart, an etcd member stopped) come last and put it back.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

PROJECT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
sys.path.insert(0, str(PROJECT / "tests/tools"))

from lab_testinfra import podman_host  # noqa: E402
from scenario_playbook import run_scenario_playbook  # noqa: E402

QUERY = "http://10.213.92.11:9090"
MON1 = "molecule-monitoring-mon1"
ETCD1 = "molecule-monitoring-etcd1"
HOSTS = ["molecule-monitoring-etcd1", "molecule-monitoring-mon1", "molecule-monitoring-node1"]
NODE1_EXPORTER = "https://10.213.92.31:9100/metrics"
PKI = EPHEMERAL / "monitoring-pki"
NOTIFICATIONS = "/var/lib/webhook-receiver/notifications.jsonl"
SCRAPE_INTERVAL_S = 5
# Scrape 5 s + evaluation 5 s + for: 1m + group_wait 5 s, with room for a slow machine.
ALERT_BOUND_S = 180
# Evaluation 5 s + group_interval 10 s after the member is back, with the same room.
RESOLVE_BOUND_S = 120

# Every target the inventory gives (job, instance), literally: node exporter on the three hosts, the
# etcd member, and the monitoring stack itself on mon1.
EXPECTED_TARGETS = {
    ("node", "molecule-monitoring-mon1"),
    ("node", "molecule-monitoring-etcd1"),
    ("node", "molecule-monitoring-node1"),
    ("etcd_main", "molecule-monitoring-etcd1"),
}
EXPECTED_MONITORING = {"collector", "storage", "alertmanager"}


def query(expr, at=None):
    params = {"query": expr}
    if at is not None:
        params["time"] = f"{at:.3f}"
    with urllib.request.urlopen(f"{QUERY}/api/v1/query?{urllib.parse.urlencode(params)}", timeout=10) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    return body["data"]["result"]


def wait_for(what, check, bound_s, step_s=3):
    """check() until it returns a true value or bound_s passes; returns the value, fails with the last one."""
    deadline = time.monotonic() + bound_s
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (OSError, urllib.error.URLError, AssertionError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(step_s)
    pytest.fail(f"{what}: not within {bound_s} s (last: {last!r})")


def up_targets():
    results = query('up{cluster="lab"}')
    return {(r["metric"]["job"], r["metric"].get("component", r["metric"]["instance"])): r["value"][1] for r in results}


def test_every_target_is_up_from_the_query_api():
    def all_up():
        seen = up_targets()
        wanted = EXPECTED_TARGETS | {("monitoring", c) for c in EXPECTED_MONITORING}
        return seen if set(seen) == wanted and set(seen.values()) == {"1"} else None

    wait_for("every target up", all_up, 120)


def test_targets_carry_cluster_and_pool_labels():
    for result in query('up{job=~"node|etcd_main"}'):
        assert result["metric"]["cluster"] == "lab"
        assert result["metric"]["pool"] == "infra"


def test_a_recording_rule_returns_data():
    results = wait_for("pool:node_cpu_utilisation:avg", lambda: query("pool:node_cpu_utilisation:avg"), 120)
    assert [r["metric"] for r in results] == [
        {"__name__": "pool:node_cpu_utilisation:avg", "cluster": "lab", "pool": "infra"}
    ]
    assert 0 <= float(results[0]["value"][1]) <= 1


def test_preflight_results_are_metrics_of_every_host():
    results = wait_for("preflight metrics", lambda: query("aiplatform_preflight_failed_checks"), 60)
    assert sorted(r["metric"]["instance"] for r in results) == HOSTS
    passed = query('count by (instance) (aiplatform_preflight_check_status{status="pass"} == 1)')
    assert sorted(r["metric"]["instance"] for r in passed) == HOSTS


def test_relabelling_dropped_the_unused_series():
    assert query('count({job="node", __name__=~"go_.*|process_.*|node_scrape_collector_.*"})') == []
    assert query('count({job="etcd_main", __name__=~"go_.*|etcd_debugging_.*"})') == []
    assert query('count(node_cpu_seconds_total{mode=~"nice|irq|softirq"})') == []


def tls_context(with_client_certificate):
    context = ssl.create_default_context(cafile=str(PKI / "ca.crt"))
    if with_client_certificate:
        context.load_cert_chain(str(PKI / "collector.crt"), str(PKI / "collector.key"))
    return context


def test_node_exporter_serves_tls_to_clients_with_a_certificate_only():
    with urllib.request.urlopen(NODE1_EXPORTER, context=tls_context(True), timeout=10) as response:
        assert b"node_uname_info" in response.read()
    with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionResetError)):
        urllib.request.urlopen(NODE1_EXPORTER, context=tls_context(False), timeout=10).read()


def test_node_exporter_unit_is_hardened():
    node = podman_host("molecule-monitoring-node1")
    show = node.check_output("systemctl show prometheus-node-exporter -p NoNewPrivileges -p ProtectSystem -p User")
    assert sorted(show.splitlines()) == ["NoNewPrivileges=yes", "ProtectSystem=strict", "User=prometheus"]


def test_values_given_as_command_line_strings_work_and_change_nothing():
    """playbooks/monitoring.yml again with every boolean, integer and list as `-e name=value` gives it (a
    string), the values the scenario converged with: it passes with changed=0 on every host (a raw "9095"
    would fail the collector's port sum, a raw "false" a condition)."""
    returncode, output = run_scenario_playbook(
        PROJECT / "playbooks" / "monitoring.yml",
        {
            "monitoring_collector_shards": "1",
            "monitoring_collector_port": "9095",
            "monitoring_storage_port": "9090",
            "monitoring_alertmanager_port": "9093",
            "monitoring_pki_days": "825",
            "monitoring_neigh_gc_thresh3": "1024",
            "monitoring_packages": "prometheus,prometheus-alertmanager",
            "monitoring_alertmanager_group_by": "alertname,cluster,job",
            "node_exporter_tls": "true",
            "node_exporter_tls_client_auth": "true",
            "node_exporter_port": "9100",
            "node_exporter_pki_days": "825",
        },
    )
    assert returncode == 0, output[-3000:]
    for host in HOSTS:
        assert re.search(rf"{host} *: ok=\d+ +changed=0 ", output), output[-3000:]


def raw_samples(expr, window_s):
    results = query(f"{expr}[{window_s}s]")
    assert len(results) == 1, results
    return [float(sample[0]) for sample in results[0]["values"]]


def test_storage_restart_loses_no_samples():
    mon1 = podman_host(MON1)
    series = 'up{job="node", instance="molecule-monitoring-node1"}'
    wait_for("samples before the restart", lambda: len(raw_samples(series, 30)) >= 5, 60)
    before = time.time()
    mon1.check_output("systemctl restart prometheus.service")
    wait_for("the storage tier back", lambda: query("up{job='node'}"), 60)
    # Let the collector send its backlog and a few fresh samples after the restart.
    time.sleep(6 * SCRAPE_INTERVAL_S)
    window = int(time.time() - before) + 20
    stamps = raw_samples(series, window)
    assert stamps[0] < before - 10, "the window must start before the restart"
    assert stamps[-1] > time.time() - 3 * SCRAPE_INTERVAL_S
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert max(gaps) < 1.5 * SCRAPE_INTERVAL_S, f"a gap of {max(gaps):.1f} s in {len(stamps)} samples"


def notifications(mon1):
    text = mon1.run(f"cat {NOTIFICATIONS} 2>/dev/null").stdout
    return [json.loads(line)["notification"] for line in text.splitlines() if line.strip()]


def members_down(mon1, status, since):
    for notification in notifications(mon1):
        if notification["status"] != status or notification["groupLabels"].get("alertname") != "EtcdMembersDown":
            continue
        for alert in notification["alerts"]:
            started = alert["startsAt"] if status == "firing" else alert["endsAt"]
            if alert["labels"]["job"] == "etcd_main" and started[:19] >= since:
                return alert
    return None


def test_members_down_alert_reaches_the_webhook_and_resolves():
    mon1, etcd1 = podman_host(MON1), podman_host(ETCD1)
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    assert members_down(mon1, "firing", since) is None
    etcd1.check_output("systemctl stop etcd-main.service")
    try:
        alert = wait_for("EtcdMembersDown at the webhook", lambda: members_down(mon1, "firing", since), ALERT_BOUND_S)
        expected = {"alertname": "EtcdMembersDown", "cluster": "lab", "job": "etcd_main", "severity": "critical"}
        assert alert["labels"] == expected
    finally:
        etcd1.check_output("systemctl start etcd-main.service")
    wait_for("EtcdMembersDown resolved at the webhook", lambda: members_down(mon1, "resolved", since), RESOLVE_BOUND_S)
