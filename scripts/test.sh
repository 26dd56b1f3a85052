#!/usr/bin/env bash
# Runs the whole test suite: unit tests, snapshots, doc tests and the
# integration suite, which starts its own PostgreSQL 15 servers on 127.0.0.1.
# Installs what a fresh machine lacks. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
ensure_postgres
export INSTA_UPDATE=no
cargo test --locked "$@"
