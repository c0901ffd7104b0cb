#!/usr/bin/env bash
# Controller programs the harness calls. On Debian as root, install what is
# missing; elsewhere, name it and stop.
set -euo pipefail
declare -A PKG=([ssh]=openssh-client [ssh-keygen]=openssh-client [curl]=curl [openssl]=openssl
                [debootstrap]=debootstrap [rsync]=rsync [python3]=python3)
missing=()
for cmd in "${!PKG[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${PKG[$cmd]}")
done
[ ${#missing[@]} = 0 ] && exit 0
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "[prereqs] installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "[prereqs] missing on this machine: ${missing[*]} (install them, then re-run)" >&2
  exit 1
fi
