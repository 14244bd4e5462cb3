#!/usr/bin/env bash
# Scale benchmark: forward-auth (nginx endpoint) with a session cookie and with an app
# password, against /healthz as the same-run baseline, on a PostgreSQL database holding
# a small (1k users, 10 groups, 5k sessions) or large (1M users, 10k groups, 5M sessions)
# generated population. Samples the server's RSS during each run.
#
# Usage: bash bench/scale.sh [--regenerate] [--sizes small,large] [duration, default 10s] [connections, default 32]
#
# The databases twofold_scale_small and twofold_scale_large are generated once (by
# bench/scale/generate.sql, in SQL) and reused while they hold the right counts;
# --regenerate drops and generates them again. When only the generated sessions have
# expired (the ordinary ones live 12 hours), the sessions alone are generated again.
#
# Environment: PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres; trust or ~/.pgpass
# auth), TWOFOLD_BIN (default target/release/twofold; this script does not build).
# Needs: psql, wrk (Debian package wrk), curl, python3, base64.
# Prints a Markdown table for BENCHMARKS.md.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

REGENERATE=0
SIZES="small,large"
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --regenerate) REGENERATE=1 ;;
    --sizes) SIZES="${2:?--sizes needs a value, e.g. small,large}"; shift ;;
    --sizes=*) SIZES="${1#--sizes=}" ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "scale.sh: unknown option $1" >&2; exit 2 ;;
    *) ARGS+=("$1") ;;
  esac
  shift
done
DURATION="${ARGS[0]:-10s}"
CONNS="${ARGS[1]:-32}"

die() { echo "scale.sh: $*" >&2; exit 1; }
for tool in psql wrk curl python3 base64; do
  command -v "$tool" >/dev/null || case "$tool" in
    psql) die "psql not found (Debian: apt-get install postgresql-client)" ;;
    wrk) die "wrk not found (Debian: apt-get install wrk)" ;;
    *) die "$tool not found" ;;
  esac
done
BIN="${TWOFOLD_BIN:-$ROOT/target/release/twofold}"
[ -x "$BIN" ] || die "no twofold binary at $BIN: run 'cargo build --release' or set TWOFOLD_BIN"
unset TWOFOLD_BIN   # twofold warns about TWOFOLD_* variables it does not know

export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -At)
"${PSQL[@]}" -d postgres -c 'SELECT 1' >/dev/null 2>&1 ||
  die "cannot connect to PostgreSQL at $PGUSER@$PGHOST:$PGPORT (set PGHOST/PGPORT/PGUSER)"

DIR="$(mktemp -d)"
PID=""
SAMPLER=""
cleanup() {
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null || true
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PASSWORD="bench-password"
NOTES=()

size_params() { # size -> "users groups sessions"
  case "$1" in
    small) echo "1000 10 5000" ;;
    large) echo "1000000 10000 5000000" ;;
    *) die "unknown size $1 (small or large)" ;;
  esac
}

twofold() { # runs the CLI against database $DB with a throwaway data dir
  TWOFOLD_SERVER_DATA_DIR="$DIR/data-$DB" TWOFOLD_DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB" \
    TWOFOLD_LOG=warn "$BIN" "$@"
}

# Echoes "ok", "sessions" (only the generated sessions are missing or expire within an
# hour) or "regenerate".
cache_state() {
  local users="$1" groups="$2" sessions="$3" exists
  exists=$("${PSQL[@]}" -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = '$DB'")
  [ "$exists" = 1 ] || { echo regenerate; return; }
  local counts
  counts=$("${PSQL[@]}" -d "$DB" -F ' ' -c "
    SELECT (SELECT count(*) FROM users WHERE uid LIKE 'user%'),
           (SELECT count(*) FROM users WHERE uid = 'bench'),
           (SELECT count(*) FROM groups),
           (SELECT count(*) >= $users FROM group_members),
           (SELECT count(*) FROM sessions WHERE uid LIKE 'user%'
                AND expires_at > extract(epoch FROM now())::bigint + 3600)" 2>/dev/null) ||
    { echo regenerate; return; }
  read -r u b g m s <<<"$counts"
  if [ "$u" != "$users" ] || [ "$b" != 1 ] || [ "$g" != "$groups" ] || [ "$m" != t ]; then
    echo regenerate
  elif [ "$s" != "$sessions" ]; then
    echo sessions
  else
    echo ok
  fi
}

prepare_db() { # size: makes sure $DB holds the generated population
  local size="$1" users groups sessions state start secs
  read -r users groups sessions <<<"$(size_params "$size")"
  state=$(cache_state "$users" "$groups" "$sessions")
  [ "$REGENERATE" = 1 ] && state=regenerate
  start=$(date +%s)
  case "$state" in
    ok) echo "[$size] reusing database $DB" >&2; return ;;
    regenerate)
      echo "[$size] generating $DB: $users users, $groups groups, $sessions sessions ..." >&2
      "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
      twofold migrate >/dev/null
      echo "$PASSWORD" | twofold user add bench --display-name "Bench User" \
        --email bench@example.org --password-stdin >/dev/null
      local hash
      hash=$("${PSQL[@]}" -d "$DB" -c "SELECT password_hash FROM users WHERE uid = 'bench'")
      "${PSQL[@]}" -d "$DB" -v users="$users" -v groups="$groups" -v sessions="$sessions" \
        -v pwhash="$hash" -f "$ROOT/bench/scale/generate.sql" >"$DIR/generate-$size.log" 2>&1 ||
        { cat "$DIR/generate-$size.log" >&2; die "generating $DB failed"; } ;;
    sessions)
      echo "[$size] generated sessions expired: generating the $sessions sessions of $DB again ..." >&2
      "${PSQL[@]}" -d "$DB" -v users="$users" -v groups="$groups" -v sessions="$sessions" \
        -v pwhash=unused -v part=sessions -f "$ROOT/bench/scale/generate.sql" >"$DIR/generate-$size.log" 2>&1 ||
        { cat "$DIR/generate-$size.log" >&2; die "generating the sessions of $DB failed"; } ;;
  esac
  secs=$(( $(date +%s) - start ))
  if [ "$state" = sessions ]; then
    NOTES+=("$size: generated the sessions again in ${secs} s")
  else
    NOTES+=("$size: generated the database (migrate, one CLI user, generate.sql) in ${secs} s")
  fi
  echo "[$size] generated in ${secs} s" >&2
}

# RSS sampler: the largest VmRSS seen while it runs, in $DIR/rss-max.
start_sampler() {
  echo 0 >"$DIR/rss-max"
  (
    max=0
    while kill -0 "$PID" 2>/dev/null; do
      rss=$(awk '/^VmRSS/{print $2}' "/proc/$PID/status" 2>/dev/null || echo 0)
      if [ "${rss:-0}" -gt "$max" ]; then max=$rss; echo "$max" >"$DIR/rss-max"; fi
      sleep 0.2
    done
  ) &
  SAMPLER=$!
}
stop_sampler() { kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true; SAMPLER=""; }
hwm() { awk '/^VmHWM/{print $2}' "/proc/$PID/status"; }

BASELINE_RPS=""
run() { # size, endpoint label, wrk arguments...
  local size="$1" name="$2"; shift 2
  start_sampler
  local out; out=$(wrk -t2 -c"$CONNS" -d"$DURATION" --latency "$@")
  stop_sampler
  local rps p50 p99 non2xx ratio
  rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  p50=$(awk '$1=="50%"{print $2}' <<<"$out")
  p99=$(awk '$1=="99%"{print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/{print $5}' <<<"$out"); non2xx=${non2xx:-0}
  [ -z "$BASELINE_RPS" ] && BASELINE_RPS="$rps"
  ratio=$(python3 -c "print(f'{$rps / $BASELINE_RPS:.2f}')")
  printf '| %s | %s | %s | %s | %s | %s | %s MiB | %s MiB | %s |\n' "$size" "$name" "$rps" "$p50" "$p99" \
    "$ratio" "$(( $(cat "$DIR/rss-max") / 1024 ))" "$(( $(hwm) / 1024 ))" "$non2xx"
}

bench_size() {
  local size="$1"
  DB="twofold_scale_$size"
  prepare_db "$size"
  # What earlier runs of this script left behind for the bench user.
  "${PSQL[@]}" -d "$DB" -c "DELETE FROM sessions WHERE uid = 'bench'" -c "DELETE FROM app_passwords WHERE uid = 'bench'"

  local port; port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  local base="http://127.0.0.1:$port"
  TWOFOLD_SERVER_DATA_DIR="$DIR/data-$DB" TWOFOLD_DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB" \
    TWOFOLD_SERVER_LISTEN="127.0.0.1:$port" TWOFOLD_SERVER_PUBLIC_URL="http://localhost:$port" \
    TWOFOLD_LOG=warn TWOFOLD_FORWARD_AUTH_DEFAULT_POLICY=one_factor \
    "$BIN" serve >"$DIR/out-$size.log" 2>"$DIR/err-$size.log" &
  PID=$!
  local up=0
  for _ in $(seq 1 300); do
    curl -sf "$base/healthz" >/dev/null 2>&1 && { up=1; break; }
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
  done
  [ "$up" = 1 ] || { cat "$DIR/err-$size.log" >&2; die "[$size] the server did not come up"; }

  local jar="$DIR/jar-$size"
  curl -sf -c "$jar" -H 'content-type: application/json' \
    -d "{\"uid\":\"bench\",\"password\":\"$PASSWORD\"}" "$base/api/v1/login" >/dev/null ||
    die "[$size] login as bench failed"
  local cookie app basic
  cookie="twofold_session=$(awk '$6=="twofold_session"{print $7}' "$jar")"
  app=$(curl -sf -b "$jar" -H 'content-type: application/json' -d '{"name":"bench"}' \
    "$base/api/v1/app-passwords" | python3 -c 'import json,sys; print(json.load(sys.stdin)["password"])') ||
    die "[$size] creating an app password failed"
  basic="Basic $(printf 'bench:%s' "$app" | base64 -w0)"
  local fwd=(-H 'X-Original-URL: https://files.example.org/dav/file.txt' -H 'X-Original-Method: GET')
  local url="$base/api/v1/forward-auth/nginx"

  # Sanity: each target answers 200 before it is measured.
  local code
  for cred in "Cookie: $cookie" "Authorization: $basic"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "${fwd[@]}" -H "$cred" "$url")
    [ "$code" = 200 ] || die "[$size] forward-auth answered $code, not 200, for ${cred%%:*}"
  done

  BASELINE_RPS=""
  run "$size" "GET /healthz (baseline)" "$base/healthz"
  run "$size" "forward-auth nginx, session cookie" "${fwd[@]}" -H "Cookie: $cookie" "$url"
  run "$size" "forward-auth nginx, app password" "${fwd[@]}" -H "Authorization: $basic" "$url"

  local info
  info=$("${PSQL[@]}" -d "$DB" -F ' ' -c "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM groups),
      (SELECT count(*) FROM group_members), (SELECT count(*) FROM sessions),
      pg_size_pretty(pg_database_size(current_database()))")
  read -r u g m s sz1 sz2 <<<"$info"
  NOTES+=("$size: $u users, $g groups, $m memberships, $s sessions, database $sz1 $sz2")

  kill "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  PID=""
  local log="$DIR/err-$size.log" lines
  lines=$(grep -c . "$log" || true)
  if [ "$lines" -gt 0 ]; then
    NOTES+=("$size: the server logged $lines warning/error lines, first: \`$(head -1 "$log" | sed 's/\x1b\[[0-9;]*m//g' | cut -c1-300)\`")
    # Kept for a look after the run ($DIR is removed on exit).
    cp "$log" "${TMPDIR:-/tmp}/twofold-scale-$size.err.log"
  fi
}

IFS=, read -r -a SIZE_LIST <<<"$SIZES"
for size in "${SIZE_LIST[@]}"; do size_params "$size" >/dev/null; done
echo "| size | endpoint | requests/s | p50 | p99 | vs /healthz | RSS max during run | peak RSS (VmHWM) | non-2xx |"
echo "|---|---|---|---|---|---|---|---|---|"
for size in "${SIZE_LIST[@]}"; do
  bench_size "$size"
done
echo
for n in "${NOTES[@]}"; do echo "- $n"; done
echo "- wrk -t2 -c$CONNS -d$DURATION; $(nproc) cores; PostgreSQL $("${PSQL[@]}" -d postgres -c 'SHOW server_version' | cut -d' ' -f1) on $PGHOST; RSS is the twofold process only"
