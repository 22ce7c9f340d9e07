"""Provide ansible-test's pip bootstrap script from PyPI.

ansible-test creates each sanity venv without pip and installs pip by running a get-pip script it
downloads from ci-files.testing.ansible.com, a host this network cannot reach. It first looks for the
script in ~/.ansible/test/cache/get_pip_<version>.py. This tool downloads the same pip release from
PyPI as a wheel and writes, at that path, a script that does what get-pip does: `pip install` run from
the wheel itself. Run it with the Python of the venv that holds ansible-test.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

from ansible_test._internal.python_requirements import get_venv_packages
from pip_download import pip_download

SCRIPT = '''"""get-pip replacement written by tests/tools/ansible_test_pip_bootstrap.py."""
import os
import runpy
import sys

# Like get-pip.py: install pip with the arguments given, running pip from its own wheel.
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "{wheel}"))
sys.argv = ["pip", "install", "--upgrade", "--force-reinstall", *args]
runpy.run_module("pip", run_name="__main__", alter_sys=True)
'''


def main() -> int:
    version = get_venv_packages(types.SimpleNamespace(version=f"{sys.version_info[0]}.{sys.version_info[1]}"))["pip"]
    cache = Path.home() / ".ansible" / "test" / "cache"
    script = cache / f"get_pip_{version.replace('.', '_')}.py"
    wheel = pip_download("pip", version, cache)
    script.write_text(SCRIPT.format(wheel=wheel.name), encoding="utf-8")
    print(f"ansible-test pip {version} bootstrap: {script}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
