#!/usr/bin/env bash
# The web stack's own cost (issue 22): a bare axum hello-world server (examples/hello.rs,
# same axum/hyper/tokio from the same lock file, release build) beside twofold's
# `/healthz` and forward-auth (session cookie; app password over HTTP Basic), in the same
# run, interleaved round by round so the machine's noise hits all of them alike; each
# figure is reported as a ratio to the bare server of its own round. Then forward-auth
# (cookie) idle and during a storm of wrong-password logins (a new user name and a new
# client address through a trusted proxy on every request), and that ratio.
#
# Usage: bash bench/stack.sh [duration, default 8s] [connections, default 32] [rounds, default 2] [storm connections, default 128]
# Environment: TWOFOLD_BIN, HELLO_BIN (else both are built in release mode).
# Needs: wrk, curl, python3, base64.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-8s}"
CONNS="${2:-32}"
ROUNDS="${3:-2}"
STORM="${4:-128}"

for tool in wrk curl python3 base64; do
  command -v "$tool" >/dev/null || { echo "$0: $tool not found" >&2; exit 1; }
done
if [ -n "${TWOFOLD_BIN:-}" ]; then BIN="$TWOFOLD_BIN"; unset TWOFOLD_BIN
else cargo build --release --quiet; BIN="$PWD/target/release/twofold"; fi
if [ -n "${HELLO_BIN:-}" ]; then HELLO="$HELLO_BIN"
else cargo build --release --quiet --example hello; HELLO="$PWD/target/release/examples/hello"; fi

DIR="$(mktemp -d)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HPORT=$(free_port)
PORT=$(free_port)
"$HELLO" "127.0.0.1:$HPORT" >/dev/null 2>&1 &
HPID=$!
# Loopback is a trusted proxy, so that the storm can claim a new client address per
# request; every protection stays on (timeouts, connection caps, body limit, headers).
export TWOFOLD_SERVER_DATA_DIR="$DIR" TWOFOLD_SERVER_LISTEN="127.0.0.1:$PORT" \
       TWOFOLD_SERVER_PUBLIC_URL="http://localhost:$PORT" TWOFOLD_LOG=warn \
       TWOFOLD_FORWARD_AUTH_DEFAULT_POLICY=one_factor TWOFOLD_SERVER_TRUSTED_PROXIES=127.0.0.1
echo "quiet-lantern-harbor-58" | "$BIN" user add bench --password-stdin >/dev/null
"$BIN" serve >"$DIR/out.log" 2>"$DIR/err.log" &
PID=$!
trap 'kill $PID $HPID 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && curl -sf "http://127.0.0.1:$HPORT/healthz" >/dev/null && break
  sleep 0.1
done

BASE="http://127.0.0.1:$PORT"
curl -sf -c "$DIR/jar" -H 'content-type: application/json' \
  -d '{"uid":"bench","password":"quiet-lantern-harbor-58"}' "$BASE/api/v1/login" >/dev/null
COOKIE="twofold_session=$(awk '$6=="twofold_session"{print $7}' "$DIR/jar")"
APP=$(curl -sf -b "$DIR/jar" -H 'content-type: application/json' -d '{"name":"bench"}' \
  "$BASE/api/v1/app-passwords" | python3 -c 'import json,sys; print(json.load(sys.stdin)["password"])')
BASIC="Basic $(printf 'bench:%s' "$APP" | base64 -w0)"
FWD=(-H 'X-Forwarded-Method: GET' -H 'X-Forwarded-Proto: https' -H 'X-Forwarded-Host: files.example.org' -H 'X-Forwarded-Uri: /dav/file.txt')
FA="$BASE/api/v1/forward-auth/traefik"
test "$(curl -s -o /dev/null -w '%{http_code}' "${FWD[@]}" -H "Cookie: $COOKIE" "$FA")" = 200
test "$(curl -s -o /dev/null -w '%{http_code}' "${FWD[@]}" -H "Authorization: $BASIC" "$FA")" = 200

measure() { # wrk arguments; sets RPS P50 P99 NON2XX
  local out; out=$(wrk -t1 -c"$CONNS" -d"$DURATION" --latency "$@")
  RPS=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  P50=$(awk '$1=="50%"{print $2}' <<<"$out")
  P99=$(awk '$1=="99%"{print $2}' <<<"$out")
  NON2XX=$(awk '/Non-2xx/{print $5}' <<<"$out"); NON2XX=${NON2XX:-0}
}
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }

echo "| round | target | requests/s | vs bare axum | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|---|---|"
declare -A SUM
for r in $(seq 1 "$ROUNDS"); do
  measure "http://127.0.0.1:$HPORT/healthz"; BARE=$RPS
  printf '| %s | bare axum hello-world (examples/hello.rs) | %s | 1.00× | %s | %s | %s |\n' "$r" "$RPS" "$P50" "$P99" "$NON2XX"
  for target in healthz cookie app; do
    case $target in
      healthz) name="twofold GET /healthz"; measure "$BASE/healthz" ;;
      cookie) name="twofold forward-auth, session cookie"; measure "${FWD[@]}" -H "Cookie: $COOKIE" "$FA" ;;
      app) name="twofold forward-auth, app password (Basic)"; measure "${FWD[@]}" -H "Authorization: $BASIC" "$FA" ;;
    esac
    x=$(ratio "$RPS" "$BARE")
    SUM[$target]="${SUM[$target]:-} $x"
    printf '| %s | %s | %s | %s× | %s | %s | %s |\n' "$r" "$name" "$RPS" "$x" "$P50" "$P99" "$NON2XX"
  done
done
echo
for target in healthz cookie app; do
  echo "ratio to bare axum, $target, per round:${SUM[$target]}"
done

# The storm: forward-auth (cookie, 16 connections) idle, then during the storm.
cat >"$DIR/storm.lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) n = 0; s401 = 0; s503 = 0; other = 0 end
request = function()
  n = n + 1
  local ip = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
  local body = string.format('{"uid":"user%d","password":"guess-%d"}', n, n)
  return wrk.format("POST", "/api/v1/login",
    {["Content-Type"] = "application/json", ["X-Forwarded-For"] = ip}, body)
end
response = function(status)
  if status == 401 then s401 = s401 + 1 elseif status == 503 then s503 = s503 + 1 else other = other + 1 end
end
done = function()
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do a = a + t:get("s401"); b = b + t:get("s503"); c = c + t:get("other") end
  io.write(string.format("statuses 401 (checked): %d, 503 (busy, refused at once): %d, other: %d\n", a, b, c))
end
LUA
fa16() { local out; out=$(wrk -t1 -c16 -d"$DURATION" --latency "${FWD[@]}" -H "Cookie: $COOKIE" "$FA")
  RPS=$(awk '/Requests\/sec/{print $2}' <<<"$out"); P99=$(awk '$1=="99%"{print $2}' <<<"$out")
  NON2XX=$(awk '/Non-2xx/{print $5}' <<<"$out"); NON2XX=${NON2XX:-0}; }
echo
echo "| forward-auth, session cookie, 16 connections | requests/s | p99 | non-2xx |"
echo "|---|---|---|---|"
fa16; IDLE=$RPS
echo "| idle | $RPS | $P99 | $NON2XX |"
wrk -t1 -c"$STORM" -d"$(( ${DURATION%s} + 4 ))s" -s "$DIR/storm.lua" "$BASE/api/v1/login" >"$DIR/storm.out" &
SPID=$!
sleep 2
fa16
echo "| during a storm of $STORM connections | $RPS | $P99 | $NON2XX |"
wait $SPID
echo
echo "storm ratio (during / idle): $(ratio "$RPS" "$IDLE")×; storm: $(awk '/Requests\/sec/{print $2}' "$DIR/storm.out") logins/s answered,$(awk '/^statuses/{$1=""; print}' "$DIR/storm.out")"
echo "$(nproc) cores; wrk -t1 -c$CONNS -d$DURATION, $ROUNDS rounds; SQLite; TWOFOLD_LOG=warn"
