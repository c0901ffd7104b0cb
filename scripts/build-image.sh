#!/usr/bin/env bash
# Build the local base image for one Debian suite: what a fresh cloud server
# looks like (systemd as PID 1, openssh-server, sudo, python3), nothing of the
# application stack. Tries the ordinary registry path first (FROM debian:SUITE)
# and falls back to debootstrap + docker import where no registry answers.
#
#   scripts/build-image.sh bookworm|trixie [--force]
#
# Test hosts trust the controller's local CA certificates
# (EXTRA_CA_DIR, default /usr/local/share/ca-certificates): behind a
# TLS-intercepting proxy pip inside a test host fails without them. This is a
# harness feature only; production hosts never get these certificates.
set -euo pipefail

SUITE=${1:?usage: build-image.sh SUITE [--force]}
FORCE=${2:-}
IMAGE="${IMAGE_PREFIX:-flasky-base}:${SUITE}"
EXTRA_CA_DIR=${EXTRA_CA_DIR:-/usr/local/share/ca-certificates}
PACKAGES="systemd systemd-sysv dbus openssh-server sudo ca-certificates python3 iproute2 procps"
HERE=$(cd "$(dirname "$0")" && pwd)

log() { printf '[build-image %s] %s\n' "$SUITE" "$*" >&2; }

if [ "$FORCE" != "--force" ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  log "$IMAGE present"
  exit 0
fi

WORK=$(mktemp -d /tmp/flasky-image.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/extra-ca"
cp "$EXTRA_CA_DIR"/*.crt "$WORK/extra-ca/" 2>/dev/null || true

# A registry is the ordinary way; give it a short, bounded chance.
if [ "${BASE_IMAGE_SOURCE:-auto}" != "debootstrap" ] \
   && timeout 20 docker pull -q "debian:${SUITE}" >/dev/null 2>&1; then
  log "building $IMAGE from debian:${SUITE}"
  cp "$HERE/image/Dockerfile" "$WORK/"
  docker build -q -t "$IMAGE" --build-arg SUITE="$SUITE" \
    --build-arg PACKAGES="$PACKAGES" "$WORK" >/dev/null
  log "built $IMAGE"
  exit 0
fi
if [ "${BASE_IMAGE_SOURCE:-auto}" = "registry" ]; then
  log "no registry answered and BASE_IMAGE_SOURCE=registry"; exit 1
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  else
    log "no registry answers and debootstrap is missing: install debootstrap (root) and re-run"
    exit 1
  fi
fi

log "no registry: debootstrap $SUITE (about a minute)"
ROOTFS="$WORK/rootfs"
debootstrap --variant=minbase --include="${PACKAGES// /,}" "$SUITE" "$ROOTFS" \
  >"$WORK/debootstrap.log" 2>&1 || { tail -n 30 "$WORK/debootstrap.log" >&2; exit 1; }

cp "$WORK"/extra-ca/*.crt "$ROOTFS/usr/local/share/ca-certificates/" 2>/dev/null || true
chroot "$ROOTFS" update-ca-certificates >/dev/null 2>&1
chroot "$ROOTFS" systemctl set-default multi-user.target >/dev/null 2>&1
# Like a cloud image: no package lists baked in, a fresh machine-id per boot.
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/archives/*.deb
: >"$ROOTFS/etc/machine-id"

tar -C "$ROOTFS" -c . | docker import -c 'CMD ["/lib/systemd/systemd"]' - "$IMAGE" >/dev/null
log "imported $IMAGE"
