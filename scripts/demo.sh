#!/usr/bin/env bash
# `make demo`: one throwaway local "server" (a systemd container that looks
# like a fresh Debian 12 cloud server), provisioned and deployed by site.yml
# through inventories/local, exactly as a real server would be over SSH.
#
#   scripts/demo.sh          create the host if needed, run site.yml, print the URL
#   scripts/demo.sh destroy  remove the host
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PATH="$ROOT/.venv/bin:$PATH"
NAME=flasky-demo
IMAGE=flasky-base:${DEMO_SUITE:-bookworm}
export DEMO_SSH_PORT=${DEMO_SSH_PORT:-2222}
HTTP_PORT=${DEMO_HTTP_PORT:-8080}
HTTPS_PORT=${DEMO_HTTPS_PORT:-8443}
DOMAIN=flasky.localhost

if [ "${1:-up}" = destroy ]; then
  scripts/testhost.sh down "$NAME"
  rm -f ".cache/facts/$NAME"
  echo "demo host removed"
  exit 0
fi

if [ "$(docker inspect -f '{{.State.Running}}' "$NAME" 2>/dev/null)" = true ]; then
  echo "[demo] reusing the running host $NAME"
else
  rm -f ".cache/facts/$NAME"
  for p in "$DEMO_SSH_PORT" "$HTTP_PORT" "$HTTPS_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "[demo] port $p on 127.0.0.1 is taken; set DEMO_SSH_PORT / DEMO_HTTP_PORT / DEMO_HTTPS_PORT" >&2
      exit 1
    fi
  done
  TESTHOST_SSH_PORT=$DEMO_SSH_PORT scripts/testhost.sh up "$NAME" "$IMAGE" \
    -p "127.0.0.1:$HTTP_PORT:80" -p "127.0.0.1:$HTTPS_PORT:443" >/dev/null
  echo "[demo] created $NAME ($IMAGE), SSH on 127.0.0.1:$DEMO_SSH_PORT"
fi

ansible-playbook site.yml -i inventories/local \
  --vault-id local@inventories/local/vault-pass.test-only.sh \
  -e "app_public_http_port=$HTTP_PORT app_public_https_port=$HTTPS_PORT"

URL="https://$DOMAIN:$HTTPS_PORT/"
echo
if code=$(curl -sk -o /dev/null -w '%{http_code}' --resolve "$DOMAIN:$HTTPS_PORT:127.0.0.1" "$URL"); then
  echo "[demo] $URL answers HTTP $code"
else
  echo "[demo] $URL does not answer yet (the web roles are not in site.yml yet)"
fi
echo "[demo] Open $URL  (self-signed certificate: accept the browser's warning)"
echo "[demo] SSH: ssh -i .cache/ssh/id_ed25519 -p $DEMO_SSH_PORT debian@127.0.0.1   Remove: make demo-destroy"
