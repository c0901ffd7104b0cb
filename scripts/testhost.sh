#!/usr/bin/env bash
# Throwaway "servers" for the demo and the molecule scenarios: a systemd
# container from a local base image that looks like a fresh cloud server.
# What cloud-init does on a real one is done here: a sudo user `debian` whose
# authorized key is the harness key. Ansible then connects the way it does in
# production: SSH (to 127.0.0.1:<published port>), key auth, become.
#
#   scripts/testhost.sh up NAME IMAGE [extra docker run args...]   # prints the SSH port
#   scripts/testhost.sh down NAME
#   scripts/testhost.sh key                                        # prints the private key path
#
# SSH is published on 127.0.0.1 only, on a free port (fixed for the container's
# life, restarts included) unless TESTHOST_SSH_PORT is set.
#
# Repeat runs are cheaper with a per-host apt cache on the controller
# (TESTHOST_APT_CACHE, default /var/cache/flasky-test/apt/NAME; "off" disables),
# bind-mounted over the host's /var/cache/apt/archives. One directory per host:
# two apt processes must not share a lock.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
KEY="$ROOT/.cache/ssh/id_ed25519"
USER_NAME=${TESTHOST_USER:-debian}

log() { printf '[testhost] %s\n' "$*" >&2; }

ensure_key() {
  if [ ! -f "$KEY" ]; then
    mkdir -p "$(dirname "$KEY")"
    chmod 700 "$(dirname "$KEY")"
    ssh-keygen -q -t ed25519 -N '' -C flasky-test-harness -f "$KEY"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

ssh_port() {
  docker port "$1" 22/tcp | sed -n 's/^127\.0\.0\.1:\([0-9]*\)$/\1/p' | head -n1
}

up() {
  local name=$1 image=$2; shift 2
  ensure_key
  docker image inspect "$image" >/dev/null 2>&1 || {
    log "image $image missing: run 'make images'"; exit 1; }
  # Leftovers of the same name (an interrupted run, a stopped CI container) go first.
  docker rm -f "$name" >/dev/null 2>&1 || true

  # A fixed published port survives `docker restart` (a random one would not),
  # so a host restart in a test keeps its inventory valid.
  local ssh_port=${TESTHOST_SSH_PORT:-$(free_port)}

  local cache_args=()
  local cache=${TESTHOST_APT_CACHE:-/var/cache/flasky-test/apt/$name}
  if [ "$cache" != off ]; then
    mkdir -p "$cache"
    cache_args=(-v "$cache:/var/cache/apt/archives")
  fi

  docker run -d --name "$name" --hostname "$name" \
    --cap-add SYS_ADMIN --cap-add NET_ADMIN --cap-add NET_RAW \
    --security-opt seccomp=unconfined --cgroupns=host \
    -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock \
    --stop-signal SIGRTMIN+3 \
    "${cache_args[@]}" -p "127.0.0.1:$ssh_port:22" "$@" "$image" /lib/systemd/systemd >/dev/null

  # Wait for sshd under systemd, then play cloud-init.
  local i
  for i in $(seq 1 120); do
    if docker exec "$name" systemctl is-active -q ssh 2>/dev/null; then break; fi
    [ "$i" = 120 ] && { log "$name: sshd did not start"; docker logs "$name" | tail -n 20 >&2; exit 1; }
    sleep 0.5
  done
  docker exec -i "$name" sh -eu -c "
    id $USER_NAME >/dev/null 2>&1 || useradd -m -s /bin/bash -G sudo $USER_NAME
    echo '$USER_NAME ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/90-cloud-init-users
    chmod 0440 /etc/sudoers.d/90-cloud-init-users
    install -d -m 0700 -o $USER_NAME -g $USER_NAME /home/$USER_NAME/.ssh
    cat > /home/$USER_NAME/.ssh/authorized_keys
    chown $USER_NAME:$USER_NAME /home/$USER_NAME/.ssh/authorized_keys
    chmod 0600 /home/$USER_NAME/.ssh/authorized_keys
  " <"$KEY.pub"

  local port
  port=$(ssh_port "$name")
  for i in $(seq 1 60); do
    if ssh -q -i "$KEY" -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=no \
         -o UserKnownHostsFile=/dev/null -o ConnectTimeout=2 "$USER_NAME@127.0.0.1" true; then
      echo "$port"
      return 0
    fi
    sleep 0.5
  done
  log "$name: no SSH login on 127.0.0.1:$port"
  exit 1
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) docker rm -f "${2:?NAME}" >/dev/null 2>&1 || true ;;
  key) ensure_key; echo "$KEY" ;;
  *) echo "usage: $0 up NAME IMAGE [docker args] | down NAME | key" >&2; exit 2 ;;
esac
