#!/usr/bin/env bash
# Everything CI runs (`make test`): set-up, lints, the Python suite on SQLite, PostgreSQL,
# MariaDB and Redis, then the web app's type check, unit tests, build and browser tests.
# The database servers are started here and stopped on exit, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { echo; echo "=== $* ($(( $(date +%s) - start ))s)"; }

step "set-up"
scripts/setup.sh --system --python --web

step "lints: ruff, mypy, import contracts, house rules, audit actions named"
.venv/bin/ruff check src tests bench scripts
.venv/bin/mypy
.venv/bin/lint-imports
.venv/bin/python scripts/house_rules.py
.venv/bin/python scripts/audit_actions.py --check

SERVICES_DIR="${MC_SERVICES_DIR:-$(mktemp -d /tmp/mc-services.XXXXXX)}"
cleanup() { scripts/services.sh stop "$SERVICES_DIR" || true; }
trap cleanup EXIT
step "start PostgreSQL, MariaDB, Redis"
scripts/services.sh start "$SERVICES_DIR"
set -a; . "$SERVICES_DIR/env"; set +a
export MICROCREDIT_TEST_REQUIRE_SERVICES=1

step "python tests"
.venv/bin/pytest -n "${MC_TEST_WORKERS:-auto}" --dist loadgroup -q -p no:randomly --durations=40 tests

if [ -f web/package.json ]; then
  step "web: API client up to date, types, unit tests, build, browser tests"
  (cd web && npm run --silent check-client && npm run --silent typecheck && npm run --silent test:unit \
     && npm run --silent build && npm run --silent test:e2e)
fi
step "all passed"
