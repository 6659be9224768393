#!/usr/bin/env bash
# `make test`: lint, then the whole suite on SQLite with the browser journeys
# (Chromium, over HTTPS through nginx), then again on a throwaway PostgreSQL
# cluster. Outside CI what is not installed is skipped and the last line says
# what ran and what was skipped. With CI=true (.ci/run sets it and installs
# what is missing) a missing PostgreSQL, Chromium or nginx fails the run
# before any test: CI never goes green having quietly tested less.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
. scripts/tools.sh
ran=()
skipped=()

PG_BIN=$(find_pg_bin)
CHROMIUM=$(find_chromium)
NGINX=$(find_nginx)
REDIS=$(find_redis)
DOVECOT=$(find_dovecot)
if in_ci; then
  required=$(missing_packages | grep -vx fonts-noto-cjk | tr '\n' ' ')
  if [ -n "$required" ]; then
    echo "CI=true, but not installed: ${required% }. A CI run does not skip what it cannot test;" >&2
    echo "   .ci/run installs it as root (apt-get install ${required% })." >&2
    exit 1
  fi
fi
# The other servers the product talks to; their tests start them on loopback.
servers=()
if [ -n "$REDIS" ]; then
  servers+=(--ran "$("$REDIS" --version | awk '{sub(/^v=/, "", $3); print "Redis", $3}')")
else
  echo "== redis-server is not installed: the shared login-limit tests are SKIPPED (apt-get install redis-server)"
  skipped+=(--skipped "the shared login-limit tests (redis-server is not installed)")
fi
if [ -n "$DOVECOT" ]; then
  servers+=(--ran "Dovecot $("$DOVECOT" --version | awk '{print $1}')")
else
  echo "== Dovecot is not installed: the mailbox tests are SKIPPED (apt-get install dovecot-imapd dovecot-lmtpd)"
  skipped+=(--skipped "the mailbox tests (Dovecot is not installed)")
fi
[ -n "$(find_korean_font)" ] || echo "== fonts-noto-cjk is not installed: Korean shows as boxes in screenshots"

echo "== ruff check"
$BIN/ruff check . || exit 1

REPORT=$(mktemp -d /tmp/market-test.XXXXXX)
PG_DIR=""
pg_pytest=""
cleanup() {
  if [ -n "$pg_pytest" ]; then kill "$pg_pytest" 2>/dev/null; fi
  if [ -n "$PG_DIR" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1
    rm -rf "$PG_DIR"
  fi
  rm -rf "$REPORT"
}
trap cleanup EXIT

summary=(--junit "$REPORT/sqlite.xml")
if [ -n "$CHROMIUM" ]; then
  browser=$("$CHROMIUM" --version 2>/dev/null | awk '{print $1, $2}')
  summary+=(--browser "$browser")
  if [ -n "$NGINX" ]; then
    proxy=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')
    summary+=(--proxy "$proxy")
    echo "== pytest on SQLite, with the browser journeys in $browser over HTTPS through $proxy"
  else
    echo "== pytest on SQLite, with the browser journeys in $browser; HTTPS journeys SKIPPED: nginx is not installed"
    echo "   (apt-get install nginx, or let .ci/run do it)"
  fi
else
  echo "== pytest on SQLite; browser journeys SKIPPED: /usr/bin/chromium is not installed"
  echo "   (apt-get install chromium fonts-noto-cjk nginx, or let .ci/run do it)"
fi
if [ -z "$PG_BIN" ]; then
  $BIN/pytest --junitxml="$REPORT/sqlite.xml" "$@" || exit 1
  ran+=(--ran SQLite)
  echo "== PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin): suite ran on SQLite only"
  skipped+=(--skipped "PostgreSQL (no server binaries in /usr/lib/postgresql/*/bin)")
  in_ci && summary+=(--ci)
  $BIN/python scripts/summary.py "${summary[@]}" "${ran[@]}" ${servers[@]+"${servers[@]}"} \
    ${skipped[@]+"${skipped[@]}"}
  exit $?
fi

PG_DIR=$(mktemp -d /tmp/market-pg.XXXXXX)
PG_PORT=$($BIN/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg() {
  # initdb refuses to run as root; use the postgres account when we are root.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$(id -u)" = 0 ]; then chown postgres "$PG_DIR"; fi
pg_version=$("$PG_BIN/postgres" --version | awk '{print $2, $3}' | tr -d '()')

echo "== starting a throwaway $pg_version ($PG_BIN) on 127.0.0.1:$PG_PORT"
as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --no-locale >"$PG_DIR/initdb.log" 2>&1 \
  || { cat "$PG_DIR/initdb.log"; exit 1; }
as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -o \
  "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null || { cat "$PG_DIR/server.log"; exit 1; }
as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres market_test || exit 1

# The two passes run side by side: each is one Python process, mostly on one
# core, and this machine (like CI's) has two; one after the other took 22
# minutes, together about half. The PostgreSQL pass writes to a log shown
# when it ends, so the SQLite pass's progress stays readable.
echo "== pytest on $pg_version at the same time (the browser journeys run on SQLite only); its output follows the SQLite pass"
TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/market_test" \
  $BIN/pytest -p no:cacheprovider -m "not browser" "$@" >"$REPORT/postgresql.log" 2>&1 &
pg_pytest=$!
$BIN/pytest --junitxml="$REPORT/sqlite.xml" "$@"
sqlite_status=$?
wait $pg_pytest
pg_status=$?
echo "== pytest on $pg_version"
cat "$REPORT/postgresql.log"
[ $sqlite_status = 0 ] || { echo "== the SQLite pass failed (above the PostgreSQL output)"; exit 1; }
[ $pg_status = 0 ] || exit 1
ran+=(--ran SQLite --ran "$pg_version")
in_ci && summary+=(--ci)
$BIN/python scripts/summary.py "${summary[@]}" "${ran[@]}" ${servers[@]+"${servers[@]}"} \
  ${skipped[@]+"${skipped[@]}"}
