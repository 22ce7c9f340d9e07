"""Series per lab node before and after the monitoring role's metric relabelling, and the collector's memory.

Run against a converged `monitoring` scenario (figures for docs/benchmarks.md):

    molecule converge -s monitoring
    .venv/bin/python tests/benchmarks/monitoring_series.py

"Before" and "after" are Prometheus's own per-target figures, remote-written by the collector:
scrape_samples_scraped (what the exporter served) and scrape_samples_post_metric_relabeling (what was
kept); "stored" counts the series the storage tier holds for the target (a cross-check). Memory is
each process's resident set size as the storage tier scraped it.
"""

from __future__ import annotations

import argparse
import json
import urllib.parse
import urllib.request


def query(base, expr):
    url = f"{base}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)["data"]["result"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--query", default="http://10.213.92.11:9090", help="the storage tier's URL")
    args = parser.parse_args()
    targets = query(args.query, 'up{job=~"node|etcd_main"}')

    def value(expr):
        result = query(args.query, expr)
        return int(float(result[0]["value"][1])) if result else 0

    print("| job | instance | samples served | kept after relabelling | series stored |")
    print("| --- | --- | ---: | ---: | ---: |")
    for target in sorted(targets, key=lambda t: (t["metric"]["job"], t["metric"]["instance"])):
        selector = f'job="{target["metric"]["job"]}", instance="{target["metric"]["instance"]}"'
        before = value(f"scrape_samples_scraped{{{selector}}}")
        after = value(f"scrape_samples_post_metric_relabeling{{{selector}}}")
        stored = value(f"count({{{selector}}})")
        print(f"| {target['metric']['job']} | {target['metric']['instance']} | {before} | {after} | {stored} |")
    print()
    print("| component | resident memory (MiB) | samples/s remote-written or received |")
    print("| --- | ---: | ---: |")
    for component in ("collector", "storage", "alertmanager"):
        rss = query(args.query, f'process_resident_memory_bytes{{job="monitoring", component="{component}"}}')
        mib = f"{float(rss[0]['value'][1]) / 2**20:.0f}" if rss else "n/a"
        rate = ""
        if component == "collector":
            sent = query(args.query, 'sum(rate(prometheus_remote_storage_samples_total{component="collector"}[2m]))')
            rate = f"{float(sent[0]['value'][1]):.0f}" if sent else ""
        print(f"| {component} | {mib} | {rate} |")


if __name__ == "__main__":
    main()
