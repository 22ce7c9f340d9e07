#!/usr/bin/env bash
# Build containerd-stargz-grpc from Debian 12's packaged stargz-snapshotter library (0.12.0) and
# tests/lab/stargz/main.go, in a throwaway lab container, into build/stargz-grpc/. No Debian package
# ships the daemon and upstream downloads are unreachable here. The binary is kept per recipe hash
# outside the clone too (as the lab image is kept in podman's storage): a fresh clone on this machine
# copies it instead of building it again (minutes of CPU on 2 cores); a changed recipe builds anew.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build/stargz-grpc
hash=$(cat tests/lab/build-stargz-grpc.sh tests/lab/stargz/main.go | sha256sum | cut -c1-16)
if [ -x "$out/containerd-stargz-grpc" ] && [ "$(cat "$out/recipe" 2>/dev/null)" = "$hash" ]; then
  exit 0
fi
kept=${XDG_CACHE_HOME:-$HOME/.cache}/aiplatform-lab/stargz-grpc-$hash
if [ -x "$kept/containerd-stargz-grpc" ]; then
  mkdir -p "$out"
  cp "$kept/containerd-stargz-grpc" "$out/containerd-stargz-grpc"
  echo "$hash" > "$out/recipe"
  echo "copied $out/containerd-stargz-grpc from $kept"
  exit 0
fi
name=molecule-runtime-stargz-build-$$
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/tests/lab/containers.conf}
trap 'podman rm -f "$name" >/dev/null 2>&1 || true' EXIT
podman run -d --name "$name" --label owner=molecule localhost/aiplatform-lab:current sleep infinity >/dev/null
podman exec "$name" mkdir -p /root/go/src/stargzgrpc
podman cp tests/lab/stargz/main.go "$name:/root/go/src/stargzgrpc/main.go"
podman exec "$name" bash -euc '
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends golang-go golang-github-containerd-stargz-snapshotter-dev >/dev/null
  cd /root/go/src/stargzgrpc
  GO111MODULE=off GOPATH=/root/go:/usr/share/gocode CGO_ENABLED=0 go build -o /root/containerd-stargz-grpc .'
mkdir -p "$out"
podman cp "$name:/root/containerd-stargz-grpc" "$out/containerd-stargz-grpc.new"
mv "$out/containerd-stargz-grpc.new" "$out/containerd-stargz-grpc"
echo "$hash" > "$out/recipe"
mkdir -p "$kept" && cp "$out/containerd-stargz-grpc" "$kept/containerd-stargz-grpc"
echo "built $out/containerd-stargz-grpc ($hash)"
