#!/usr/bin/env bash
# Runs the whole test suite: unit tests, snapshots, doc tests and the
# integration suite, which starts its own PostgreSQL 15, S3 (moto, s3s-fs),
# pgBouncer, pgBackRest and TLS-proxy servers on 127.0.0.1. Installs what a
# fresh machine lacks.
# Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
ensure_postgres
ensure_moto
ensure_s3s_fs
ensure_pgbouncer
ensure_pgbackrest
ensure_pg_cron
ensure_prometheus_tools
ensure_jq
ensure_kubernetes_validate
ensure_groff
ensure_lint_tools
export INSTA_UPDATE=no
# Every server the suite starts inherits this mark; none may outlive it.
DBOPS_TEST_RUN="dbops-test-$$-$(date +%s%N)"
export DBOPS_TEST_RUN
cargo test --locked "$@"
# The test-only example domain, in a build of its own (see docs/architecture.md).
if [ "$#" -eq 0 ]; then
  cargo test --locked --features example-domain --test integration example_domain
fi
check_nothing_left_running
