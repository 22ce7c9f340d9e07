"""A recording stand-in for kubeadm (the kubeadm scenario only; docs/kubeadm.md#what-the-lab-shows).

It verifies nothing about kubeadm: it records each call (argv, the kinds of the --config file, a copy of
that file, the patches folder it names and the kubeletconfiguration patches found there) as one JSON line
in /var/log/kubeadm-standin.jsonl and writes the files real kubeadm would write, so that the collection's
orchestration (order, arguments, idempotence, partial-run detection) can be checked. `init` makes a real
self-signed CA with openssl, so that the discovery hash can be checked against it. Like kubeadm, `init` and
`token create` print secrets (a token, the certificate key) on stdout.

As kubeadm does, `init`, `join` and `upgrade node phase kubelet-config` write the kubelet's config.yaml: a
few fields standing for the cluster's kubelet-config ConfigMap with the `kubeletconfiguration+merge.yaml`
patch of the patches folder applied (RFC 7386; kubeadm also takes strategic and json patches, not copied
here); a patches folder that does not exist fails the call, as in kubeadm. `init` and `join` then (re)start
kubelet.service where it exists, as kubeadm does; `upgrade` does not (kubeadm leaves that to the operator).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time

import yaml

LOG = "/var/log/kubeadm-standin.jsonl"
COPIES = "/var/lib/kubeadm-standin"
K8S = "/etc/kubernetes"
KUBELET_CONFIG = "/var/lib/kubelet/config.yaml"
# `kubeadm version -o short` (the preflight's kubelet version skew check asks it): the release the scenario pins.
VERSION = "v1.34.2"
# Stands for the cluster's kubelet-config ConfigMap (kubeadm's defaults): the patch is applied over it.
CLUSTER_KUBELET_CONFIG = {
    "apiVersion": "kubelet.config.k8s.io/v1beta1",
    "kind": "KubeletConfiguration",
    "staticPodPath": "/etc/kubernetes/manifests",
    "cgroupDriver": "systemd",
    "clusterDNS": ["10.96.0.10"],
    "clusterDomain": "cluster.local",
    "rotateCertificates": True,
    "evictionHard": {"standin.available": "1%"},
}
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


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def patches_dir(argv, text):
    """The patches folder: --patches, else the --config file's (Init/Join) patches.directory."""
    if option(argv, "--patches"):
        return option(argv, "--patches")
    for document in yaml.safe_load_all(text or ""):
        if isinstance(document, dict) and document.get("kind") in ("InitConfiguration", "JoinConfiguration"):
            return (document.get("patches") or {}).get("directory")
    return None


def kubelet_patches(folder):
    return sorted(n for n in os.listdir(folder) if re.fullmatch(r"kubeletconfiguration[^+.]*\+merge\.yaml", n))


def record(argv):
    """Log the call (and keep a copy of its --config file); the file's text and the patches folder."""
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
    folder = patches_dir(argv, text)
    if folder:
        entry["patches_dir"] = folder
        if os.path.isdir(folder):
            entry["kubelet_patches"] = kubelet_patches(folder)
    with open(LOG, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")
    return text, folder


def write_kubelet_config(folder):
    """kubeadm's kubelet-config step: the cluster's configuration with the folder's patches applied."""
    config = dict(CLUSTER_KUBELET_CONFIG)
    if folder:
        if not os.path.isdir(folder):
            print(f"could not list patch files for path {folder!r}", file=sys.stderr)
            return 1
        for name in kubelet_patches(folder):
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                config = merge_patch(config, yaml.safe_load(handle))
    text = json.dumps(config, indent=2, sort_keys=True) + "\n"
    if os.path.exists(KUBELET_CONFIG):
        # As kubeadm's os.WriteFile(path, data, 0644): an existing file is truncated, its mode kept.
        with open(KUBELET_CONFIG, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        write(KUBELET_CONFIG, text, 0o644)
    return 0


def start_kubelet():
    if os.path.exists("/etc/systemd/system/kubelet.service"):
        subprocess.run(["systemctl", "restart", "kubelet.service"], check=True)


def init(argv, text, pki, folder):
    if "phase" in argv:
        print(f"[upload-certs] Using certificate key:\n{field(text, 'certificateKey') or ''}")
        return 0
    if write_kubelet_config(folder):
        return 1
    control_plane_files(text, pki, with_ca=True)
    write(f"{K8S}/super-admin.conf", kubeconfig(field(text, "controlPlaneEndpoint") or "127.0.0.1:6443", "super-admin"))
    start_kubelet()
    print(
        f"Your Kubernetes control-plane has initialized successfully! --certificate-key {field(text, 'certificateKey')}"
    )
    return 0


def join(text, pki, folder):
    if write_kubelet_config(folder):
        return 1
    if "controlPlane:" in text:
        control_plane_files(text, pki, with_ca=False)
    else:
        write(f"{K8S}/kubelet.conf", kubeconfig(field(text, "apiServerEndpoint") or "", "kubelet"))
        write(f"{K8S}/pki/ca.crt", "stand-in: the CA of the discovery\n", 0o644)
    start_kubelet()
    return 0


def upgrade_kubelet_config(folder):
    if not os.path.exists(f"{K8S}/kubelet.conf"):
        print("kubeadm stand-in: this node has not joined (no kubelet.conf)", file=sys.stderr)
        return 1
    return write_kubelet_config(folder)


def validate(text):
    if "JoinConfiguration" not in text and "InitConfiguration" not in text:
        print("no kubeadm configuration kinds", file=sys.stderr)
        return 1
    return 0


def answer(text):
    print(text)
    return 0


def main(argv):
    text, folder = record(argv)
    command = [a for a in argv if not a.startswith("-")][:3]
    pki = field(text, "certificatesDir") or f"{K8S}/pki"
    actions = {
        ("config", "validate"): lambda: validate(text),
        ("version",): lambda: answer(VERSION),
        ("token", "create"): lambda: answer(command[2]),
        ("upgrade", "node", "phase"): lambda: upgrade_kubelet_config(folder),
        ("init",): lambda: init(argv, text, pki, folder),
        ("join",): lambda: join(text, pki, folder),
    }
    for prefix, action in actions.items():
        if tuple(command[: len(prefix)]) == prefix and (prefix[0] != "upgrade" or "kubelet-config" in argv):
            return action()
    print(f"kubeadm stand-in: {' '.join(argv)} is not recorded here", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
