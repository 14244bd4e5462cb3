#!/usr/bin/env bash
# The whole test suite: unit tests, and the integration tests on SQLite and on PostgreSQL.
# PostgreSQL: TWOFOLD_TEST_POSTGRES_URL (default: the local server, trust auth, database
# `test`); started here if it is installed but down. Every test makes its own database
# (tf_t_<uuid>); leftovers of earlier runs are dropped first. The 2FA tests call
# `oathtool` and `zbarimg`, the forward-auth test `nginx`, the browser test `chromium`
# and `node` (Debian: oathtool, zbar-tools, nginx, chromium, nodejs; .ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

export TWOFOLD_TEST_POSTGRES_URL="${TWOFOLD_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"

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

cargo test --all-targets "$@"
