"""Download one wheel from the package index into a folder, unless a matching one is already there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def pip_download(name, version, folder):
    """The path of ``name``-``version``'s wheel in ``folder``, fetched with this Python's pip if missing."""
    folder = Path(folder)
    pattern = f"{name.replace('-', '_')}-{version}-*.whl"
    found = sorted(folder.glob(pattern))
    if not found:
        folder.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:"]
        subprocess.run([*command, "-d", str(folder), f"{name}=={version}"], check=True)
        found = sorted(folder.glob(pattern))
    return found[0]
