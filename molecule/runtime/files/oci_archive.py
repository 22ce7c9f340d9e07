"""Write a one-layer OCI image archive (what `ctr image import` reads) from a few generated files.

Usage: python3 oci_archive.py OUTPUT.tar IMAGE_REFERENCE
No registry is reachable from the lab, so the scenario builds its own small image.
"""

import gzip
import hashlib
import io
import json
import sys
import tarfile


def _tar(members):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 1700000000
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def build(output, reference):
    files = [(f"data/file{i}.txt", (f"lab image file {i}\n" * 200).encode()) for i in range(4)]
    files.append(("etc/lab-release", b"aiplatform lab test image\n"))
    layer_tar = _tar(files)
    layer = gzip.compress(layer_tar, mtime=0)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["/bin/true"]},
            "rootfs": {"type": "layers", "diff_ids": [_digest(layer_tar)]},
        },
        sort_keys=True,
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": _digest(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": _digest(layer),
                    "size": len(layer),
                }
            ],
        },
        sort_keys=True,
    ).encode()
    index = json.dumps(
        {
            "schemaVersion": 2,
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": _digest(manifest),
                    "size": len(manifest),
                    "annotations": {"io.containerd.image.name": reference, "org.opencontainers.image.ref.name": "1"},
                }
            ],
        }
    ).encode()
    blobs = [(f"blobs/sha256/{_digest(b)[7:]}", b) for b in (layer, config, manifest)]
    with open(output, "wb") as handle:
        handle.write(_tar([("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'), ("index.json", index), *blobs]))


if __name__ == "__main__":
    build(sys.argv[1], sys.argv[2])
