#!/usr/bin/env bash
# Forward-auth benchmark: the forward-auth endpoint (session cookie; app password over
# HTTP Basic) against a hello-world handler on the same stack (/healthz: same binary,
# router, middleware and load), one after the other in the same run, with wrk.
# Usage: bash scripts/bench-forward-auth.sh [duration, default 10s] [connections, default 32]
# Needs: wrk (Debian package wrk), curl. Prints a Markdown table for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10s}"
CONNS="${2:-32}"

for tool in wrk curl python3 base64; do
  command -v "$tool" >/dev/null || { echo "$0: $tool not found (wrk: Debian package wrk)" >&2; exit 1; }
done
# TWOFOLD_BIN: use that binary instead of building (bench/run-all.sh builds once).
if [ -n "${TWOFOLD_BIN:-}" ]; then
  BIN="$TWOFOLD_BIN"
  unset TWOFOLD_BIN  # twofold warns about TWOFOLD_* variables it does not know
else
  cargo build --release --quiet
  BIN="$PWD/target/release/twofold"
fi
DIR="$(mktemp -d)"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export TWOFOLD_SERVER_DATA_DIR="$DIR" TWOFOLD_SERVER_LISTEN="127.0.0.1:$PORT" \
       TWOFOLD_SERVER_PUBLIC_URL="http://localhost:$PORT" TWOFOLD_LOG=warn \
       TWOFOLD_FORWARD_AUTH_DEFAULT_POLICY=one_factor
echo "quiet-lantern-harbor-58" | "$BIN" user add bench --password-stdin >/dev/null
"$BIN" serve >"$DIR/out.log" 2>"$DIR/err.log" &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

BASE="http://127.0.0.1:$PORT"
curl -sf -c "$DIR/jar" -H 'content-type: application/json' \
  -d '{"uid":"bench","password":"quiet-lantern-harbor-58"}' "$BASE/api/v1/login" >/dev/null
COOKIE="twofold_session=$(awk '$6=="twofold_session"{print $7}' "$DIR/jar")"
APP=$(curl -sf -b "$DIR/jar" -H 'content-type: application/json' -d '{"name":"bench"}' \
  "$BASE/api/v1/app-passwords" | python3 -c 'import json,sys; print(json.load(sys.stdin)["password"])')
BASIC="Basic $(printf 'bench:%s' "$APP" | base64 -w0)"
FWD=(-H 'X-Forwarded-Method: GET' -H 'X-Forwarded-Proto: https' -H 'X-Forwarded-Host: files.example.org' -H 'X-Forwarded-Uri: /dav/file.txt')

# Sanity: each target answers 200 before it is measured.
test "$(curl -s -o /dev/null -w '%{http_code}' "${FWD[@]}" -H "Cookie: $COOKIE" "$BASE/api/v1/forward-auth/traefik")" = 200
test "$(curl -s -o /dev/null -w '%{http_code}' "${FWD[@]}" -H "Authorization: $BASIC" "$BASE/api/v1/forward-auth/traefik")" = 200

# One wrk run; sets RPS and P99 and prints a table row. With PACE_MS set, each connection
# waits that long between requests (wrk's delay()), for a fixed lower load.
run() { # name, then wrk arguments
  local name="$1"; shift
  local script=()
  if [ -n "${PACE_MS:-}" ]; then
    printf 'function delay() return %s end\n' "$PACE_MS" >"$DIR/pace.lua"
    script=(-s "$DIR/pace.lua")
  fi
  local out; out=$(wrk -t2 -c"$CONNS" -d"$DURATION" --latency "${script[@]}" "$@")
  local avg p50 non2xx ratio
  RPS=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  avg=$(awk '/Latency/ && !/Distribution/{print $2; exit}' <<<"$out")
  p50=$(awk '$1=="50%"{print $2}' <<<"$out")
  P99=$(awk '$1=="99%"{print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/{print $5}' <<<"$out"); non2xx=${non2xx:-0}
  ratio="–"
  [ -n "${BASELINE:-}" ] && ratio="$(python3 -c "print(f'{$RPS / $BASELINE:.2f}')")×"
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$RPS" "$ratio" "$avg" "$p50" "$P99" "$non2xx"
}

echo "| target | requests/s | vs /healthz | latency avg | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|---|---|"
BASELINE=""
run "hello-world baseline (GET /healthz)" "$BASE/healthz"
BASELINE=$RPS
run "forward-auth, session cookie" "${FWD[@]}" -H "Cookie: $COOKIE" "$BASE/api/v1/forward-auth/traefik"
COOKIE_RPS=$RPS
run "forward-auth, app password (Basic)" "${FWD[@]}" -H "Authorization: $BASIC" "$BASE/api/v1/forward-auth/traefik"
APP_RPS=$RPS
# Half the saturating load of each: the pause per connection that gives that rate.
pace() { python3 -c "print(max(1, round($CONNS * 1000 / ($1 / 2))))"; }
BASELINE=""
PACE_MS=$(pace "$COOKIE_RPS") run "forward-auth, session cookie, at half load (${CONNS} connections, $(pace "$COOKIE_RPS") ms apart)" \
  "${FWD[@]}" -H "Cookie: $COOKIE" "$BASE/api/v1/forward-auth/traefik"
PACE_MS=$(pace "$APP_RPS") run "forward-auth, app password, at half load (${CONNS} connections, $(pace "$APP_RPS") ms apart)" \
  "${FWD[@]}" -H "Authorization: $BASIC" "$BASE/api/v1/forward-auth/traefik"
echo
echo "server RSS after the runs: $(ps -o rss= -p $PID | tr -d ' ') KiB; $(nproc) cores; wrk -t2 -c$CONNS -d$DURATION; SQLite"
