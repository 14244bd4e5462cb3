#!/usr/bin/env bash
# Takes the README's screenshots (docs/img/login.png, docs/img/security.png) from a real
# server in Debian's headless Chromium. Needs chromium and node (scripts/test.sh installs
# them) and the playwright-core package of tests/browser.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
BIN="$PWD/target/debug/twofold"
DIR="$(mktemp -d)"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export TWOFOLD_SERVER_DATA_DIR="$DIR" TWOFOLD_SERVER_LISTEN="127.0.0.1:$PORT" \
       TWOFOLD_SERVER_PUBLIC_URL="http://localhost:$PORT" TWOFOLD_LOG=warn
echo "correct-horse-battery" | "$BIN" user add alice --password-stdin >/dev/null
"$BIN" serve >"$DIR/out.log" 2>"$DIR/err.log" &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
[ -d tests/browser/node_modules/playwright-core ] || (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
mkdir -p docs/img
TWOFOLD_BASE="http://localhost:$PORT" TWOFOLD_UID=alice TWOFOLD_PASSWORD=correct-horse-battery \
  OUT="$PWD/docs/img" node tests/browser/screenshots.mjs
echo "docs/img/login.png docs/img/security.png"
