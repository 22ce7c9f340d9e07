"""Bad input stops the play in the role's first task, before any task could change a host (issue 13).

One ansible-playbook run per role (etcd, kube_apiserver, containerd, kubelet, node_os) with several bad
inputs at once, in the forms `-e` and the inventory give them, against local hosts: the play must fail in
the role's input check, name every variable at fault, and report changed=0 for every host. The plays run
in check mode as a second guard, so a rule that let bad input through could still change nothing here.
The etcd membership check runs on per-host data folders under tmp_path.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from local_playbook import run_local_playbook

LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
PREFIX = "sha256:0123456789abcdef"


def role_play(hosts: str, role: str, extra_tasks: str = "") -> str:
    return f"""
- hosts: {hosts}
  gather_facts: false
  check_mode: true
  roles:
    - role: aiplatform.cluster.topology
  tasks:
    - ansible.builtin.include_role:
        name: aiplatform.cluster.{role}
{extra_tasks}
    - ansible.builtin.debug:
        msg: ROLE RAN PAST ITS INPUT CHECK
"""


def flat(result) -> str:
    return " ".join((result.stdout + result.stderr).split())


def assert_stopped_in(result, task: str, messages: list[str], hosts: list[str]):
    output = flat(result)
    assert result.returncode == 2, output[-3000:]
    before_failure = result.stdout[: result.stdout.index("fatal:")]
    failed = re.findall(r"TASK \[([^\]]+)\]", before_failure)[-1]
    assert failed.endswith(task), (failed, output[-3000:])
    for message in messages:
        assert message in output, (message, output[-3000:])
    for host in hosts:
        assert re.search(rf"{host} *: ok=\d+ +changed=0 ", result.stdout), (host, result.stdout[-2000:])
    assert "ROLE RAN PAST ITS INPUT CHECK" not in output


def test_etcd_refuses_bad_input_before_any_change(tmp_path):
    inventory = {
        "all": {
            "vars": LOCAL,
            "children": {
                "etcd_main": {
                    "hosts": {
                        "cp1": {"etcd_address": "10.0.0.1"},
                        "cp2": {"etcd_address": "etcd2.example.org"},
                        "cp3": {"etcd_address": "10.0.0.3"},
                    }
                }
            },
        }
    }
    extra = {
        "etcd_cluster": "main",
        "etcd_pki_controller_dir": str(tmp_path / "pki"),
        "etcd_backup_keep": "0",
        "etcd_archive_url": "github.com/etcd-io/etcd/releases/etcd.tar.gz",
        "etcd_archive_checksum": PREFIX,
        "etcd_backup_on_calendar": "every hour",
        "etcd_cluster_overrides": {"main": {"auto_compaction_mode": "hourly"}},
    }
    result = run_local_playbook(tmp_path, role_play("etcd_main", "etcd"), inventory, extra)
    assert_stopped_in(
        result,
        "Check the etcd inputs",
        [
            "etcd_backup_keep: must be a whole number of 1 or more (got 0)",
            "etcd_archive_url: must be an absolute URL with a scheme",
            "etcd_archive_checksum: has 16 hex digits; a sha256 digest has 64",
            "etcd_backup_on_calendar: 'every' is not a weekday",
            "etcd_cluster_overrides.main.auto_compaction_mode: must be one of periodic, revision",
            "etcd_address of cp2: must be an IP address",
        ],
        ["cp1", "cp2", "cp3"],
    )


MEMBERSHIP_PLAY = """
- hosts: etcd_main
  gather_facts: false
  check_mode: true
  roles:
    - role: aiplatform.cluster.topology
  tasks:
    - ansible.builtin.include_role:
        name: aiplatform.cluster.etcd
        tasks_from: validate
        public: true
    - ansible.builtin.include_role:
        name: aiplatform.cluster.etcd
        tasks_from: settings
        public: true
    - ansible.builtin.include_role:
        name: aiplatform.cluster.etcd
        tasks_from: membership
        public: true
    - ansible.builtin.debug:
        msg: MEMBERSHIP PASSED
      run_once: true
"""


def membership_run(tmp_path: Path, with_data: list[str]):
    """cp1..cp3, each with its own data folder under tmp_path; those in ``with_data`` hold a member's data."""
    hosts = {}
    for index in (1, 2, 3):
        data_dir = tmp_path / f"cp{index}"
        if f"cp{index}" in with_data:
            (data_dir / "member").mkdir(parents=True)
        hosts[f"cp{index}"] = {
            "etcd_address": f"10.0.0.{index}",
            "etcd_cluster_overrides": {"main": {"data_dir": str(data_dir)}},
        }
    inventory = {"all": {"vars": LOCAL, "children": {"etcd_main": {"hosts": hosts}}}}
    extra = {"etcd_archive_checksum": "sha256:" + "0" * 64, "etcd_pki_controller_dir": str(tmp_path / "pki")}
    return run_local_playbook(tmp_path, MEMBERSHIP_PLAY, inventory, extra)


def test_etcd_backup_keep_not_a_number_is_refused_by_the_argument_spec(tmp_path):
    inventory = {"all": {"vars": LOCAL, "children": {"etcd_main": {"hosts": {"cp1": {"etcd_address": "10.0.0.1"}}}}}}
    extra = {"etcd_pki_controller_dir": str(tmp_path), "etcd_backup_keep": "1d"}
    result = run_local_playbook(tmp_path, role_play("etcd_main", "etcd"), inventory, extra)
    assert_stopped_in(
        result,
        "Validating arguments against arg spec 'main' - One etcd cluster (a cluster of "
        "topology_etcd_clusters) with TLS, tuning, rolling restarts and backups",
        ["argument 'etcd_backup_keep' is of type str and we were unable to convert to int"],
        ["cp1"],
    )


def test_etcd_refuses_a_new_member_next_to_a_running_cluster(tmp_path):
    result = membership_run(tmp_path, ["cp1", "cp2"])
    output = flat(result)
    assert result.returncode == 2, output[-3000:]
    assert "Refuse a new member next to members of a running cluster main" in output
    # No etcd answers here: cp3 cannot be found in a member list, and is refused.
    assert "etcd cluster main: cp1, cp2 hold its data (a running cluster); cp3 hold none and could not be" in output
    assert "checked against its member list (cannot run /opt/etcd/v3.5.21/etcdctl: not an executable file)" in output
    assert "initial-cluster-state existing" in output
    assert "MEMBERSHIP PASSED" not in output


def test_etcd_membership_passes_for_a_new_or_a_running_cluster(tmp_path):
    for case, with_data in (("new", []), ("running", ["cp1", "cp2", "cp3"])):
        (tmp_path / case).mkdir()
        result = membership_run(tmp_path / case, with_data)
        assert result.returncode == 0, (case, flat(result)[-3000:])
        assert "MEMBERSHIP PASSED" in result.stdout


def test_kube_apiserver_refuses_bad_input_before_any_change(tmp_path):
    inventory = {
        "all": {
            "vars": LOCAL,
            "children": {
                "etcd_main": {"hosts": {"cp1": {"etcd_address": "10.0.0.1"}}},
                "kube_control_plane": {"hosts": {"cp1": {"kube_apiserver_advertise_address": "cp1.example.org"}}},
            },
        }
    }
    extra = {
        "kube_apiserver_profile": "development",
        "etcd_pki_controller_dir": str(tmp_path),
        "kube_apiserver_admission_plugins": "PodSecurity,AlwaysAdmit",
        "kube_apiserver_extra_args": {"client-ca-file": "", "kubelet-certificate-authority": ""},
    }
    result = run_local_playbook(tmp_path, role_play("kube_control_plane", "kube_apiserver"), inventory, extra)
    assert_stopped_in(
        result,
        "Check the kube-apiserver settings",
        [
            "kube_apiserver_extra_args must not set ['client-ca-file', 'kubelet-certificate-authority']",
            "kube_apiserver_admission_plugins must not enable AlwaysAdmit",
            "kube_apiserver_advertise_address: must be an IP address",
        ],
        ["cp1"],
    )


NODES = {
    "all": {
        "vars": LOCAL,
        "children": {"kube_node": {"hosts": {"n1": {}}}},
    }
}


def test_containerd_refuses_bad_input_before_any_change(tmp_path):
    extra = {
        "containerd_install_method": "archive",
        "containerd_runc_checksum": PREFIX,
        "containerd_registry_mirrors": [
            {
                "registry": "docker.io",
                "mirrors": [{"host": "http://mirror:5000"}, {"host": "https://m", "skip_verify": "true"}],
            }
        ],
    }
    result = run_local_playbook(tmp_path, role_play("kube_node", "containerd"), NODES, extra)
    assert_stopped_in(
        result,
        "Check the containerd variables",
        [
            "containerd_runc_checksum: has 16 hex digits",
            "containerd_registry_mirrors[0].mirrors[0].host: is plain HTTP",
            "containerd_registry_mirrors[0].mirrors[1].skip_verify: turns TLS verification off",
        ],
        ["n1"],
    )


def test_kubelet_refuses_bad_input_before_any_change(tmp_path):
    extra = {
        "kubelet_system_reserved_override": {"cpu": "-1"},
        "kubelet_kube_reserved_override": {"memory": "-2Gi"},
        "kubelet_config_extra": {
            "streamingConnectionIdleTimeout": "0",
            "featureGates": {"RotateKubeletServerCertificate": False},
        },
    }
    result = run_local_playbook(tmp_path, role_play("kube_node", "kubelet"), NODES, extra)
    assert_stopped_in(
        result,
        "Check the kubelet variables",
        [
            "kubelet_system_reserved_override.cpu: must be a non-negative amount",
            "kubelet_kube_reserved_override.memory: must be a non-negative amount",
            "kubelet_config_extra.streamingConnectionIdleTimeout: must be a non-zero duration",
            "kubelet_config_extra.featureGates.RotateKubeletServerCertificate: must not be turned off",
        ],
        ["n1"],
    )


def test_node_os_refuses_bad_input_before_any_change(tmp_path):
    extra = {
        "node_os_pid_max": "0",
        "node_os_chrony_server_options": "iburst\nallow all",
        "node_os_sysctl_file": "/etc/sysctl.conf",
    }
    result = run_local_playbook(tmp_path, role_play("kube_node", "node_os"), NODES, extra)
    assert_stopped_in(
        result,
        "Check the node_os variables",
        [
            "node_os_pid_max: must be 1 or more (0 leaves the host without it)",
            "node_os_chrony_server_options: must be chrony server options on one line",
            "node_os_sysctl_file: must be a /etc/sysctl.d/<name>.conf file",
        ],
        ["n1"],
    )
