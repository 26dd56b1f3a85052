//! Every metric dbops writes, defined once: names follow Prometheus's
//! conventions (`dbops_` prefix, base units, `_seconds`, `_bytes`,
//! `_timestamp_seconds`, `_total` only for counters). Points in time are
//! timestamps, never ages: a file written at 02:00 is read all day, so alert
//! rules compute `time() - x`. docs/monitoring.md lists this table (a test
//! keeps them equal).

use super::{Kind, Metric};

macro_rules! metrics {
    ($( $(#[$doc:meta])* $id:ident = $name:literal, $kind:ident, [$($label:literal),*], $help:literal; )+) => {
        $( $(#[$doc])* pub(crate) static $id: Metric = Metric {
            name: $name,
            kind: Kind::$kind,
            help: $help,
            labels: &[$($label),*],
        }; )+
        /// The catalogue in the order files list it.
        pub(crate) static ALL: &[&Metric] = &[$(&$id),+];
    };
}

metrics! {
    RUN_SUCCESS = "dbops_run_success", Gauge, [],
        "1 when the run succeeded (exit 0), 0 when it failed or found a problem.";
    RUN_EXIT_CODE = "dbops_run_exit_code", Gauge, [],
        "The run's exit code: 0 clean, 1 error, 2 drift or findings.";
    RUN_TIMESTAMP = "dbops_run_timestamp_seconds", Gauge, [],
        "When the run ended, in seconds since the Unix epoch.";
    RUN_DURATION = "dbops_run_duration_seconds", Gauge, [],
        "How long the run took.";
    LAST_SUCCESS = "dbops_last_success_timestamp_seconds", Gauge, [],
        "When the command last succeeded (carried over from the previous file while it fails; 0 if never).";
    ERRORS = "dbops_run_errors", Gauge, [],
        "Errors the run reported.";
    DRIFT_CHANGES = "dbops_drift_changes", Gauge, ["domain"],
        "Changes apply would make, by domain (the first word of their addresses).";
    PENDING_RESTART = "dbops_pending_restart_settings", Gauge, [],
        "Declared settings written but waiting for a PostgreSQL restart.";
    FINDINGS = "dbops_findings", Gauge, ["class"],
        "Findings of the run, by class (`health`, `security`).";
    FINDING = "dbops_finding", Gauge, ["id", "class"],
        "Findings of the run with this id (present only while the check fails).";
    APPLIED_CHANGES = "dbops_apply_changes", Gauge, ["domain"],
        "Changes apply made, by domain.";
    PASSWORDS_VERIFIED = "dbops_apply_passwords_verified", Gauge, [],
        "Managed passwords apply verified unchanged against their stored verifiers.";
    PASSWORDS_ROTATED = "dbops_apply_passwords_rotated", Gauge, [],
        "Managed passwords apply set because they differed.";
    BACKUP_NEWEST_FULL = "dbops_backup_newest_full_timestamp_seconds", Gauge, [],
        "When the newest complete full backup completed (0 when there is none).";
    BACKUP_FULL_COUNT = "dbops_backup_full_backups", Gauge, [],
        "Complete full backups in the repository.";
    WAL_CHAIN_MISSING = "dbops_wal_chain_missing_segments", Gauge, [],
        "WAL segments the oldest retained full backup needs that the archive lacks (only when the chain was checked: `drift --deep` or `[backup] wal_chain_state`).";
    WAL_LAST_ARCHIVED = "dbops_wal_last_archived_timestamp_seconds", Gauge, [],
        "When the server last archived a WAL segment (0 when never since its statistics began).";
    ARCHIVER_FAILED = "dbops_archiver_failed_total", Counter, [],
        "Failed archive attempts since the server's statistics began (`pg_stat_archiver.failed_count`).";
    ARCHIVER_LAST_FAILED = "dbops_archiver_last_failure_timestamp_seconds", Gauge, [],
        "When archiving last failed (0 when never).";
    ARCHIVER_READY = "dbops_archiver_ready_segments", Gauge, [],
        "WAL segments waiting to be archived (`archive_status/*.ready`).";
    WAL_SIZE = "dbops_wal_size_bytes", Gauge, [],
        "The size of the server's `pg_wal` directory.";
    WAL_SIZE_LIMIT = "dbops_wal_size_limit_bytes", Gauge, [],
        "The declared limit for `pg_wal` (`capacity.wal_size_limit`).";
    DATA_FILESYSTEM_SIZE = "dbops_data_filesystem_size_bytes", Gauge, [],
        "The size of the filesystem holding the data directory (on the database host).";
    DATA_FILESYSTEM_FREE = "dbops_data_filesystem_free_bytes", Gauge, [],
        "Free space on the filesystem holding the data directory (on the database host).";
    RESTORE_TEST_LAST_SUCCESS = "dbops_restore_test_last_success_timestamp_seconds", Gauge, [],
        "When the newest passing restore test ran (0 when none counts).";
    RESTORE_TEST_SUCCESS = "dbops_restore_test_success", Gauge, [],
        "1 when this restore test passed.";
    RESTORE_TEST_DURATION = "dbops_restore_test_duration_seconds", Gauge, [],
        "Wall-clock time of the restore (fetch and replay).";
    RESTORE_TEST_RTO = "dbops_restore_test_rto_seconds", Gauge, [],
        "The declared recovery time objective.";
    RESTORE_TEST_DATA_LOSS = "dbops_restore_test_data_loss_window_seconds", Gauge, [],
        "The data-loss window the restore test measured.";
    RESTORE_TEST_RPO = "dbops_restore_test_rpo_seconds", Gauge, [],
        "The declared recovery point objective.";
    DUMP_NEWEST = "dbops_dump_newest_timestamp_seconds", Gauge, ["database"],
        "When the newest complete dump set of the database was taken (0 when there is none).";
    DUMP_SETS = "dbops_dump_sets", Gauge, ["database"],
        "Complete dump sets of the database at the destination.";
    DUMP_NEWEST_BYTES = "dbops_dump_newest_bytes", Gauge, ["database"],
        "The size of the newest complete dump of the database.";
    DUMP_SUCCESS = "dbops_dump_success", Gauge, ["database"],
        "1 when this `dbops dump` wrote the database's set, 0 when it failed.";
    DUMP_BYTES = "dbops_dump_bytes", Gauge, ["database"],
        "The size of the dump this run wrote.";
    DUMP_DURATION = "dbops_dump_duration_seconds", Gauge, ["database"],
        "How long this run's dump of the database took.";
    NOTIFICATIONS_FAILED = "dbops_notifications_failed", Gauge, [],
        "Notifications this run could not deliver.";
    NOTIFICATIONS_SENT = "dbops_notifications_sent", Gauge, [],
        "Notifications this run delivered.";
}
