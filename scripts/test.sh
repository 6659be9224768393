#!/usr/bin/env bash
# `make test`: lint, then the whole suite on SQLite, then again on a throwaway
# PostgreSQL cluster when the server binaries are on this machine.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
ran=()

echo "== ruff check"
$BIN/ruff check . || exit 1

if [ -x /usr/bin/chromium ]; then
  echo "== pytest on SQLite, with the browser journeys in /usr/bin/chromium"
else
  echo "== pytest on SQLite; browser journeys SKIPPED: /usr/bin/chromium is not installed"
  echo "   (apt-get install chromium fonts-noto-cjk, or let .ci/run do it)"
fi
$BIN/pytest "$@" || exit 1
ran+=("SQLite")

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
  echo "== PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin): suite ran on SQLite only"
  echo "Databases tested: ${ran[*]}"
  exit 0
fi

PG_DIR=$(mktemp -d /tmp/market-pg.XXXXXX)
PG_PORT=$($BIN/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg() {
  # initdb refuses to run as root; use the postgres account when we are root.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$(id -u)" = 0 ]; then chown postgres "$PG_DIR"; fi
stop_pg() {
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1
  rm -rf "$PG_DIR"
}
trap stop_pg EXIT

echo "== starting a throwaway PostgreSQL ($PG_BIN) on 127.0.0.1:$PG_PORT"
as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --no-locale >"$PG_DIR/initdb.log" 2>&1 \
  || { cat "$PG_DIR/initdb.log"; exit 1; }
as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -o \
  "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null || { cat "$PG_DIR/server.log"; exit 1; }
as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres market_test || exit 1

echo "== pytest on PostgreSQL (the browser journeys ran above)"
TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/market_test" \
  $BIN/pytest -m "not browser" "$@" || exit 1
ran+=("PostgreSQL")
echo "Databases tested: ${ran[*]}"
