#!/usr/bin/env bash
# Login-storm benchmark: forward-auth for a signed-in user while a storm of wrong-password
# logins (a new user name and a new client address on every request) hits the same
# server, against the same forward-auth load without the storm, in one run. Argon2 runs
# with its real default cost (19 MiB, 2 passes). Reports throughput, latency and the
# server's memory (peak and after), and how the storm's requests were answered.
# Usage: bash scripts/bench-login-storm.sh [duration, default 10s] [storm connections, default 32]
# Needs: wrk (Debian package wrk), curl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10s}"
STORM="${2:-32}"
FA_CONNS=16

for tool in wrk curl python3; do
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
# Loopback is trusted as a proxy so that the storm can claim a new address per request,
# as a botnet would have: the per-IP throttle then never stops it, only the hashing bound.
export TWOFOLD_SERVER_DATA_DIR="$DIR" TWOFOLD_SERVER_LISTEN="127.0.0.1:$PORT" \
       TWOFOLD_SERVER_PUBLIC_URL="http://localhost:$PORT" TWOFOLD_LOG=error \
       TWOFOLD_FORWARD_AUTH_DEFAULT_POLICY=one_factor TWOFOLD_SERVER_TRUSTED_PROXIES=127.0.0.1
echo "quiet-lantern-harbor-58" | "$BIN" user add bench --password-stdin >/dev/null
"$BIN" serve >"$DIR/out.log" 2>"$DIR/err.log" &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
BASE="http://127.0.0.1:$PORT"
curl -sf -c "$DIR/jar" -H 'content-type: application/json' \
  -d '{"uid":"bench","password":"quiet-lantern-harbor-58"}' "$BASE/api/v1/login" >/dev/null
COOKIE="twofold_session=$(awk '$6=="twofold_session"{print $7}' "$DIR/jar")"
FWD=(-H 'X-Forwarded-Method: GET' -H 'X-Forwarded-Proto: https' -H 'X-Forwarded-Host: files.example.org' -H 'X-Forwarded-Uri: /dav/file.txt' -H "Cookie: $COOKIE")
test "$(curl -s -o /dev/null -w '%{http_code}' "${FWD[@]}" "$BASE/api/v1/forward-auth/traefik")" = 200

cat >"$DIR/storm.lua" <<'LUA'
-- Every request: another user name, another client address, a wrong password.
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

fa() { # label; prints a table row from a forward-auth wrk run
  local out; out=$(wrk -t1 -c"$FA_CONNS" -d"$DURATION" --latency "${FWD[@]}" "$BASE/api/v1/forward-auth/traefik")
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  p50=$(awk '$1=="50%"{print $2}' <<<"$out")
  p99=$(awk '$1=="99%"{print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/{print $5}' <<<"$out"); non2xx=${non2xx:-0}
  printf '| %s | %s | %s | %s | %s |\n' "$1" "$rps" "$p50" "$p99" "$non2xx"
}
rss() { awk '/VmRSS/{print $2}' /proc/$PID/status; }
hwm() { awk '/VmHWM/{print $2}' /proc/$PID/status; }

echo "| forward-auth (session cookie, $FA_CONNS connections) | requests/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|"
RSS0=$(rss)
fa "idle server"
wrk -t1 -c"$STORM" -d"$(( ${DURATION%s} + 4 ))s" --latency -s "$DIR/storm.lua" "$BASE/api/v1/login" >"$DIR/storm.out" &
STORM_PID=$!
sleep 2
fa "during the login storm"
wait $STORM_PID
STORM_RPS=$(awk '/Requests\/sec/{print $2}' "$DIR/storm.out")
STATUSES=$(awk '/^statuses/{$1=""; print}' "$DIR/storm.out")
STORM_P99=$(awk '$1=="99%"{print $2}' "$DIR/storm.out")
sleep 3
echo
echo "storm: $STORM connections, $STORM_RPS logins/s answered (p99 $STORM_P99); $STATUSES"
echo "server RSS: before ${RSS0} KiB, peak $(hwm) KiB, 3 s after the storm $(rss) KiB; threads: $(ls /proc/$PID/task | wc -l); $(nproc) cores; Argon2 19 MiB x 2 passes"
