#!/usr/bin/env bash
# Make sure a Docker engine answers. On a bare Debian host without systemd as
# PID 1 (CI VMs, this project's dev machines) the docker.io package installs
# but does not start: start dockerd ourselves and wait until it answers.
set -euo pipefail

log() { printf '[docker-engine] %s\n' "$*" >&2; }

if docker info >/dev/null 2>&1; then
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "no Docker engine answers and I can only install one as root on Debian/Ubuntu."
    log "Install Docker (https://docs.docker.com/engine/install/) and start it, then re-run."
    exit 1
  fi
  log "installing Debian's docker.io"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi

if docker info >/dev/null 2>&1; then
  exit 0
fi

if [ -d /run/systemd/system ] && systemctl start docker 2>/dev/null; then
  :
else
  log "starting dockerd in the background (log: /var/log/dockerd.log)"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
fi

for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    log "engine ready"
    exit 0
  fi
  sleep 0.5
done
log "dockerd did not answer within 30 s; see /var/log/dockerd.log"
exit 1
