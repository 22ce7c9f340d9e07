#!/usr/bin/python
# Copyright: (c) 2026, aiplatform.cluster contributors
# Apache License 2.0 (see LICENSE). ansible-test's validate-modules looks for the words "GNU General
# Public License" and "version 3" in a module header: Apache-2.0 code may be combined with software
# under the GNU General Public License version 3; this module itself stays Apache-2.0.

from __future__ import annotations

DOCUMENTATION = r"""
module: node_preflight
short_description: Check that a node is fit to join a Kubernetes cluster, in one call
version_added: 0.1.0
author: aiplatform.cluster contributors (@aiplatform)
description:
  - Runs a profile of checks on the host in one call (kubeadm's node checks, resources, disks, time
    synchronisation, the kernel log, GPU health through nvidia-smi, CIS file permissions) plus the
    operator's own declarative and site Python checks.
  - Each result has a stable id, a category, a severity, a status (V(pass), V(warn), V(fail) or V(skip)),
    the observed and expected values and a message. A check whose tool is missing or whose file is
    unreadable is skipped with the reason.
  - Fails the host when a check fails that is not in O(ignore) (unless O(fail_on_failure=false)).
  - Reads only, except the etcd disk probe, which writes and removes a temporary file (skipped in check mode),
    and the files it is asked to keep on the host in the same call (O(admitted_marker), O(site_checks_content),
    O(textfile_dir)).
  - Its action plugin (on the controller) runs the module once and, in the same task, writes the host's report
    to O(report_dir), fails the host per O(fail_on_failure) and sorts it into a group per O(verdict_group_prefix),
    so that the whole preflight costs one round trip per host.
options:
  profiles:
    description:
      - Profiles whose checks run, the parts of the topology contract the host plays (V(control_plane),
        V(nodes), V(gpu), V(etcd), V(monitoring)); a host in several parts lists several. V(gpu_burnin)
        (no part) adds the slow GPU probes. Another name fails the task.
    type: list
    elements: str
    default: [nodes]
  include:
    description: Check ids (shell patterns such as C(gpu.*)) to run in addition to the profiles' checks.
    type: list
    elements: str
    default: []
  exclude:
    description: Check ids (shell patterns) not to run.
    type: list
    elements: str
    default: []
  ignore:
    description:
      - Check ids (shell patterns; C(*) for all) whose failure becomes a warning, like kubeadm's
        C(--ignore-preflight-errors).
    type: list
    elements: str
    default: []
  settings:
    description:
      - Expected values and thresholds; unset keys take the defaults below.
      - C(gpu_count) (none), C(gpu_min_driver) (none), C(min_kernel) (C(5.4)), C(min_cpus) and
        C(min_memory_mb) (2 and 1700 for control planes, 2 and 2048 for etcd, else 1 and 1024),
        C(ports) (by profile; 10250 on nodes and control planes, 6443 10257 10259 on control planes,
        C(etcd_ports) on etcd members),
        C(kernel_modules), C(binaries_required), C(binaries_optional), C(cgroup_controllers),
        C(leftover_files), C(cri_socket), C(runtime_dirs) (containerd's, stargz's and Dragonfly's roots),
        C(kubelet_dir), C(etcd_data_dirs) (the data folders of the host's etcd members), C(etcd_ports)
        (the client and peer ports of the host's etcd members), C(require_ssd) (true; false turns a
        rotational data folder in C(disk.ssd) into a warning),
        C(disk_warn_pct)/C(disk_fail_pct) and C(inode_warn_pct)/C(inode_fail_pct) (80/85),
        C(disk_probe_dir), C(disk_probe_writes) (500), C(disk_probe_p99_ms) (10),
        C(time_max_offset_s) (0.1), C(time_local_reference_ok) (false; chronyd serving its own clock is
        not synchronised), C(kernel_log_source) (V(journal), V(kmsg) or V(file)), C(kernel_log_path),
        C(kernel_log_lookback_s) (3600), C(writable_paths), C(d_state_max) (0), C(gpu_xid_drain),
        C(gpu_xid_application) (codes moved to drain or application), C(gpu_xid_history_s) (604800, the
        kernel log across boots for Xids that come back), C(kubelet_config), C(kubelet_kubeconfig),
        C(fabric_manager_service) (C(nvidia-fabricmanager)), C(gpu_model) (else from the GPUs' name),
        C(gpu_thresholds) (a dict overriding the per-model thresholds), C(ib_rate_gbps),
        C(ib_link_downed_max) (0), C(gpu_dcgm_diag_level) (1), C(gpu_dcgm_diag_timeout_s) (300),
        C(gpu_burnin_budget_s) (1800, shared by the V(gpu_burnin) probes).
      - kubeadm's remaining checks read C(kubernetes_version), C(api_endpoint), C(service_cidr) (C(10.96.0.0/12)),
        C(pod_cidr) (none; comma-separated CIDRs for dual stack), C(proxy_env) (the environment kubeadm would run
        with; none reads the module's own on a real root), C(proxy_units) (containerd and kubelet, whose drop-ins'
        C(Environment=) proxies are read), C(static_pod_manifests), C(etcd_leftover_dirs) (C(/var/lib/etcd)),
        C(kernel_config_required), C(kernel_config_cgroup_v2), C(kernel_config_cgroup_v1),
        C(kernel_config_optional) (the system validators' lists), C(images) (none), C(registry_config_path)
        (C(/etc/containerd/certs.d)).
    type: dict
    default: {}
  custom_checks:
    description:
      - Declarative checks. Each has C(id), C(type) (V(command), V(file), V(sysctl), V(service)) and
        optionally C(severity) (V(fail) or V(warn)), C(category) and C(profiles).
      - C(command) takes C(command) (string or list), C(rc) (default 0), C(stdout_regex), C(timeout).
        C(file) takes C(path), C(exists), C(mode) (the widest allowed, octal string), C(content_regex).
        C(sysctl) takes C(name) and C(value). C(service) takes C(name) and C(state) (default V(active)).
    type: list
    elements: dict
    default: []
  site_checks_dir:
    description:
      - Directory on the host with site Python checks; each C(*.py) file defines C(CHECKS), a list of
        dicts with C(id), C(run) (a function of the check context returning a dict with C(status),
        C(observed), C(expected), C(message)) and optionally C(category), C(severity), C(profiles).
      - A missing directory means no site checks; a file that does not load is reported as a failed
        C(site.load) result.
    type: path
  root:
    description: Prefix for every path the checks read (a fixture tree or a chroot).
    type: path
    default: /
  search_path:
    description: Directories searched for tools (nvidia-smi, chronyc…); default the usual sbin and bin directories.
    type: list
    elements: path
  command_timeout:
    description: Seconds after which a command a check runs is killed (the check then fails or skips).
    type: float
    default: 10
  fail_on_failure:
    description:
      - Fail the task when a check fails that is not ignored; false returns the results only.
      - The message names the host and, with O(report_dir), its report file.
    type: bool
    default: true
  admitted_marker:
    description:
      - File (under O(root)) that marks the host admitted. When it exists, O(fresh_host_checks) are left out.
        When it is missing and no check failed, the module writes it (a change; reported, not written, in check
        mode). Empty or unset never marks.
    type: path
  fresh_host_checks:
    description: Check ids (shell patterns) left out once the host carries O(admitted_marker).
    type: list
    elements: str
    default: []
  site_checks_content:
    description:
      - Site Python checks to install in O(site_checks_dir) (under O(root)) before the checks run, file name
        (relative) to text; a changed or new file is a change. The action plugin fills it from
        O(site_checks_src).
    type: dict
    default: {}
  site_checks_src:
    description:
      - Folder on the controller whose files (recursively) the action plugin sends as O(site_checks_content).
        Empty or unset sends none.
    type: path
  textfile_dir:
    description:
      - The node exporter's textfile collector folder (under O(root)); the results are written there as
        C(aiplatform_preflight.prom) on every run (this run's output, never a change; not written in check
        mode). Empty or unset writes none. A missing folder is created (a change).
    type: path
  report_dir:
    description:
      - Folder on the controller; the action plugin writes the host's report there as C(<inventory_hostname>.json)
        (host, profiles, summary, results, elapsed_s), also in check mode, and creates the folder. Empty or unset
        writes none.
    type: str
  verdict_group_prefix:
    description:
      - When set, the action plugin adds a host that returned results to the inventory group C(<prefix>_passed) or
        C(<prefix>_failed) for the rest of the run, as M(ansible.builtin.group_by) does (no separate task per host).
        A host failed by O(fail_on_failure) is not added (Ansible applies groups from successful results only).
      - Ansible then reports the task as changed, as for M(ansible.builtin.group_by); C(changed_when) on the
        returned C(host_changed) reports the host's own change instead.
    type: str
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Every check reads only; the etcd disk probe is skipped in check mode.
      - The admission mark, the site checks and a missing textfile folder are reported as changes, not made.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
  action:
    description:
      - Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
"""

EXAMPLES = r"""
- name: Preflight a GPU worker that must show 8 GPUs with driver 535 or newer
  aiplatform.cluster.node_preflight:
    profiles: [nodes, gpu]
    settings:
      gpu_count: 8
      gpu_min_driver: "535.104"
      kernel_log_source: journal
    ignore: [swap.off]

- name: Collect the results without failing, with an operator's check
  aiplatform.cluster.node_preflight:
    profiles: [etcd]
    fail_on_failure: false
    custom_checks:
      - id: site.etcd_disk_mounted
        type: command
        command: findmnt /var/lib/etcd
  register: preflight

- name: The node_preflight role's call, one round trip per host
  aiplatform.cluster.node_preflight:
    profiles: [nodes]
    admitted_marker: /var/lib/aiplatform/preflight-admitted
    fresh_host_checks: [ports.free, kubelet.leftover_files]
    textfile_dir: /var/lib/prometheus/node-exporter
    report_dir: /srv/reports/preflight
    verdict_group_prefix: node_preflight
  register: node_preflight_report
  changed_when: node_preflight_report.host_changed
"""

RETURN = r"""
results:
  description: Every check's result, in id order.
  returned: always
  type: list
  elements: dict
  sample:
    - id: net.ip_forward
      category: kubeadm
      severity: fail
      status: fail
      ignored: false
      observed: "0"
      expected: "1"
      message: net.ipv4.ip_forward is not 1
      duration_ms: 0.05
summary:
  description: Counts per status and the ids that failed, warned and were ignored; C(ok) is false when any check failed.
  returned: always
  type: dict
  sample: {pass: 30, warn: 1, fail: 1, skip: 4, total: 36, failed: [net.ip_forward], warned: [swap.off],
           ignored: [], ok: false}
profiles:
  description: The profiles that ran.
  returned: always
  type: list
  elements: str
elapsed_s:
  description: Seconds the checks took, all together.
  returned: always
  type: float
admitted:
  description: Whether the host carried O(admitted_marker) when the module started (its fresh-host checks left out).
  returned: always
  type: bool
host:
  description: The host's inventory name (set by the action plugin).
  returned: always
  type: str
host_changed:
  description:
    - Whether the call changed the host (the admission mark, the site checks, a missing textfile folder), set by the
      action plugin. Ansible marks a result that adds the host to a group as changed (as M(ansible.builtin.group_by)'s),
      so with O(verdict_group_prefix) use C(changed_when) on this key to report the host's change only.
  returned: always
  type: bool
report_file:
  description: The host's report file on the controller.
  returned: when O(report_dir) is set
  type: str
"""

import os  # noqa: E402 (after the documentation, as Ansible modules are laid out)
import time  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402

from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_catalogue import catalogue  # noqa: E402
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_core import (  # noqa: E402
    PROFILES,
    Context,
    run_profile,
    select_checks,
    summarise,
)
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_custom import (  # noqa: E402
    declarative_checks,
    site_checks,
)
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_host_files import (  # noqa: E402
    ensure_dir,
    install_files,
    marker_text,
    put_file,
    under_root,
)
from ansible_collections.aiplatform.cluster.plugins.module_utils.preflight_report import textfile_metrics  # noqa: E402

TEXTFILE = "aiplatform_preflight.prom"


def main():
    module = AnsibleModule(
        argument_spec={
            "profiles": {"type": "list", "elements": "str", "default": ["nodes"]},
            "include": {"type": "list", "elements": "str", "default": []},
            "exclude": {"type": "list", "elements": "str", "default": []},
            "ignore": {"type": "list", "elements": "str", "default": []},
            "settings": {"type": "dict", "default": {}},
            "custom_checks": {"type": "list", "elements": "dict", "default": []},
            "site_checks_dir": {"type": "path"},
            "root": {"type": "path", "default": "/"},
            "search_path": {"type": "list", "elements": "path"},
            "command_timeout": {"type": "float", "default": 10},
            "fail_on_failure": {"type": "bool", "default": True},
            "admitted_marker": {"type": "path"},
            "fresh_host_checks": {"type": "list", "elements": "str", "default": []},
            "site_checks_content": {"type": "dict", "default": {}},
            "textfile_dir": {"type": "path"},
            # Handled by the action plugin on the controller (listed here so that they are documented and typed).
            "site_checks_src": {"type": "path"},
            "report_dir": {"type": "str"},
            "verdict_group_prefix": {"type": "str"},
        },
        supports_check_mode=True,
    )
    params = module.params
    started = time.perf_counter()
    unknown = [name for name in params["profiles"] if name not in PROFILES]
    if unknown:
        module.fail_json(msg=f"profiles: {', '.join(unknown)} not among {', '.join(PROFILES)}")
    try:
        extra = declarative_checks(params["custom_checks"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    root = params["root"]
    changed = False
    site_dir = params["site_checks_dir"] and under_root(root, params["site_checks_dir"])
    if params["site_checks_content"]:
        if not site_dir:
            module.fail_json(msg="site_checks_content: needs site_checks_dir")
        try:
            changed |= install_files(site_dir, params["site_checks_content"], module.check_mode)
        except (OSError, ValueError) as exc:
            module.fail_json(msg=f"site_checks_content: cannot install in {site_dir}: {exc}")
    marker = params["admitted_marker"] and under_root(root, params["admitted_marker"])
    admitted = bool(marker) and os.path.exists(marker)
    loaded, load_errors = site_checks(site_dir)
    registry = catalogue()
    registry.update({item.check_id: item for item in extra + loaded})
    ctx = Context(
        root=root,
        settings=params["settings"],
        profiles=params["profiles"],
        search_path=params["search_path"],
        timeout=params["command_timeout"],
        check_mode=module.check_mode,
    )
    exclude = params["exclude"] + (params["fresh_host_checks"] if admitted else [])
    chosen = select_checks(registry, params["profiles"], params["include"], exclude)
    results, summary = run_profile(ctx, chosen, params["ignore"])
    for error in load_errors:
        results.append(
            {
                "id": "site.load",
                "category": "site",
                "severity": "fail",
                "status": "fail",
                "ignored": False,
                "observed": None,
                "expected": None,
                "message": error,
                "duration_ms": 0,
            }
        )
    if load_errors:
        summary = summarise(results)
    outcome = {
        "results": results,
        "summary": summary,
        "profiles": params["profiles"],
        "elapsed_s": round(time.perf_counter() - started, 4),
        "admitted": admitted,
    }
    try:
        if marker and summary["ok"] and not admitted:
            changed |= ensure_dir(os.path.dirname(marker), check_mode=module.check_mode)
            changed |= put_file(marker, marker_text(params["fresh_host_checks"]), check_mode=module.check_mode)
        if params["textfile_dir"]:
            folder = under_root(root, params["textfile_dir"])
            changed |= ensure_dir(folder, check_mode=module.check_mode)
            if not module.check_mode:
                # This run's output, rewritten every run (an admitted host runs fewer checks): never a change.
                put_file(os.path.join(folder, TEXTFILE), textfile_metrics(outcome))
    except OSError as exc:
        module.fail_json(msg=f"cannot write on the host: {exc}", changed=changed, **outcome)
    outcome["changed"] = changed
    if summary["failed"] and params["fail_on_failure"]:
        module.fail_json(msg=f"preflight failed: {', '.join(summary['failed'])}", **outcome)
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
