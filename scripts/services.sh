#!/usr/bin/env bash
# Start or stop the PostgreSQL, MariaDB, Redis and S3-compatible (moto_server) servers the tests run against.
#
#   scripts/services.sh start DIR   start all four on private loopback ports, data under DIR,
#                                   and write DIR/env with the MICROCREDIT_TEST_* URLs
#   scripts/services.sh stop DIR    stop exactly the processes started by `start` (by their PID files)
#
# The servers come from Debian's packages (scripts/setup-system.sh installs them); nothing is
# started by apt; moto_server comes from the project's virtualenv (.venv, or MC_MOTO_SERVER). Ports can
# be moved with MC_PG_PORT, MC_MY_PORT, MC_REDIS_PORT, MC_S3_PORT.
set -euo pipefail

cmd=${1:?usage: services.sh start|stop DIR}
D=$(realpath -m "${2:?usage: services.sh start|stop DIR}")
PG_PORT=${MC_PG_PORT:-55432}
MY_PORT=${MC_MY_PORT:-53306}
REDIS_PORT=${MC_REDIS_PORT:-56379}
S3_PORT=${MC_S3_PORT:-59000}
MOTO_SERVER=${MC_MOTO_SERVER:-$(dirname "$(realpath "$0")")/../.venv/bin/moto_server}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

as_user() {  # as_user USER COMMAND...: run a command as a service account
  local user=$1; shift
  if [ "$(id -u)" -eq 0 ]; then su "$user" -s /bin/sh -c "$*"; else sudo -u "$user" sh -c "$*"; fi
}

wait_gone() {  # wait until a PID has really exited (a zombie still answers kill -0)
  local pid=$1
  for _ in $(seq 1 100); do
    [ -e "/proc/$pid" ] || return 0
    grep -q '^State:.*[ZX]' "/proc/$pid/status" 2>/dev/null && return 0
    sleep 0.1
  done
}

start_pg() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  $SUDO install -d -o postgres -g postgres -m 700 "$D/pg"
  $SUDO install -d -o postgres -g postgres "$D/pgsock"
  if [ ! -f "$D/pg/data/PG_VERSION" ]; then
    as_user postgres "$bin/initdb -D $D/pg/data -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync" >/dev/null
  fi
  as_user postgres "$bin/pg_ctl -D $D/pg/data -l $D/pg/log -w -t 60 -o '-p $PG_PORT -k $D/pgsock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200' start" >/dev/null
  echo "MICROCREDIT_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$PG_PORT/postgres" >> "$D/env"
}

start_mariadb() {
  $SUDO install -d -o mysql -g mysql "$D/my" "$D/myrun"
  if [ ! -d "$D/my/mysql" ]; then
    $SUDO mariadb-install-db --no-defaults --datadir="$D/my" --user=mysql \
      --auth-root-authentication-method=normal --skip-test-db >/dev/null
  fi
  $SUDO /usr/sbin/mariadbd --no-defaults --datadir="$D/my" --port="$MY_PORT" --bind-address=127.0.0.1 \
    --socket="$D/myrun/my.sock" --pid-file="$D/myrun/my.pid" --log-error="$D/myrun/my.err" --user=mysql \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci --skip-log-bin \
    --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --max-connections=300 \
    --innodb-lock-wait-timeout=20 >/dev/null 2>&1 &
  for _ in $(seq 1 120); do
    mariadb-admin --no-defaults --socket="$D/myrun/my.sock" -uroot ping >/dev/null 2>&1 && break
    sleep 0.25
  done
  mariadb --no-defaults --socket="$D/myrun/my.sock" -uroot -e \
    "CREATE USER IF NOT EXISTS 'mc'@'%' IDENTIFIED BY 'mc'; GRANT ALL ON *.* TO 'mc'@'%' WITH GRANT OPTION; FLUSH PRIVILEGES;"
  echo "MICROCREDIT_TEST_MYSQL_URL=mysql://mc:mc@127.0.0.1:$MY_PORT/mysql" >> "$D/env"
}

start_redis() {
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --dir "$D" --pidfile "$D/redis.pid" --logfile "$D/redis.log" --databases 64
  for _ in $(seq 1 50); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -p "$REDIS_PORT" ping >/dev/null
  echo "MICROCREDIT_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0" >> "$D/env"
}

start_s3() {  # moto_server: an S3-compatible server in memory (the storage tests create their bucket)
  "$MOTO_SERVER" -H 127.0.0.1 -p "$S3_PORT" >"$D/moto.log" 2>&1 &
  echo $! > "$D/moto.pid"
  for _ in $(seq 1 150); do  # listening yet? (bash's /dev/tcp: no curl needed)
    (exec 3<>"/dev/tcp/127.0.0.1/$S3_PORT") 2>/dev/null && break
    sleep 0.1
  done
  (exec 3<>"/dev/tcp/127.0.0.1/$S3_PORT") 2>/dev/null
  echo "MICROCREDIT_TEST_S3_URL=http://127.0.0.1:$S3_PORT" >> "$D/env"
}

stop_all() {
  if [ -f "$D/pg/data/postmaster.pid" ]; then
    pid=$(head -1 "$D/pg/data/postmaster.pid"); kill -INT "$pid" 2>/dev/null || true; wait_gone "$pid"
  fi
  if [ -f "$D/myrun/my.pid" ]; then
    pid=$(cat "$D/myrun/my.pid"); $SUDO kill -TERM "$pid" 2>/dev/null || true; wait_gone "$pid"
  fi
  if [ -f "$D/redis.pid" ]; then
    pid=$(cat "$D/redis.pid"); kill -TERM "$pid" 2>/dev/null || true; wait_gone "$pid"
  fi
  if [ -f "$D/moto.pid" ]; then
    pid=$(cat "$D/moto.pid"); kill -TERM "$pid" 2>/dev/null || true; wait_gone "$pid"; rm -f "$D/moto.pid"
  fi
}

case "$cmd" in
  start)
    mkdir -p "$D"
    chmod 755 "$D"  # the postgres and mysql accounts must reach their data directories inside it
    stop_all
    : > "$D/env"
    start_pg & pg=$!
    start_mariadb & my=$!
    start_redis & rd=$!
    start_s3 & s3=$!
    failed=0
    wait $pg || { echo "PostgreSQL did not start (see $D/pg/log)" >&2; failed=1; }
    wait $my || { echo "MariaDB did not start (see $D/myrun/my.err)" >&2; failed=1; }
    wait $rd || { echo "Redis did not start (see $D/redis.log)" >&2; failed=1; }
    wait $s3 || { echo "moto_server did not start (see $D/moto.log)" >&2; failed=1; }
    for name in POSTGRES MYSQL REDIS S3; do
      grep -q "^MICROCREDIT_TEST_${name}_URL=" "$D/env" || { echo "no $name server" >&2; failed=1; }
    done
    if [ $failed -ne 0 ]; then stop_all; exit 1; fi
    cat "$D/env"
    ;;
  stop)
    stop_all
    ;;
  *)
    echo "usage: services.sh start|stop DIR" >&2; exit 2 ;;
esac
