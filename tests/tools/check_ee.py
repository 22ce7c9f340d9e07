"""Check the execution environment's build context as far as this machine allows (`make ee`).

Builds the collection, runs `ansible-builder create` on ee/execution-environment.yml, and checks:
- the built tarball carries the EE files (definition, its galaxy requirements, meta/execution-environment.yml,
  bindep.txt, the Python requirements it names);
- the Containerfile installs the ansible-core and ansible-runner that requirements.txt pins, and copies the
  collection tarball into the galaxy stage;
- ansible-builder's own introspection script, run on the installed tarball, finds exactly the collection's
  Python and system dependencies.
Building the image itself needs a container registry and Galaxy, which this machine cannot reach.
Exits non-zero with one line per problem.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "build" / "ee"
TARBALL = OUT / "aiplatform-cluster.tar.gz"
CONTEXT = OUT / "context"
EE_FILES = [
    "ee/execution-environment.yml",
    "ee/requirements.yml",
    "meta/execution-environment.yml",
    "meta/python-requirements.txt",
    "bindep.txt",
]


def requirement_lines(path: Path) -> list[str]:
    """Non-comment lines of a pip requirements or bindep file, without trailing comments."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def pinned(requirements: Path, name: str) -> str:
    for line in requirement_lines(requirements):
        if re.fullmatch(rf"{re.escape(name)}==\S+", line):
            return line
    raise SystemExit(f"{requirements.name}: no '{name}==' pin")


def run(*argv: str | Path) -> str:
    done = subprocess.run([str(a) for a in argv], cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{' '.join(map(str, argv))} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def build_collection() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    run("ansible-galaxy", "collection", "build", "--output-path", OUT, ".")
    (built,) = OUT.glob("aiplatform-cluster-*.tar.gz")
    built.rename(TARBALL)


def problems() -> list[str]:
    found = []
    with tarfile.open(TARBALL) as tar:
        names = set(tar.getnames())
    found += [f"built collection lacks {f}" for f in EE_FILES if f not in names]

    run(
        "ansible-builder",
        "create",
        "-f",
        "ee/execution-environment.yml",
        "-c",
        CONTEXT,
        "--output-filename",
        "Containerfile",
    )
    containerfile = (CONTEXT / "Containerfile").read_text()
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="([^"]*)"', containerfile, re.M)
    want_refs = {pinned(REPO / "requirements.txt", "ansible-core"), pinned(REPO / "requirements.txt", "ansible-runner")}
    if not refs or set(refs.group(1).split()) != want_refs:
        found.append(f"Containerfile installs {refs and refs.group(1)!r}, requirements.txt pins {sorted(want_refs)}")
    if not (CONTEXT / "_build" / "collections" / TARBALL.name).is_file():
        found.append("build context lacks the collection tarball under _build/collections")
    galaxy = yaml.safe_load((CONTEXT / "_build" / "requirements.yml").read_text())
    if {c["name"] for c in galaxy["collections"]} != {f"/build/collections/{TARBALL.name}"}:
        found.append(f"galaxy requirements name {galaxy['collections']}, not the copied tarball")

    installed = OUT / "installed"
    # --force: the checkout's own link on the collections path would otherwise count as installed.
    run("ansible-galaxy", "collection", "install", "--force", "--no-deps", "-p", installed, TARBALL)
    introspect = CONTEXT / "_build" / "scripts" / "introspect.py"
    report = yaml.safe_load(run(sys.executable, introspect, "introspect", installed))
    for kind, source in (("python", "meta/python-requirements.txt"), ("system", "bindep.txt")):
        got = sorted(line.split("#", 1)[0].strip() for line in report.get(kind) or [])
        want = sorted(requirement_lines(REPO / source))
        if got != want:
            found.append(f"introspection finds {kind} dependencies {got}, {source} lists {want}")
    return found


def main() -> int:
    build_collection()
    found = problems()
    for problem in found:
        print(f"ee: {problem}")
    if not found:
        print(f"ee: build context in {CONTEXT.relative_to(REPO)} checked (image build needs a registry: not run here)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
