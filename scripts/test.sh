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
  (cd web && npm run --silent check-client)
  # The type check, the build and the browser tests' seeded demo (web/e2e/global-setup.ts) each keep one
  # core busy, the unit tests two: side by side they take about the longest of them instead of their sum.
  # Each part's output is kept and printed whole, in order, once all have ended.
  WEB_LOGS=$(mktemp -d /tmp/mc-web-logs.XXXXXX)
  E2E_TEMPLATE_DIR=$(mktemp -d /tmp/mc-e2e-template.XXXXXX)
  export E2E_TEMPLATE_DIR
  unset_mc=$(env | sed -n 's/^\(MICROCREDIT_[A-Za-z0-9_]*\)=.*/-u \1/p')  # as e2e/paths.ts cleanEnv()
  # shellcheck disable=SC2086
  (env $unset_mc MICROCREDIT_MODE=test MICROCREDIT_DATA_DIR="$E2E_TEMPLATE_DIR" NO_COLOR=1 \
     .venv/bin/microcredit demo --no-serve >/dev/null && touch "$E2E_TEMPLATE_DIR/.seeded") >"$WEB_LOGS/seed" 2>&1 &
  seed=$!
  (cd web && npm run --silent typecheck) >"$WEB_LOGS/typecheck" 2>&1 & types=$!
  (cd web && npm run --silent test:unit) >"$WEB_LOGS/unit" 2>&1 & unit=$!
  (cd web && npm run --silent build) >"$WEB_LOGS/build" 2>&1 & build=$!
  failed=""
  for part in types:$types unit:$unit build:$build seed:$seed; do
    wait "${part#*:}" || failed="$failed ${part%%:*}"
  done
  for part in typecheck unit build seed; do echo "--- $part"; cat "$WEB_LOGS/$part"; done
  step "web: the parts before the browser tests ended${failed:+; failed:$failed}"
  [ -z "$failed" ] || exit 1
  (cd web && npm run --silent test:e2e)
fi
step "all passed"
