#!/usr/bin/env bash
# Install what `make demo` and `make test` need, skipping each step that is already done.
#
#   scripts/setup.sh [--system] [--python] [--web] [--browser]
#
#   --system   Debian packages: PostgreSQL, MariaDB, Redis, Chromium, CJK fonts, poppler (tests only), wrk (bench/request_path.py)
#   --python   the virtualenv .venv with the package and its dev tools, pinned by requirements/constraints.txt
#   --web      web/node_modules (npm ci)
# The three run in parallel; a stamp file per step (hash of its inputs) makes a warm run instant.
set -euo pipefail
cd "$(dirname "$0")/.."
STAMPS=.stamps
mkdir -p "$STAMPS"
PY=${PYTHON:-python3}
want_system=0; want_python=0; want_web=0
for arg in "$@"; do
  case "$arg" in
    --system) want_system=1 ;;
    --python) want_python=1 ;;
    --web) want_web=1 ;;
    *) echo "unknown option $arg" >&2; exit 2 ;;
  esac
done

hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }

SYSTEM_PACKAGES="postgresql mariadb-server mariadb-client redis-server chromium poppler-utils wrk fonts-wqy-zenhei fonts-noto-cjk"

setup_system() {
  local missing=()
  for p in $SYSTEM_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then echo "system packages: present"; return; fi
  echo "system packages: installing ${missing[*]}"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "system packages: done"
}

setup_python() {
  local h; h=$(hash_of pyproject.toml requirements/constraints.txt)
  if [ -x .venv/bin/python ] && [ "$(cat $STAMPS/python 2>/dev/null)" = "$h" ]; then
    echo "python: up to date"; return
  fi
  echo "python: installing into .venv"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  .venv/bin/python -m pip install -q -c requirements/constraints.txt -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -c "import microcredit, fastapi, sqlalchemy" || { echo "python install failed" >&2; exit 1; }
  echo "$h" > "$STAMPS/python"
  echo "python: done"
}

setup_web() {
  [ -f web/package.json ] || { echo "web: no web app yet"; return; }
  local h; h=$(hash_of web/package.json web/package-lock.json)
  if [ -d web/node_modules ] && [ "$(cat $STAMPS/web 2>/dev/null)" = "$h" ]; then
    echo "web: up to date"; return
  fi
  echo "web: npm ci"
  (cd web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  echo "$h" > "$STAMPS/web"
  echo "web: done"
}

pids=()
[ $want_system -eq 1 ] && { setup_system & pids+=($!); }
[ $want_python -eq 1 ] && { setup_python & pids+=($!); }
[ $want_web -eq 1 ] && { setup_web & pids+=($!); }
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
