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

ensure_postgres() {
  if [ -z "$(pg_bindir)" ] || ! command -v psql >/dev/null 2>&1; then
    echo "installing PostgreSQL 15 server binaries..." >&2
    apt_install postgresql-15 postgresql-client-15
  fi
  DBOPS_PG_BINDIR="$(pg_bindir)"
  export DBOPS_PG_BINDIR
}
