#!/usr/bin/env bash
# Start (or stop) a throwaway PostgreSQL cluster for the test suite.
#
#   source scripts/postgres_cluster.sh start   # installs the server if needed, starts it, exports
#                                             # IMPORT_EXPORT_TEST_PG_* for tests/settings.py
#   scripts/postgres_cluster.sh stop DIR
#
# The cluster lives in a temporary directory, listens on 127.0.0.1 and a socket of its own, and is
# owned by the `postgres` user because initdb refuses to run as root.
set -euo pipefail

pg_bindir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

install_server() {
  if [ -z "$(pg_bindir)" ]; then
    echo "== installing PostgreSQL from the distribution's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
  fi
}

start_cluster() {
  install_server
  local bindir port dir
  bindir=$(pg_bindir)
  port=${IMPORT_EXPORT_TEST_PG_PORT:-54329}
  dir=$(mktemp -d /tmp/ie-pg.XXXXXX)
  chown postgres "$dir" 2>/dev/null || true
  as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
  as_postgres "$bindir/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
  as_postgres "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" start >&2
  export IMPORT_EXPORT_TEST_PG_HOST=127.0.0.1
  export IMPORT_EXPORT_TEST_PG_PORT=$port
  export IMPORT_EXPORT_TEST_PG_USER=postgres
  export IMPORT_EXPORT_TEST_PG_NAME=import_export
  export IMPORT_EXPORT_TEST_PG_DIR=$dir
  echo "== PostgreSQL running on 127.0.0.1:$port (data in $dir)" >&2
}

stop_cluster() {
  local dir=$1 bindir
  bindir=$(pg_bindir)
  [ -d "$dir/data" ] || return 0
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  else
    "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start_cluster ;;
  stop) stop_cluster "${2:?directory}" ;;
  *) echo "usage: source $0 start | $0 stop DIR" >&2; return 2 2>/dev/null || exit 2 ;;
esac
