"""A recording stand-in for kubeadm (the kubeadm scenario only; docs/kubeadm.md#what-the-lab-shows).

It verifies nothing about kubeadm: it records each call (argv, the kinds of the --config file, a copy of
that file) as one JSON line in /var/log/kubeadm-standin.jsonl and writes the files real kubeadm would
write, so that the collection's orchestration (order, arguments, idempotence, partial-run detection) can be
checked. `init` makes a real self-signed CA with openssl, so that the discovery hash can be checked against
it. Like kubeadm, `init` and `token create` print secrets (a token, the certificate key) on stdout.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time

LOG = "/var/log/kubeadm-standin.jsonl"
COPIES = "/var/lib/kubeadm-standin"
K8S = "/etc/kubernetes"
CP_FILES = [
    "admin.conf",
    "kubelet.conf",
    "controller-manager.conf",
    "scheduler.conf",
    "manifests/kube-apiserver.yaml",
    "manifests/kube-controller-manager.yaml",
    "manifests/kube-scheduler.yaml",
]


def option(argv, name):
    return argv[argv.index(name) + 1] if name in argv and argv.index(name) + 1 < len(argv) else None


def field(text, name):
    match = re.search(rf"^\s*{name}:\s*['\"]?([^'\"\s]+)", text, re.M)
    return match.group(1) if match else None


def write(path, text, mode=0o600):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, mode)


def kubeconfig(endpoint, user):
    return (
        f"apiVersion: v1\nkind: Config\nclusters:\n- name: kubernetes\n  cluster:\n    server: https://{endpoint}\n"
        f"contexts:\n- name: {user}@kubernetes\n  context: {{cluster: kubernetes, user: {user}}}\n"
        f"current-context: {user}@kubernetes\nusers:\n- name: {user}\n  user: {{}}\n"
    )


def control_plane_files(text, pki, with_ca):
    endpoint = field(text, "controlPlaneEndpoint") or field(text, "apiServerEndpoint") or "127.0.0.1:6443"
    for name in CP_FILES:
        content = (
            kubeconfig(endpoint, name.split(".", maxsplit=1)[0])
            if name.endswith(".conf")
            else "apiVersion: v1\nkind: Pod\n"
        )
        write(f"{K8S}/{name}", content)
    if with_ca:
        os.makedirs(pki, exist_ok=True)
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=kubernetes",
                "-keyout",
                f"{pki}/ca.key",
                "-out",
                f"{pki}/ca.crt",
            ],
            check=True,
            capture_output=True,
        )
    for name in ("sa.key", "front-proxy-ca.crt") + (() if with_ca else ("ca.crt", "ca.key")):
        # A joining control plane gets its certificates from the kubeadm-certs Secret: here, placeholders.
        write(f"{pki}/{name}", "stand-in\n")


def record(argv):
    """Log the call (and keep a copy of its --config file); the file's text."""
    config = option(argv, "--config")
    entry = {"argv": argv, "time": time.time()}
    text = ""
    if config and os.path.exists(config):
        with open(config, encoding="utf-8") as handle:
            text = handle.read()
        entry["kinds"] = re.findall(r"^kind:\s*(\S+)", text, re.M)
        os.makedirs(COPIES, mode=0o700, exist_ok=True)
        copy = f"{COPIES}/{len(os.listdir(COPIES)):03d}-{os.path.basename(config)}"
        shutil.copyfile(config, copy)
        entry["copy"] = copy
    with open(LOG, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")
    return text


def init(argv, text, pki):
    if "phase" in argv:
        print(f"[upload-certs] Using certificate key:\n{field(text, 'certificateKey') or ''}")
        return 0
    control_plane_files(text, pki, with_ca=True)
    write(f"{K8S}/super-admin.conf", kubeconfig(field(text, "controlPlaneEndpoint") or "127.0.0.1:6443", "super-admin"))
    print(
        f"Your Kubernetes control-plane has initialized successfully! --certificate-key {field(text, 'certificateKey')}"
    )
    return 0


def join(text, pki):
    if "controlPlane:" in text:
        control_plane_files(text, pki, with_ca=False)
    else:
        write(f"{K8S}/kubelet.conf", kubeconfig(field(text, "apiServerEndpoint") or "", "kubelet"))
        write(f"{K8S}/pki/ca.crt", "stand-in: the CA of the discovery\n", 0o644)
    return 0


def main(argv):
    text = record(argv)
    command = [a for a in argv if not a.startswith("-")][:3]
    pki = field(text, "certificatesDir") or f"{K8S}/pki"
    if command[:2] == ["config", "validate"]:
        if "JoinConfiguration" not in text and "InitConfiguration" not in text:
            print("no kubeadm configuration kinds", file=sys.stderr)
            return 1
        return 0
    if command[:2] == ["token", "create"]:
        print(command[2])
        return 0
    actions = {"init": lambda: init(argv, text, pki), "join": lambda: join(text, pki)}
    if command[:1] and command[0] in actions:
        return actions[command[0]]()
    print(f"kubeadm stand-in: {' '.join(argv)} is not recorded here", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
