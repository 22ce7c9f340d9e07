#!/usr/bin/env bash
# Build the lab's base image (Debian 12 with systemd) from Debian's mirror, without a registry.
# The tag carries a hash of this recipe, so the image is rebuilt only when the recipe changes.
set -euo pipefail

repo=${LAB_IMAGE_REPO:-localhost/aiplatform-lab}
suite=bookworm
mirror=${LAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# python3-apt: ansible's apt module needs it and would otherwise install it on every host of every run.
# openssh-server: Ansible reaches the lab hosts over SSH with pipelining, one round trip a task (podman
# exec costs four or five container execs a task, which made the suite several times slower).
packages=systemd,systemd-sysv,python3,python3-apt,iproute2,procps,ca-certificates,dbus,openssh-server

recipe_hash=$( { cat "$0"; echo "$suite $packages"; } | sha256sum | cut -c1-12)
tag="$repo:$recipe_hash"

if podman image exists "$tag"; then
  podman tag "$tag" "$repo:current"
  echo "lab image $tag is up to date"
  exit 0
fi

rootfs=$(mktemp -d /var/tmp/aiplatform-lab-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT

echo "building lab image $tag (debootstrap $suite, about 2 minutes)"
debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
  tail -n 30 "$rootfs.log" >&2
  exit 1
}
rm -f "$rootfs.log"

# A booted container must not try to reach a console or rename interfaces. The password-agent path
# units cost inotify instances, which all rootful containers share with the host (128 by default):
# with twenty lab hosts up they ran out and left hosts degraded. apt's timers would take the dpkg
# lock in the middle of a converge.
chroot "$rootfs" systemctl mask getty@tty1.service console-getty.service systemd-udevd.service \
  systemd-udev-trigger.service systemd-networkd-wait-online.service \
  systemd-ask-password-wall.path systemd-ask-password-console.path \
  apt-daily.timer apt-daily-upgrade.timer >/dev/null 2>&1 || true
# apt inside the lab hosts must not pull recommends: keeps converges fast and predictable.
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
  >"$rootfs/etc/apt/apt.conf.d/90aiplatform-lab"
# The controller's key is mounted read-only at /etc/ssh/lab_authorized_keys when a host starts
# (tests/lab/tasks/up.yml), so the image holds no key. Host keys are the image's: lab only.
cat >"$rootfs/etc/ssh/sshd_config.d/aiplatform-lab.conf" <<'EOF'
AuthorizedKeysFile /etc/ssh/lab_authorized_keys
PasswordAuthentication no
UseDNS no
MaxSessions 64
MaxStartups 64:30:128
EOF
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
# The emptied lists must not look fresh: ansible's apt module trusts the lists folder's mtime for
# cache_valid_time and would skip the `apt-get update` that a host without lists needs.
touch -d @0 "$rootfs"/var/lib/apt/lists

tar -C "$rootfs" -c . | podman import \
  --change 'CMD ["/sbin/init"]' \
  --change 'LABEL io.aiplatform.lab.image=true' \
  --change 'STOPSIGNAL SIGRTMIN+3' \
  - "$tag" >/dev/null
podman tag "$tag" "$repo:current"
# Drop images of older recipes (only this repository's tags; containers still using one keep it).
podman images --format '{{.Repository}}:{{.Tag}}' "$repo" | grep -vxF -e "$tag" -e "$repo:current" |
  xargs -r podman rmi >/dev/null 2>&1 || true
echo "built lab image $tag"
