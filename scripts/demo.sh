#!/usr/bin/env bash
# dbops's main job against throwaway local servers it starts itself
# (PostgreSQL 15, an S3-compatible server, pgBouncer): plan -> apply -> plan
# (no changes) -> drift, then drift repaired. Everything is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
ensure_postgres
ensure_moto
ensure_pgbouncer
bindir="$DBOPS_PG_BINDIR"

echo "==> building dbops"
cargo build --locked --quiet
dbops="$PWD/target/debug/dbops"

work="$(mktemp -d -t dbops-demo-XXXXXX)"
as_server_user() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" >/dev/null 2>&1 || true; done
  pkill -f "$work/pgbouncer/pgbouncer.ini" >/dev/null 2>&1 || true
  as_server_user "$bindir/pg_ctl" -D "$work/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }

pg_port="$(free_port)"; s3_port="$(free_port)"; pool_port="$(free_port)"
admin_password="demo-admin-$RANDOM$RANDOM"
printf '%s' "$admin_password" >"$work/pwfile"
mkdir -p "$work/wal-archive" "$work/pgbouncer"
if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$work"; fi

echo "==> starting PostgreSQL on 127.0.0.1:$pg_port, moto (S3) on :$s3_port"
as_server_user "$bindir/initdb" -D "$work/data" -U postgres --auth-local=peer \
  --auth-host=scram-sha-256 --pwfile="$work/pwfile" -E UTF8 --no-locale --no-sync >/dev/null
as_server_user "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w \
  -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work" start >/dev/null
"$DBOPS_MOTO_SERVER" -H 127.0.0.1 -p "$s3_port" >/dev/null 2>&1 & pids+=($!)
wait_port "$s3_port"

# The RLS example, plus a bucket and the pooler, with local substitutes: the
# restart command restarts this server, and WAL is archived to a local folder.
restart="$bindir/pg_ctl -D $work/data -l $work/server.log -w -m fast restart"
owner=""
if [ "$(id -u)" = 0 ]; then restart="runuser -u postgres -- $restart"; owner='owner = "postgres"'; fi
sed -e "s|^restart_command = .*|restart_command = \"$restart\"|" \
    -e "s|^rpo = \"5m\"|rpo = \"5m\"\narchive_command = \"test ! -f $work/wal-archive/%f \&\& cp %p $work/wal-archive/%f\"|" \
    examples/rls-app/dbops.toml >"$work/dbops.toml"
cat >>"$work/dbops.toml" <<TOML

[bucket.db-backups]
endpoint = { env = "BACKUP_S3_ENDPOINT" }
access_key_id = { env = "BACKUP_AWS_ACCESS_KEY_ID" }
secret_access_key = { env = "BACKUP_AWS_SECRET_ACCESS_KEY" }
create = true
versioning = true
encryption = "AES256"
block_public_access = true

[[bucket.db-backups.lifecycle]]
id = "expire-wal"
prefix = "prod/wal_005/"
expire_after_days = 30
noncurrent_expire_after_days = 7

[pooler]
config_file = "$work/pgbouncer/pgbouncer.ini"
auth_file = "$work/pgbouncer/userlist.txt"
listen_addr = "127.0.0.1"
listen_port = $pool_port
admin_console = "localhost"
admin_password = { env = "PGBOUNCER_ADMIN_PASSWORD" }
$owner

[pooler.settings]
pidfile = "$work/pgbouncer/pgbouncer.pid"
logfile = "$work/pgbouncer/pgbouncer.log"
unix_socket_dir = ""
TOML
export DBOPS_FILE="$work/dbops.toml"
export DATABASE_ROOT_URL="postgres://postgres:$admin_password@127.0.0.1:$pg_port/postgres"
# The application reaches only the pooler. Passwords that need percent-encoding.
export DATABASE_URL="postgres://app_user:app%20p%40ss%3Aword@127.0.0.1:$pool_port/app"
export DATABASE_SERVICE_URL="postgres://app_service:svc%2Fp%25ss@127.0.0.1:$pool_port/app"
export MIGRATOR_PASSWORD="migrator password"
export BACKUP_S3_ENDPOINT="http://127.0.0.1:$s3_port"
export BACKUP_AWS_ACCESS_KEY_ID="AKIADEMO"
export BACKUP_AWS_SECRET_ACCESS_KEY="demo-secret"
export PGBOUNCER_ADMIN_PASSWORD="demo-bouncer-$RANDOM"

step() { echo; echo "==> $*"; }
step "dbops validate"; "$dbops" validate
step "dbops plan"; "$dbops" plan
step "dbops apply --auto-approve --allow-restart   (archive_mode needs a PostgreSQL restart)"
"$dbops" apply --auto-approve --allow-restart

step "pgBouncer starts on the files dbops rendered (dbops starts nothing itself)"
as_server_user /usr/sbin/pgbouncer -d "$work/pgbouncer/pgbouncer.ini"
wait_port "$pool_port"
PGPASSWORD='app p@ss:word' "$bindir/psql" -X -A -t -h 127.0.0.1 -p "$pool_port" -U app_user -d app \
  -c "SELECT 'logged in through pgBouncer as ' || current_user"

step "dbops plan --detailed-exitcode   (expect: no changes, exit 0)"; "$dbops" plan --detailed-exitcode
step "someone raises a connection limit and suspends bucket versioning by hand"
"$bindir/psql" -X -q "$DATABASE_ROOT_URL" -c 'ALTER ROLE app_user CONNECTION LIMIT 500'
"$(dirname "$DBOPS_MOTO_SERVER")/python" - "$s3_port" <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}", region_name="us-east-1",
                  aws_access_key_id="AKIADEMO", aws_secret_access_key="demo-secret")
s3.put_bucket_versioning(Bucket="db-backups", VersioningConfiguration={"Status": "Suspended"})
PY
step "dbops drift   (expect: exit 2)"
set +e; "$dbops" drift; code=$?; set -e
echo "(drift exited $code)"
step "dbops apply --auto-approve   (repairs it)"; "$dbops" apply --auto-approve
step "dbops drift   (expect: in sync, exit 0)"; "$dbops" drift

step "WAL archiving works: switch WAL and look in the archive"
"$bindir/psql" -X -q "$DATABASE_ROOT_URL" -c 'SELECT pg_switch_wal()' >/dev/null
for _ in $(seq 1 50); do
  [ -n "$(ls -A "$work/wal-archive")" ] && break
  sleep 0.2
done
ls "$work/wal-archive"
echo
echo "demo complete: plan -> apply -> no changes -> drift detected -> repaired -> in sync"
