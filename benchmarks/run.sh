#!/usr/bin/env bash
# `make bench`: the benchmark suite on SQLite, then on PostgreSQL when the
# server binaries are on this machine (a cluster on a loopback port whose data
# folder is kept in the cache, so the seeded databases survive between runs),
# then one table printed and written to benchmarks/results.md.
#
#   BENCH_SCALE=1.0      data and work size (0.1 for a quick run)
#   BENCH_SEED=1         same seed, same data
#   BENCH_SECONDS=10     wrk duration per page
#   BENCH_DATABASES="sqlite postgresql"
#   BENCH_STEPS=pages,profile,ranking,assign,import,mail
#   BENCH_CACHE=/tmp/market-bench   seeded databases, order files, logs
#   BENCH_RESULTS=benchmarks/results.md
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
SCALE=${BENCH_SCALE:-1.0}
SEED=${BENCH_SEED:-1}
SECONDS_PER_PAGE=${BENCH_SECONDS:-10}
DATABASES=${BENCH_DATABASES:-sqlite postgresql}
CACHE=${BENCH_CACHE:-/tmp/market-bench}
RESULTS=${BENCH_RESULTS:-benchmarks/results.md}
STEPS=${BENCH_STEPS:-pages,profile,ranking,assign,import,mail}
OUT="$CACHE/run-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
status=0

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing wrk (Debian package) for the page load tests"
    { apt-get update -q && apt-get install -y -q wrk; } >"$CACHE/apt.log" 2>&1 \
      || { tail -n 20 "$CACHE/apt.log"; exit 1; }
  else
    echo "wrk is not installed: install it (Debian: apt-get install wrk) and run make bench again"
    exit 1
  fi
fi

run_on() {
  local kind=$1; shift
  echo "== benchmarks on $kind (scale $SCALE, seed $SEED)"
  timeout 3600 $BIN/python -m benchmarks.run --kind "$kind" --cache "$CACHE" --seed "$SEED" \
    --scale "$SCALE" --seconds "$SECONDS_PER_PAGE" --steps "$STEPS" --out "$OUT/$kind.json" "$@" || status=1
}

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
have_pg=no
if [[ " $DATABASES " == *" postgresql "* ]] && [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ]; then
  have_pg=yes
fi

if [[ " $DATABASES " == *" sqlite "* ]]; then
  if [ $have_pg = yes ]; then
    # PostgreSQL, the production database, gets the full work (1,000,000
    # rows imported, 10,000 invitations, the slow-relay run); SQLite imports
    # 200,000 rows and delivers 2,000 mails, to keep the whole run bounded.
    run_on sqlite --light
  else
    run_on sqlite
  fi
fi

if [[ " $DATABASES " == *" postgresql "* ]]; then
  if [ $have_pg = no ]; then
    echo "== PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin): SQLite only"
  else
    PG_DIR="$CACHE/postgresql"
    PG_PORT=$($BIN/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_pg() {
      # initdb refuses to run as root; use the postgres account when we are root.
      if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
    }
    mkdir -p "$PG_DIR"
    if [ "$(id -u)" = 0 ]; then chown postgres "$PG_DIR"; fi
    if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
      rm -rf "$PG_DIR/data"
      as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --no-locale \
        >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log"; exit 1; }
    fi
    stop_pg() { as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1; }
    trap stop_pg EXIT
    # Durable commits as in production (fsync on); a larger buffer cache than
    # the tiny default, as any server with this much memory would have.
    echo "== starting PostgreSQL ($PG_BIN) on 127.0.0.1:$PG_PORT, data in $PG_DIR"
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -o \
      "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c shared_buffers=1GB -c effective_cache_size=8GB -c max_connections=50" \
      start >/dev/null || { tail -n 20 "$PG_DIR/server.log"; exit 1; }
    run_on postgresql --pg-url "postgresql+psycopg://postgres@127.0.0.1:$PG_PORT"
  fi
fi

echo "== results"
$BIN/python -m benchmarks.report "$OUT"/*.json --write "$RESULTS" || status=1
echo "raw results: $OUT"
echo "make bench took $((SECONDS / 60)) min $((SECONDS % 60)) s"
exit $status
