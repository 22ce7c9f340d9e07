"""The etcd unit's ExecStart, rendered by the role, holds every setting as a flag and passes kube-bench's CIS
1.12 etcd checks (2.1-2.7, 1.1.11, 1.1.12) as kube-bench evaluates them (tests/tools/cis_etcd.py, from the
vendored definitions); weakened command lines fail the right check.

The role's validate and settings entry points and its unit template run with ansible-playbook against local
hosts (the scenario apiserver's layout: main on cp1-cp3, events on cp2, cp3 and ev1), once with the defaults
and once with per-cluster overrides. The rendered ExecStart is split as systemd splits it, and checked as the
line `ps -ef` prints for that process. 1.1.11 and 1.1.12 run kube-bench's own audit scripts with /bin/sh here,
`ps` answering with that line and the data directory a real folder under tmp_path.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import cis_etcd
import pytest
from local_playbook import run_local_playbook

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "roles/etcd/templates/etcd.service.j2"
PLAY = """
- hosts: etcd_{cluster}
  gather_facts: false
  vars:
    etcd_cluster: {cluster}
  tasks:
    - ansible.builtin.include_role:
        name: aiplatform.cluster.etcd
        tasks_from: validate
        public: true
    - ansible.builtin.include_role:
        name: aiplatform.cluster.etcd
        tasks_from: settings
        public: true
    - ansible.builtin.template:
        src: {template}
        dest: "{{{{ etcd_unit_out }}}}/{{{{ inventory_hostname }}}}-{cluster}.service"
        mode: "0644"
"""
INVENTORY = {
    "all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
        "children": {
            "etcd_main": {"hosts": {f"cp{i}": {} for i in (1, 2, 3)}},
            "etcd_events": {"hosts": {"cp2": {}, "cp3": {}, "ev1": {}}},
        },
    }
}
ADDRESSES = {"cp1": "10.0.0.1", "cp2": "10.0.0.2", "cp3": "10.0.0.3", "ev1": "10.0.0.4"}
DEFAULT_SUITES = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
]


def render(tmp_path, extra=None):
    """Render the unit of every member of both clusters; {(host, cluster): unit text}."""
    out = tmp_path / "units"
    out.mkdir(exist_ok=True)
    inventory = {
        "all": {
            **INVENTORY["all"],
            "children": {
                group: {"hosts": {h: {"etcd_address": ADDRESSES[h]} for h in spec["hosts"]}}
                for group, spec in INVENTORY["all"]["children"].items()
            },
        }
    }
    variables = {
        "etcd_archive_checksum": "sha256:" + "0" * 64,
        "etcd_pki_controller_dir": str(tmp_path / "pki"),
        "etcd_unit_out": str(out),
        **(extra or {}),
    }
    play = "".join(PLAY.format(cluster=c, template=TEMPLATE) for c in ("main", "events"))
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    result = run_local_playbook(work, play, inventory, variables)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return {tuple(p.stem.split("-", 1)): p.read_text(encoding="utf-8") for p in out.glob("*.service")}


def exec_start(unit):
    """ExecStart's argv as systemd reads it: a line ending in a backslash goes on with the next one (the
    backslash becomes a space), then the value is split into words with its quoting (shell-like here)."""
    logical, pending = [], ""
    for line in unit.splitlines():
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    (command,) = [line.split("=", 1)[1] for line in logical if line.startswith("ExecStart=")]
    return shlex.split(command)


def systemd_accepts(unit, tmp_path, binary):
    """systemd-analyze verify (the role's validate on the hosts) on the unit, its etcd binary replaced by
    /bin/true (verify wants an executable): the continuation lines and the quoting parse."""
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed here")
    path = tmp_path / "etcd-unit-check.service"
    path.write_text(unit.replace(f"ExecStart={binary} ", "ExecStart=/bin/true "), encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    return True


def flags(argv):
    """{name: value} of ``--name=value`` arguments; each flag at most once."""
    pairs = [arg[2:].split("=", 1) for arg in argv[1:]]
    assert all(len(p) == 2 for p in pairs), argv
    names = [p[0] for p in pairs]
    assert len(names) == len(set(names)), names
    return dict(pairs)


@pytest.fixture(scope="module", name="defaults")
def fixture_defaults(tmp_path_factory):
    return render(tmp_path_factory.mktemp("etcd-defaults"))


@pytest.fixture(scope="module", name="overridden")
def fixture_overridden(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("etcd-overrides")
    return render(
        tmp_path,
        {
            "etcd_pki_dir": "/etc/etcd pki",  # a space: quoted for systemd, one argument each
            "etcd_cipher_suites": DEFAULT_SUITES[:2],
            "etcd_cluster_overrides": {
                "events": {
                    "quota_backend_bytes": "4GiB",
                    "heartbeat_interval": 150,
                    "election_timeout": 1500,
                    "metrics": "extensive",
                    "data_dir": "/srv/etcd-events",
                    "install_method": "package",
                }
            },
        },
    )


def expected_flags(host, cluster, *, pki="/etc/etcd/pki", data_dir=None, suites=None, **tuning):
    """Every key of the former etcd.conf.yml, as a flag (written out here, not read from the role)."""
    ports = {"main": (2379, 2380, 2381), "events": (2382, 2383, 2384)}[cluster]
    members = {"main": ["cp1", "cp2", "cp3"], "events": ["cp2", "cp3", "ev1"]}[cluster]
    address = ADDRESSES[host]
    settings = {
        "quota-backend-bytes": str(8 * 1024**3),
        "heartbeat-interval": "100",
        "election-timeout": "1000",
        "metrics": "basic",
    } | tuning
    return {
        "name": host,
        "data-dir": data_dir or f"/var/lib/etcd/{cluster}",
        "listen-client-urls": f"https://{address}:{ports[0]},https://127.0.0.1:{ports[0]}",
        "advertise-client-urls": f"https://{address}:{ports[0]}",
        "listen-peer-urls": f"https://{address}:{ports[1]}",
        "initial-advertise-peer-urls": f"https://{address}:{ports[1]}",
        "initial-cluster": ",".join(f"{m}=https://{ADDRESSES[m]}:{ports[1]}" for m in members),
        "initial-cluster-token": f"etcd-{cluster}",
        "initial-cluster-state": "new",
        "listen-metrics-urls": f"http://127.0.0.1:{ports[2]}",
        "auto-compaction-mode": "periodic",
        "auto-compaction-retention": "1h",
        "snapshot-count": "100000",
        "max-request-bytes": "1572864",
        "cert-file": f"{pki}/{cluster}-server.crt",
        "key-file": f"{pki}/{cluster}-server.key",
        "client-cert-auth": "true",
        "trusted-ca-file": f"{pki}/ca.crt",
        "auto-tls": "false",
        "peer-cert-file": f"{pki}/{cluster}-peer.crt",
        "peer-key-file": f"{pki}/{cluster}-peer.key",
        "peer-client-cert-auth": "true",
        "peer-trusted-ca-file": f"{pki}/ca.crt",
        "peer-auto-tls": "false",
        "cipher-suites": ",".join(DEFAULT_SUITES if suites is None else suites),
        "logger": "zap",
        "log-outputs": "stderr",
    } | settings


def sh(script):
    """kube-bench's runAudit: /bin/sh with the script on stdin, stdout and stderr together."""
    done = subprocess.run(["/bin/sh"], input=script, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout + done.stderr


def results(argv, *, env_output="", data_dir_mode=0o700, owner_output="etcd:etcd\n", tmp_path, pid=4242):
    """Every check on one etcd process with ``argv``: section 2 on its `ps -ef` line (and ``env_output`` as
    its environment), 1.1.11 by kube-bench's script through /bin/sh with the data directory made under
    tmp_path, 1.1.12's owner from ``owner_output`` (no etcd account on this machine: the lab runs it)."""
    checks = cis_etcd.etcd_checks()
    line = cis_etcd.ps_ef_line(argv, pid)
    found = {}
    for check_id in cis_etcd.ETCD_CHECKS:
        found[check_id] = cis_etcd.evaluate(checks[check_id], line + "\n", env_output)
    data_dir = next((a.split("=", 1)[1] for a in argv if a.startswith("--data-dir=")), "")
    if data_dir:
        local = tmp_path / data_dir.lstrip("/")
        local.mkdir(parents=True, exist_ok=True)
        local.chmod(data_dir_mode)
        line = line.replace(f"--data-dir={data_dir}", f"--data-dir={local}")
    found["1.1.11"] = cis_etcd.run_check(checks["1.1.11"], cis_etcd.for_process(sh, pid, line))
    found["1.1.12"] = cis_etcd.evaluate(checks["1.1.12"], owner_output)
    return found


def failing(found):
    return sorted(check_id for check_id, result in found.items() if not result.passed)


def test_default_units_hold_every_setting_as_a_flag(defaults, tmp_path):
    assert sorted(defaults) == sorted(
        [("cp1", "main"), ("cp2", "main"), ("cp3", "main"), ("cp2", "events"), ("cp3", "events"), ("ev1", "events")]
    )
    for (host, cluster), unit in defaults.items():
        argv = exec_start(unit)
        assert argv[0] == "/opt/etcd/v3.5.21/etcd"
        assert flags(argv) == expected_flags(host, cluster), (host, cluster)
        assert systemd_accepts(unit, tmp_path, argv[0])
        assert "\nGroup=etcd\n" in unit
        # No config file, no environment: etcd reads nothing beside these flags.
        assert "--config-file" not in unit and "Environment" not in unit
        # Client flags before their peer-* twins (kube-bench takes a flag's first occurrence).
        names = [a.split("=", 1)[0] for a in argv]
        for flag in ("cert-file", "key-file", "client-cert-auth", "trusted-ca-file", "auto-tls"):
            assert names.index(f"--{flag}") < names.index(f"--peer-{flag}")


def test_overrides_reach_the_flags_of_their_cluster_only(overridden, tmp_path):
    main = flags(exec_start(overridden[("cp2", "main")]))
    events_argv = exec_start(overridden[("cp2", "events")])
    assert events_argv[0] == "/usr/bin/etcd"
    common = {"pki": "/etc/etcd pki", "suites": DEFAULT_SUITES[:2]}
    assert main == expected_flags("cp2", "main", **common)
    assert flags(events_argv) == expected_flags(
        "cp2",
        "events",
        data_dir="/srv/etcd-events",
        **common,
        **{
            "quota-backend-bytes": str(4 * 1024**3),
            "heartbeat-interval": "150",
            "election-timeout": "1500",
            "metrics": "extensive",
        },
    )
    assert '--cert-file="/etc/etcd pki/events-server.crt"' in overridden[("cp2", "events")]
    assert systemd_accepts(overridden[("cp2", "events")], tmp_path, "/usr/bin/etcd")


@pytest.mark.parametrize("variant", ["defaults", "overridden"])
def test_every_rendered_unit_passes_every_check(variant, request, tmp_path):
    for (host, cluster), unit in request.getfixturevalue(variant).items():
        found = results(exec_start(unit), tmp_path=tmp_path / host / cluster)
        assert sorted(found) == sorted(cis_etcd.ETCD_CHECKS + cis_etcd.DATA_DIR_CHECKS)
        assert failing(found) == [], (host, cluster, {k: v.reason for k, v in found.items()})


def test_the_former_config_file_command_line_fails_as_kube_bench_saw_it(tmp_path):
    """The reason for the change: with --config-file, kube-bench finds none of the settings."""
    found = results(["/opt/etcd/v3.5.1/etcd", "--config-file", "/etc/etcd/main/etcd.conf.yml"], tmp_path=tmp_path)
    # 2.3 and 2.6 pass on an absent flag; 2.7 is not scored (WARN); 1.1.11 falls back to $etcddatadir.
    assert failing(found) == ["1.1.11", "2.1", "2.2", "2.4", "2.5", "2.7"]
    assert found["2.7"].state == cis_etcd.WARN and found["2.1"].state == cis_etcd.FAIL


WEAKENED = {
    "client-cert-auth=false": ({"--client-cert-auth": "--client-cert-auth=false"}, ["2.2"]),
    "auto-tls=true": ({"--auto-tls": "--auto-tls=true"}, ["2.3"]),
    "bare --auto-tls": ({"--auto-tls": "--auto-tls"}, ["2.3"]),
    "no --cert-file": ({"--cert-file": None}, ["2.1"]),
    "no --key-file": ({"--key-file": None}, ["2.1"]),
    "no --peer-cert-file": ({"--peer-cert-file": None}, ["2.4"]),
    "peer-client-cert-auth=false": ({"--peer-client-cert-auth": "--peer-client-cert-auth=false"}, ["2.5"]),
    "no --peer-client-cert-auth": ({"--peer-client-cert-auth": None}, ["2.5"]),
    "peer-auto-tls=true": ({"--peer-auto-tls": "--peer-auto-tls=true"}, ["2.6"]),
    "no --trusted-ca-file": ({"--trusted-ca-file": None}, ["2.7"]),
    "no --data-dir": ({"--data-dir": None}, ["1.1.11"]),
}


@pytest.mark.parametrize("case", sorted(WEAKENED))
def test_a_weakened_command_line_fails_its_check(case, defaults, tmp_path):
    changes, expected = WEAKENED[case]
    argv = []
    for arg in exec_start(defaults[("cp1", "main")]):
        name = arg.split("=", 1)[0]
        if name in changes:
            if changes[name] is not None:
                argv.append(changes[name])
        else:
            argv.append(arg)
    assert len(argv) < len(exec_start(defaults[("cp1", "main")])) or argv != exec_start(defaults[("cp1", "main")])
    assert failing(results(argv, tmp_path=tmp_path)) == expected


def test_a_weak_data_directory_fails_1_1_11_and_1_1_12(defaults, tmp_path):
    argv = exec_start(defaults[("cp1", "main")])
    assert failing(results(argv, data_dir_mode=0o755, tmp_path=tmp_path / "mode")) == ["1.1.11"]
    assert failing(results(argv, data_dir_mode=0o750, tmp_path=tmp_path / "group")) == ["1.1.11"]
    assert failing(results(argv, owner_output="root:root\n", tmp_path=tmp_path / "owner")) == ["1.1.12"]
    # The owner as stat prints it for a real folder here (root's): the audit script through /bin/sh.
    checks = cis_etcd.etcd_checks()
    line = cis_etcd.ps_ef_line(argv).replace("--data-dir=/var/lib/etcd/main", f"--data-dir={tmp_path}")
    assert not cis_etcd.run_check(checks["1.1.12"], cis_etcd.for_process(sh, 4242, line)).passed
    assert os.stat(tmp_path).st_uid == os.getuid()


def test_an_etcd_environment_variable_is_read_where_the_flag_is_missing(defaults, tmp_path):
    """kube-bench reads /proc/<pid>/environ when a flag is not on the command line: ETCD_AUTO_TLS=true with
    no --auto-tls fails 2.3; beside --auto-tls=false the flag wins."""
    argv = exec_start(defaults[("cp1", "main")])
    without = [a for a in argv if not a.startswith("--auto-tls")]
    env = "PATH=/usr/bin\nETCD_AUTO_TLS=true\n"
    assert failing(results(without, env_output=env, tmp_path=tmp_path / "a")) == ["2.3"]
    assert failing(results(argv, env_output=env, tmp_path=tmp_path / "b")) == []


def test_two_processes_on_one_host_kube_bench_view_and_per_process(defaults, tmp_path):
    """kube-bench reads both lines as one output: a flag's first occurrence decides, so a weakened second
    process passes there; evaluated one process at a time, it fails."""
    checks = cis_etcd.etcd_checks()
    main = cis_etcd.ps_ef_line(exec_start(defaults[("cp2", "main")]), 100)
    weak_argv = [
        a.replace("--peer-client-cert-auth=true", "--peer-client-cert-auth=false")
        for a in exec_start(defaults[("cp2", "events")])
    ]
    events = cis_etcd.ps_ef_line(weak_argv, 200)
    host_view = {i: cis_etcd.evaluate(checks[i], f"{main}\n{events}\n") for i in cis_etcd.ETCD_CHECKS}
    assert failing(host_view) == []
    per_process = {i: cis_etcd.evaluate(checks[i], f"{events}\n") for i in cis_etcd.ETCD_CHECKS}
    assert failing(per_process) == ["2.5"]
    # 1.1.11 on the host: the last --data-dir that exists is the one stat'ed.
    strict, loose = tmp_path / "main", tmp_path / "events"
    strict.mkdir(mode=0o700)
    loose.mkdir(mode=0o755)
    loose.chmod(0o755)
    ps_output = f"{main}\n{events}\n".replace("/var/lib/etcd/main", str(strict)).replace(
        "/var/lib/etcd/events", str(loose)
    )
    shim = "ps() { printf '%s' " + shlex.quote(ps_output) + "; }\n"
    assert cis_etcd.run_check(checks["1.1.11"], lambda script: sh(shim + script)).state == cis_etcd.FAIL
    loose.chmod(0o700)
    assert cis_etcd.run_check(checks["1.1.11"], lambda script: sh(shim + script)).passed
