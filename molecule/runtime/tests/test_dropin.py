"""The NVIDIA container toolkit's containerd drop-in survives the containerd role (kubespray#12277 and
others lost the NVIDIA runtime when a re-templated config.toml dropped it): config.toml imports the
drop-in folder, and a run of the role leaves a file it did not write there, containerd still loading
the runtime it declares (``containerd config dump`` reads the files as the daemon does at start)."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / "tests" / "tools"))
from scenario_playbook import run_scenario_playbook

testinfra_hosts = ["podman://molecule-runtime-gpu1"]
PLAYBOOK = Path(__file__).resolve().parents[1] / "containerd_again.yml"
DROP_IN = "/etc/containerd/conf.d/99-nvidia.toml"
CRI = '[plugins."io.containerd.grpc.v1.cri"'
# What nvidia-ctk adds for the toolkit installed by the GPU Operator (toolkit.installDir /usr/local/nvidia).
NVIDIA = (
    '\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]\n'
    '  runtime_type = "io.containerd.runc.v2"\n'
    '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]\n'
    '  BinaryName = "/usr/local/nvidia/toolkit/nvidia-container-runtime"\n'
    "  SystemdCgroup = true\n"
)


def cri_section(dump):
    """The CRI plugin's tables of a ``containerd config dump``, as text."""
    lines, inside = [], False
    for line in dump.splitlines():
        header = line.strip().startswith("[")
        if header:
            inside = line.strip().startswith(CRI)
        if inside:
            lines.append(line.strip())
    return "\n".join(lines) + "\n"


def test_config_imports_the_drop_in_folder(host):
    assert 'imports = ["/etc/containerd/conf.d/*.toml"]' in host.file("/etc/containerd/config.toml").content_string
    assert host.file("/etc/containerd/conf.d").is_directory


def test_nvidia_drop_in_survives_the_role(host):
    before = host.check_output("containerd config dump")
    assert "runtimes.nvidia" not in before
    # As nvidia-ctk writes a drop-in for a version 2 config: containerd 1.x lets an imported file replace
    # a plugin's whole section, so the drop-in carries the CRI plugin's current settings and the runtime.
    text = "version = 2\n\n" + cri_section(before) + NVIDIA
    host.run_expect([0], f"cat > {DROP_IN} <<'EOF'\n{text}EOF")
    try:
        rc, out = run_scenario_playbook(PLAYBOOK, {})
        assert rc == 0, out
        assert host.file(DROP_IN).content_string == text
        after = host.check_output("containerd config dump")
        assert '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]' in after
        assert 'BinaryName = "/usr/local/nvidia/toolkit/nvidia-container-runtime"' in after
        assert 'config_path = "/etc/containerd/certs.d"' in after
    finally:
        host.run(f"rm -f {DROP_IN}")
