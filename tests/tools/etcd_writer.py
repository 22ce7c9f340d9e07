"""A writer that puts keys into an etcd cluster continuously while an operation restarts its members, and the
figures of its log: the lab tests of the rolling restart (molecule/apiserver) and of the certificate renewal
(molecule/etcd_ops) prove with it that the cluster kept serving."""

from __future__ import annotations

import itertools

WRITER = r"""#!/bin/bash
# Put writer/<n> continuously until the stop file appears; log "ok|err <n> <epoch.ns> [etcdctl's error]"
# per attempt (the error on one line: it tells a timeout under load from a refused or dropped request).
log=$1; shift
n=0
while [ ! -e "$log.stop" ]; do
  n=$((n + 1))
  if error=$("$@" put "writer/$n" "value-$n" 2>&1 >/dev/null); then kind=ok; error=; else kind=err; fi
  echo "$kind $n $(date +%s.%N) ${error//$'\n'/ }" >> "$log"
done
"""


def writer_figures(lines, window):
    """Counts, and the longest time without an acknowledged write, overall and within ``window``.

    ``window`` (epoch seconds, start and end) is the restart playbook's run; a gap counts in it when it
    overlaps it.
    """
    fields = [line.split(maxsplit=3) for line in lines if line.strip()]
    attempts = [(kind, int(n), float(t)) for kind, n, t, *_error in fields]
    error_texts = [f"{n} at {t}: {error[0]}" for kind, n, t, *error in fields if kind == "err" and error]
    acked = [n for kind, n, _stamp in attempts if kind == "ok"]
    longest = longest_in_window = 0.0
    last_ok = attempts[0][2] if attempts else 0.0
    for kind, _number, stamp in attempts:
        if kind == "ok":
            longest = max(longest, stamp - last_ok)
            if stamp >= window[0] and last_ok <= window[1]:
                longest_in_window = max(longest_in_window, stamp - last_ok)
            last_ok = stamp
    errors_in_window = sum(1 for kind, _number, t in attempts if kind == "err" and window[0] <= t <= window[1])
    failure_run = longest_failure_run = 0
    for kind, _number, _stamp in attempts:
        failure_run = failure_run + 1 if kind == "err" else 0
        longest_failure_run = max(longest_failure_run, failure_run)
    attempts_in_window = sum(1 for _kind, _number, t in attempts if window[0] <= t <= window[1])
    return {
        "attempts": len(attempts),
        "acked": len(acked),
        "errors": len(attempts) - len(acked),
        "attempts_during_restarts": attempts_in_window,
        "errors_during_restarts": errors_in_window,
        "longest_gap_between_acked_writes_s": round(longest, 2),
        "longest_gap_during_restarts_s": round(longest_in_window, 2),
        "longest_run_of_failed_writes": longest_failure_run,
        "acked_keys": acked,
        "error_texts": error_texts[:20],
    }


def overlapping_downtimes(intervals):
    """Pairs of members that were down at the same time; ``intervals``: member -> (stopped, active again)."""
    ordered = sorted(intervals.items(), key=lambda item: item[1][0])
    return [(earlier[0], later[0]) for earlier, later in itertools.pairwise(ordered) if later[1][0] < earlier[1][1]]
