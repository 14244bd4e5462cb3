#!/usr/bin/env bash
# Push approval: approval → waiting login latency on one instance (SQLite) and across
# two instances on one PostgreSQL, and the memory and threads of WAITING logins waiting
# at once. Usage: bash bench/push.sh [SAMPLES=200] [WAITING=1000]
# Needs python3, curl, psql and a PostgreSQL server for the two-instance run (PGURL,
# default postgres://postgres@127.0.0.1:5432/test; skipped with a note when unreachable).
# TWOFOLD_BIN: a built binary (default: cargo build --release).
set -euo pipefail
cd "$(dirname "$0")/.."
SAMPLES="${1:-200}"; WAITING="${2:-1000}"
PGURL="${PGURL:-postgres://postgres@127.0.0.1:5432/test}"
if [ -n "${TWOFOLD_BIN:-}" ]; then BIN="$TWOFOLD_BIN"; unset TWOFOLD_BIN
else cargo build --release --quiet; BIN="$PWD/target/release/twofold"; fi
DIR="$(mktemp -d)"
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; rm -rf "$DIR"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# One client address opens every waiting stream; a prompt per waiting login.
export TWOFOLD_LOG=warn TWOFOLD_SERVER_MAX_CONNECTIONS_PER_ADDRESS=8192 \
       TWOFOLD_PUSH_MAX_OPEN_PER_USER=20 TWOFOLD_SERVER_DATA_DIR="$DIR"
serve() { # port, extra env...
  local p="$1"; shift
  env TWOFOLD_SERVER_LISTEN="127.0.0.1:$p" TWOFOLD_SERVER_PUBLIC_URL="http://localhost:$p" "$@" \
    "$BIN" serve >"$DIR/out-$p.log" 2>"$DIR/err-$p.log" &
  PIDS+=($!)
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$p/healthz" >/dev/null && return; sleep 0.1; done
  echo "push.sh: the server on $p did not start" >&2; cat "$DIR/err-$p.log" >&2; exit 1
}

echo "== one instance, SQLite"
echo "quiet-lantern-harbor-58" | "$BIN" user add bench --password-stdin >/dev/null
A=$(port); serve "$A"
PID_A="${PIDS[-1]}" python3 bench/push.py "sqlite:$DIR/twofold.db" "$SAMPLES" "$WAITING" "http://127.0.0.1:$A"
kill "${PIDS[@]}"; PIDS=()

echo "== two instances, one PostgreSQL"
if ! psql "$PGURL" -qAtc 'SELECT 1' >/dev/null 2>&1; then
  echo "(skipped: no PostgreSQL at $PGURL)"; exit 0
fi
DB="tf_bench_push_$$"
psql "$PGURL" -qc "CREATE DATABASE $DB" >/dev/null
trap 'kill "${PIDS[@]}" 2>/dev/null; psql "$PGURL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null; rm -rf "$DIR"' EXIT
URL="${PGURL%/*}/$DB"
export TWOFOLD_DATABASE_URL="$URL"
echo "quiet-lantern-harbor-58" | "$BIN" user add bench --password-stdin >/dev/null
A=$(port); B=$(port)
serve "$A"; PA="${PIDS[-1]}"
serve "$B"
PID_A="$PA" python3 bench/push.py "postgres:$URL" "$SAMPLES" 0 "http://127.0.0.1:$A" "http://127.0.0.1:$B"
