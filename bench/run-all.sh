#!/usr/bin/env bash
# Runs every benchmark, one after the other, and prints the tables BENCHMARKS.md holds:
# the web stack against a bare axum hello-world server (bench/stack.sh, issue 22),
# forward-auth against /healthz (SQLite), forward-auth during a login storm (32
# connections; 32 with one hashing thread per core; 128), TOTP challenges at concurrency 8
# (the write path on SQLite), and the scale benchmark
# (PostgreSQL, 1k and 1M users). Benchmarks are not part of the test suite.
#
# Usage: bash bench/run-all.sh [--regenerate] [--sizes small,large] [duration, default 10s] [connections, default 32]
#   duration: every wrk run; connections: forward-auth and scale (the storms use 32 and 128).
#   --regenerate, --sizes: passed to bench/scale.sh.
# Environment: TWOFOLD_BIN (else builds target/release/twofold once), PGHOST/PGPORT/PGUSER
# for bench/scale.sh.
# Needs: wrk, curl, python3, psql, a PostgreSQL server.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

SCALE_OPTS=()
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --regenerate) SCALE_OPTS+=("$1") ;;
    --sizes) SCALE_OPTS+=("$1" "${2:?--sizes needs a value}"); shift ;;
    --sizes=*) SCALE_OPTS+=("$1") ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run-all.sh: unknown option $1" >&2; exit 2 ;;
    *) ARGS+=("$1") ;;
  esac
  shift
done
DURATION="${ARGS[0]:-10s}"
CONNS="${ARGS[1]:-32}"

for tool in wrk curl python3 psql; do
  command -v "$tool" >/dev/null || { echo "run-all.sh: $tool not found (Debian: wrk, curl, python3, postgresql-client)" >&2; exit 1; }
done
if [ -z "${TWOFOLD_BIN:-}" ]; then
  cargo build --release --quiet
  TWOFOLD_BIN="$ROOT/target/release/twofold"
fi
[ -x "$TWOFOLD_BIN" ] || { echo "run-all.sh: no twofold binary at $TWOFOLD_BIN" >&2; exit 1; }
export TWOFOLD_BIN

FAILED=()
section() { # title, then the command; a failing benchmark is reported and the rest still run
  local title="$1"; shift
  echo "### $title"
  echo
  echo "\`$*\` ($(date -u '+%Y-%m-%d %H:%M UTC'))"
  echo
  if ! "$@"; then
    FAILED+=("$title")
    echo "**failed** (exit status above)"
  fi
  echo
}

echo "## Benchmarks, $(date -u '+%Y-%m-%d'), $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo
section "The web stack against a bare axum server, and forward-auth during a storm" \
  bash bench/stack.sh 8s "$CONNS" 2 128
section "Forward-auth against a hello-world handler" \
  bash scripts/bench-forward-auth.sh "$DURATION" "$CONNS"
section "Forward-auth during a login storm of 32 connections, default settings" \
  bash scripts/bench-login-storm.sh "$DURATION" 32
section "The same storm with one hashing thread per core" \
  env TWOFOLD_PASSWORD_HASH_WORKERS="$(nproc)" bash scripts/bench-login-storm.sh "$DURATION" 32
section "Forward-auth during a login storm of 128 connections, default settings" \
  bash scripts/bench-login-storm.sh "$DURATION" 128
section "TOTP challenges, 400 at concurrency 8 (SQLite)" \
  bash bench/challenges.sh 400 8
section "Push approval: latency and logins waiting at once" \
  bash bench/push.sh 200 1000
section "Scale (PostgreSQL)" \
  bash bench/scale.sh "${SCALE_OPTS[@]}" "$DURATION" "$CONNS"

if [ ${#FAILED[@]} -gt 0 ]; then
  echo "run-all.sh: failed: ${FAILED[*]}" >&2
  exit 1
fi
