#!/usr/bin/env bash
# TOTP challenges (the write-heavy login step) on SQLite: N of them at concurrency C, with
# the latency spread and the server's CPU per check (from /proc). Then, with a second
# server logging sqlx's statements, what one check does: 20 challenges one at a time,
# statements per check by kind. Usage: bash bench/challenges.sh [N=400] [C=8]
# Needs python3, curl. TWOFOLD_BIN: a built binary (default: cargo build --release).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-400}"; C="${2:-8}"
if [ -n "${TWOFOLD_BIN:-}" ]; then BIN="$TWOFOLD_BIN"; unset TWOFOLD_BIN
else cargo build --release --quiet; BIN="$PWD/target/release/twofold"; fi
DIR="$(mktemp -d)"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export TWOFOLD_SERVER_DATA_DIR="$DIR" TWOFOLD_SERVER_LISTEN="127.0.0.1:$PORT" \
       TWOFOLD_SERVER_PUBLIC_URL="http://localhost:$PORT" TWOFOLD_LOG=warn
echo "quiet-lantern-harbor-58" | "$BIN" user add bench --password-stdin >/dev/null
"$BIN" serve >"$DIR/out.log" 2>"$DIR/err.log" &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
python3 bench/challenges.py "http://127.0.0.1:$PORT" "$DIR/twofold.db" "$N" "$C" "$PID"
kill $PID; wait $PID 2>/dev/null || true
# What one check does: a new server on a new database, logging every statement sqlx runs.
export TWOFOLD_SERVER_DATA_DIR="$DIR/count"
mkdir -p "$TWOFOLD_SERVER_DATA_DIR"
echo "quiet-lantern-harbor-58" | "$BIN" user add bench --password-stdin >/dev/null
TWOFOLD_LOG="warn,sqlx::query=debug" "$BIN" serve >"$DIR/out.log" 2>"$DIR/sql.log" &
PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
python3 bench/challenges.py "http://127.0.0.1:$PORT" "$TWOFOLD_SERVER_DATA_DIR/twofold.db" 20 1 "$PID" "$DIR/sql.log" \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps({"counted_over": d["count"], "statements_per_check": d["statements_per_check"], "by_kind": d["statements_by_kind_per_check"]}))'
