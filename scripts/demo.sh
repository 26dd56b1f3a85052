#!/usr/bin/env bash
# dbops's main job against a throwaway local PostgreSQL 15 it starts itself:
# plan -> apply -> plan (no changes) -> drift. Everything is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
ensure_postgres
bindir="$DBOPS_PG_BINDIR"

echo "==> building dbops"
cargo build --locked --quiet
dbops="$PWD/target/debug/dbops"

work="$(mktemp -d -t dbops-demo-XXXXXX)"
as_server_user() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  as_server_user "$bindir/pg_ctl" -D "$work/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
admin_password="demo-admin-$RANDOM$RANDOM"
printf '%s' "$admin_password" >"$work/pwfile"
if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$work"; fi

echo "==> starting a throwaway PostgreSQL on 127.0.0.1:$port"
as_server_user "$bindir/initdb" -D "$work/data" -U postgres --auth-local=peer \
  --auth-host=scram-sha-256 --pwfile="$work/pwfile" -E UTF8 --no-locale --no-sync >/dev/null
as_server_user "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w \
  -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work" start >/dev/null

# The RLS example, with two local substitutes: the restart command restarts this
# throwaway server, and WAL is archived to a local directory instead of WAL-G.
mkdir -p "$work/wal-archive"
if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$work/wal-archive"; fi
restart="$bindir/pg_ctl -D $work/data -l $work/server.log -w -m fast restart"
if [ "$(id -u)" = 0 ]; then restart="runuser -u postgres -- $restart"; fi
sed -e "s|^restart_command = .*|restart_command = \"$restart\"|" \
    -e "s|^rpo = \"5m\"|rpo = \"5m\"\narchive_command = \"test ! -f $work/wal-archive/%f \&\& cp %p $work/wal-archive/%f\"|" \
    examples/rls-app/dbops.toml >"$work/dbops.toml"
export DBOPS_FILE="$work/dbops.toml"
export DATABASE_ROOT_URL="postgres://postgres:$admin_password@127.0.0.1:$port/postgres"
# Passwords with characters that must be percent-encoded in a URL.
export DATABASE_URL="postgres://app_user:app%20p%40ss%3Aword@127.0.0.1:$port/app"
export DATABASE_SERVICE_URL="postgres://app_service:svc%2Fp%25ss@127.0.0.1:$port/app"
export MIGRATOR_PASSWORD="migrator password"

step() { echo; echo "==> $*"; }
step "dbops validate"; "$dbops" validate
step "dbops plan"; "$dbops" plan
step "dbops apply --auto-approve --allow-restart   (archive_mode and wal_level need a restart)"
"$dbops" apply --auto-approve --allow-restart
step "dbops plan --detailed-exitcode   (expect: no changes, exit 0)"; "$dbops" plan --detailed-exitcode
step "someone raises a connection limit by hand"
"$bindir/psql" -X -q "$DATABASE_ROOT_URL" -c 'ALTER ROLE app_user CONNECTION LIMIT 500'
step "dbops drift   (expect: exit 2)"
set +e; "$dbops" drift; code=$?; set -e
echo "(drift exited $code)"
step "dbops apply --auto-approve   (repairs it)"; "$dbops" apply --auto-approve
step "dbops drift   (expect: in sync, exit 0)"; "$dbops" drift
echo
step "WAL archiving works: switch WAL and look in the archive"
"$bindir/psql" -X -q "$DATABASE_ROOT_URL" -c 'SELECT pg_switch_wal()' >/dev/null
for _ in $(seq 1 50); do
  [ -n "$(ls -A "$work/wal-archive")" ] && break
  sleep 0.2
done
ls "$work/wal-archive"
echo
echo "demo complete: plan -> apply -> no changes -> drift detected -> repaired -> in sync"
