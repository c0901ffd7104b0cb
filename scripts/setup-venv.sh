#!/usr/bin/env bash
# Create .venv with the pinned controller tools (requirements.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! command -v "$PY" >/dev/null 2>&1 || ! "$PY" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  echo "[setup] Python 3.11 or newer is required (Debian 12: apt-get install python3 python3-venv)" >&2
  exit 1
fi
if ! "$PY" -c 'import venv, ensurepip' 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  else
    echo "[setup] the Python venv module is missing: apt-get install python3-venv" >&2
    exit 1
  fi
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# This machine may set PYTHONDONTWRITEBYTECODE; without byte code every
# ansible call recompiles its modules, so let pip and ansible write it.
unset PYTHONDONTWRITEBYTECODE
.venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
touch .venv/.installed
