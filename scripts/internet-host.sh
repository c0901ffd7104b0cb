#!/usr/bin/env bash
# "The internet" for tests: a container on a scenario's docker network that
# plays the outside world. It runs Debian's Pebble (a real RFC 8555 ACME
# server: certbot on the test hosts gets real certificates from it, after a
# real HTTP-01 validation against their nginx) and carries the outside
# checkers: curl, openssl, nmap, testssl.sh, swaks, wrk, and aiosmtpd (for a
# smarthost with SMTP AUTH that tests start, molecule/cluster/tests/files/smarthost.py).
#
#   scripts/internet-host.sh up NAME NETWORK [--browser]   # idempotent; prints the facts below
#     (--browser: also Chromium + chromedriver + Selenium, installed in the background)
#   scripts/internet-host.sh down NAME
#
# Inside NAME (network alias `pebble`):
#   ACME directory         https://pebble:14000/dir
#   API CA (for certbot)   /etc/pebble/api-ca.pem   (the CA of Pebble's own HTTPS certificate)
#   issuing root           https://pebble:15000/roots/0, saved to /etc/pebble/issuing-root.pem
# The issuing root is new each time Pebble starts: read it after `up`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
IMAGE=${INTERNET_IMAGE:-flasky-base:bookworm}

log() { printf '[internet-host] %s\n' "$*" >&2; }

up() {
  local name=$1 network=$2
  docker network inspect "$network" >/dev/null 2>&1 || docker network create "$network" >/dev/null
  if [ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" != true ]; then
    "$ROOT/scripts/testhost.sh" up "$name" "$IMAGE" --network "$network" --network-alias pebble >/dev/null
  fi
  docker exec -i "$name" bash -eu <<'SH'
if ! command -v pebble >/dev/null || ! command -v nmap >/dev/null || ! python3 -c 'import aiosmtpd' 2>/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pebble curl openssl nmap testssl.sh swaks wrk bind9-dnsutils python3-aiosmtpd >/dev/null
fi
install -d -m 0755 /etc/pebble
cd /etc/pebble
if [ ! -f api-cert.pem ]; then
  # Pebble's own API certificate, from a private CA that clients of the API trust.
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=pebble-api-ca \
    -keyout api-ca.key -out api-ca.pem 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj /CN=pebble -keyout api-key.pem -out api.csr 2>/dev/null
  printf 'subjectAltName=DNS:pebble,DNS:localhost,IP:127.0.0.1\n' > san.ext
  openssl x509 -req -in api.csr -CA api-ca.pem -CAkey api-ca.key -CAcreateserial \
    -days 30 -extfile san.ext -out api-cert.pem 2>/dev/null
fi
cat > pebble-config.json <<'JSON'
{"pebble": {"listenAddress": "0.0.0.0:14000", "managementListenAddress": "0.0.0.0:15000",
  "certificate": "/etc/pebble/api-cert.pem", "privateKey": "/etc/pebble/api-key.pem",
  "httpPort": 80, "tlsPort": 443, "ocspResponderURL": "", "externalAccountBindingRequired": false}}
JSON
cat > /etc/systemd/system/pebble.service <<'UNIT'
[Unit]
Description=Pebble ACME test server (real HTTP-01 validation)
After=network.target
[Service]
# No artificial validation delay, no random nonce rejection: deterministic, still real.
Environment=PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0
ExecStart=/usr/bin/pebble -config /etc/pebble/pebble-config.json
Restart=on-failure
[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable -q pebble
systemctl is-active -q pebble || systemctl start pebble
for i in $(seq 1 50); do
  if curl -sf --cacert api-ca.pem https://pebble:15000/roots/0 -o issuing-root.pem; then break; fi
  sleep 0.2
done
test -s issuing-root.pem
SH
  if [ "${3:-}" = --browser ]; then
    # A real browser for the tests (Chromium, its driver, Selenium; about 150
    # packages) installs in the background while the scenario converges: a
    # browser test waits for /var/lib/browser-ready (or finds -failed).
    docker exec -d "$name" bash -c '
      if [ -e /var/lib/browser-ready ]; then exit 0; fi
      if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
           chromium chromium-driver python3-selenium libnss3-tools >/var/log/browser-install.log 2>&1
      then touch /var/lib/browser-ready; else touch /var/lib/browser-failed; fi'
    echo "browser=installing (/var/lib/browser-ready when done)"
  fi
  echo "acme_directory=https://pebble:14000/dir"
  echo "api_ca=/etc/pebble/api-ca.pem"
  echo "issuing_root=/etc/pebble/issuing-root.pem"
}

case "${1:-}" in
  up) up "${2:?NAME}" "${3:?NETWORK}" "${4:-}" ;;
  down) "$ROOT/scripts/testhost.sh" down "${2:?NAME}" ;;
  *) echo "usage: $0 up NAME NETWORK [--browser] | down NAME" >&2; exit 2 ;;
esac
