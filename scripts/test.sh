#!/usr/bin/env bash
# The whole test suite: unit tests, and the integration tests on SQLite and on PostgreSQL.
# PostgreSQL: TWOFOLD_TEST_POSTGRES_URL (default: the local server, trust auth, database
# `test`); started here if it is installed but down. Every test makes its own database
# (tf_t_<uuid>); leftovers of earlier runs are dropped first. The 2FA tests call
# `oathtool` and `zbarimg`, the forward-auth tests `nginx`, the browser test `chromium`
# and `node`, the https deployment test `openssl` (Debian: oathtool, zbar-tools, nginx,
# chromium, nodejs, openssl): installed below when missing. The Web Push tests want
# python3 with venv (python3-venv) and PyPI's http_ece.
set -euo pipefail
cd "$(dirname "$0")/.."

export TWOFOLD_TEST_POSTGRES_URL="${TWOFOLD_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"

# The real peers the tests drive, from Debian's packages: installed here when missing
# (as root), or named in one line so that a person can install them.
need=()
command -v pg_isready >/dev/null || need+=(postgresql-client)
command -v oathtool >/dev/null || need+=(oathtool)      # reference TOTP codes
command -v zbarimg >/dev/null || need+=(zbar-tools)     # decodes the QR code back
command -v nginx >/dev/null || need+=(nginx)             # forward-auth end to end
command -v chromium >/dev/null || need+=(chromium)       # the pages in a real browser
command -v wrk >/dev/null || need+=(wrk)                 # bursts of forward-auth checks
command -v node >/dev/null || need+=(nodejs npm)         # playwright-core drives Chromium
command -v openssl >/dev/null || need+=(openssl)         # the https deployment's certificate
python3 -c "import venv, ensurepip" 2>/dev/null || need+=(python3 python3-venv) # Web Push
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "the tests need these Debian packages: ${need[*]} (sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
fi

if command -v psql >/dev/null; then
  psql "$TWOFOLD_TEST_POSTGRES_URL" -qAtc \
    "SELECT 'DROP DATABASE ' || quote_ident(datname) || ' WITH (FORCE);' FROM pg_database WHERE datname LIKE 'tf\_t\_%'" \
    | psql "$TWOFOLD_TEST_POSTGRES_URL" -q >/dev/null || true
fi

# The browser tests drive Debian's Chromium with playwright-core (no browser download).
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

# The Web Push tests' local push service (tests/webpush/receiver.py) decrypts with PyPI's
# http_ece (on cryptography), in a venv of its own under target/.
if ! target/webpush-venv/bin/python -c "import http_ece, cryptography" 2>/dev/null; then
  command -v python3 >/dev/null || { echo "the tests need python3 (apt-get install python3 python3-venv)" >&2; exit 1; }
  python3 -m venv target/webpush-venv
  target/webpush-venv/bin/pip install -q http_ece==1.2.1
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test --all-targets "$@" 2>&1 | tee "$log"
# Storage and HTTP tests run once per database (`both!`): say how many passed on each.
echo "passed on SQLite: $(grep -c '::sqlite \.\.\. ok$' "$log" || true); on PostgreSQL: $(grep -c '::postgres \.\.\. ok$' "$log" || true)"
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1) } }
     END { printf "total: %d passed, %d failed\n", p, f }' "$log"
