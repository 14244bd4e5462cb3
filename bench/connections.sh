#!/usr/bin/env bash
# Connection attack on a release build (issue 24): thousands of connections that send
# their headers a byte at a time, and hundreds that send 60 KiB of header lines and never
# finish, from 16 loopback addresses; a normal client from another address asks /healthz
# every 200 ms throughout. Prints the server's RSS before, at its peak and after, and
# whether the normal client was served. Not part of the test suite.
# Usage: bash bench/connections.sh [SLOW=3000] [LARGE=500] [ADDRESSES=16] [SETTLE=15]
# Needs python3, curl. TWOFOLD_BIN: a built binary (default: cargo build --release).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${TWOFOLD_BIN:-}" ]; then BIN="$TWOFOLD_BIN"; unset TWOFOLD_BIN
else cargo build --release --quiet; BIN="$PWD/target/release/twofold"; fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
DIR="$(mktemp -d)"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export TWOFOLD_SERVER_DATA_DIR="$DIR" TWOFOLD_SERVER_LISTEN="127.0.0.1:$PORT" \
       TWOFOLD_SERVER_PUBLIC_URL="http://localhost:$PORT" TWOFOLD_LOG=warn
echo "correct horse battery staple 42" | "$BIN" user add loadtest --password-stdin >/dev/null
"$BIN" serve >"$DIR/out.log" 2>"$DIR/err.log" &
PID=$!
trap 'kill $PID 2>/dev/null; [ -s "$DIR/err.log" ] && tail -3 "$DIR/err.log" >&2; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
kill -0 "$PID" 2>/dev/null || { echo "connections.sh: the server did not start:" >&2; cat "$DIR/err.log" >&2; exit 1; }
python3 bench/connections.py "http://127.0.0.1:$PORT" "$PID" "$@"
