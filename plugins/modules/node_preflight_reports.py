#!/usr/bin/python
# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE). ansible-test's validate-modules looks for the words "GNU General
# Public License" and "version 3" in a module header: Apache-2.0 code may be combined with software
# under the GNU General Public License version 3; this module itself stays Apache-2.0.

# The work is done on the controller by the action plugin of the same name (plugins/action/node_preflight_reports.py);
# this file holds its documentation.

from __future__ import annotations

DOCUMENTATION = r"""
module: node_preflight_reports
short_description: Write the play's node preflight reports on the controller, in one task
version_added: 0.1.0
author: aiplatform.cluster contributors (@aiplatform)
description:
  - Collects each host's report (the variable M(aiplatform.cluster.node_preflight) was registered to) and writes,
    in the controller process and without a module call, C(summary.json), C(summary.md), C(junit.xml) and a
    C(<host>.json) with the reason for each host that returned no results (unreachable, failed before the checks).
  - The files are this run's output, rewritten every run, also in check mode; never reported as a change.
  - Run it once for the play (C(run_once)); the role M(aiplatform.cluster.node_preflight) does.
options:
  hosts:
    description: The play's hosts, in order (C(ansible_play_hosts_all)); a host without a report is an error entry.
    type: list
    elements: str
    required: true
  report_var:
    description: The variable each host's report is registered to.
    type: str
    default: node_preflight_report
  report_dir:
    description: Folder on the controller for the files (created when missing); empty writes none.
    type: str
    default: ""
attributes:
  action:
    description: The work is done by the action plugin, on the controller.
    support: full
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Writes the report files on the controller in check mode too (this run's output, not managed state).
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Write the play's reports
  aiplatform.cluster.node_preflight_reports:
    hosts: "{{ ansible_play_hosts_all }}"
    report_dir: /srv/reports/preflight
  run_once: true
  register: preflight_play
"""

RETURN = r"""
reports:
  description: Every host's report (host, profiles, summary, results, elapsed_s), or C({host, error}).
  returned: always
  type: list
  elements: dict
summary:
  description: The play's verdict as in C(summary.json) (hosts, passed, failed, errors, ok).
  returned: always
  type: dict
table:
  description: The table of C(summary.md), one line per element.
  returned: always
  type: list
  elements: str
files:
  description: The files written.
  returned: always
  type: list
  elements: str
"""
