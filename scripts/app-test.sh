#!/usr/bin/env bash
# The application's test suite, against a real PostgreSQL as well as SQLite:
# a throwaway cluster (Debian's PostgreSQL server binaries, a temporary data
# directory, 127.0.0.1 on a free port) lives for the length of the run.
#   scripts/app-test.sh [pytest args...]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

[ -x .venv-app/bin/python ] || python3 -m venv .venv-app
.venv-app/bin/pip install -q --disable-pip-version-check -r app/requirements-dev.txt

# The client package alone ships a bin/ too: look for the server's initdb.
PG_BIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n1)" 2>/dev/null || true)
if [ ! -x "$PG_BIN/initdb" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    # Only the binaries are needed; no cluster of the package's own is used.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    PG_BIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n1)")
  else
    echo "[app-test] PostgreSQL server binaries are missing: apt-get install postgresql" >&2
    exit 1
  fi
fi

PGDATA=$(mktemp -d /tmp/flasky-app-pg.XXXXXX)
chmod 755 "$PGDATA"
RUN_AS=()
[ "$(id -u)" = 0 ] && { chown postgres "$PGDATA"; RUN_AS=(runuser -u postgres --); }
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
  "${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$PGDATA/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PGDATA"
}
trap cleanup EXIT
"${RUN_AS[@]}" "$PG_BIN/initdb" -D "$PGDATA/data" -U postgres -A trust >/dev/null
"${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$PGDATA/data" -l "$PGDATA/log" -w \
  -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$PGDATA" start >/dev/null
"${RUN_AS[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres flasky_test

cd app
FLASKY_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$PORT/flasky_test" \
  ../.venv-app/bin/python -m pytest -q -p no:cacheprovider "$@"
