//! `[backup]` exactly as written.

use schemars::JsonSchema;
use serde::Deserialize;

use super::desired::BackupTool;

/// `[backup]`: continuous archiving with WAL-G or pgBackRest.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBackup {
    /// `wal-g` or `pgbackrest`. Default: `wal-g`.
    pub(crate) tool: Option<BackupTool>,
    /// Recovery point objective, e.g. `5m`: `archive_timeout` must not exceed it.
    pub(crate) rpo: String,
    /// The bucket (a `[bucket.NAME]` table) that holds the backups.
    pub(crate) bucket: Option<String>,
    /// Key prefix inside the bucket.
    pub(crate) prefix: Option<String>,
    /// pgBackRest stanza. Default: `main`.
    pub(crate) stanza: Option<String>,
    /// The `archive_command` to use instead of the tool's default
    /// (`wal-g wal-push %p`, `pgbackrest --stanza=STANZA archive-push %p`).
    pub(crate) archive_command: Option<String>,
    /// Deprecated: write `[backup.retention]`. Full (base) backups kept.
    #[schemars(range(min = 1, max = 9999))]
    pub(crate) full_backups: Option<u32>,
    /// Deprecated: write `[backup.retention]`. How often a full backup is taken.
    pub(crate) full_backup_interval: Option<String>,
    /// Deprecated: write `[backup.retention] wal_days`.
    #[schemars(range(min = 1, max = 9999))]
    pub(crate) wal_days: Option<u32>,
    /// Which full backups and how much WAL are kept. Default: 7 daily, 4
    /// weekly, WAL for 30 days.
    pub(crate) retention: Option<RawRetention>,
    /// Recovery time objective, e.g. `1h`: how long `dbops restore-test` may
    /// take from fetching the backup to a promoted server. Default: `1h`.
    pub(crate) rto: Option<String>,
    /// How the backup sidecar reaches PostgreSQL (`wal-g backup-push`,
    /// `pgbackrest backup`): a DSN rendered into the WAL-G env file as
    /// `PGHOST`/`PGPORT`/`PGUSER`/`PGDATABASE`/`PGPASSWORD` and into
    /// pgbackrest.conf as `pg1-*`. Default: none rendered.
    pub(crate) connection: Option<crate::secret::SecretRef>,
    /// WAL-G: write its environment (`WALG_S3_PREFIX`, `AWS_*`) to this file.
    pub(crate) env_file: Option<String>,
    /// pgBackRest: write `pgbackrest.conf` to this file.
    pub(crate) config_file: Option<String>,
    /// Owner (`user` or `user:group`) of the rendered files. Default: unchanged.
    pub(crate) file_owner: Option<String>,
    /// WAL-G compression method. Default: `lz4`.
    pub(crate) compression: Option<Compression>,
    /// pgBackRest `pg1-path`: the data directory. Default: `/var/lib/postgresql/data`.
    pub(crate) pg_data: Option<String>,
    /// The S3 endpoint as the backup tool reaches it, when it differs from the
    /// bucket's (another network, a TLS proxy). Default: the bucket's endpoint.
    pub(crate) tool_endpoint: Option<String>,
    /// CA certificate the backup tool trusts for its endpoint (pgBackRest
    /// `repo1-storage-ca-file`, WAL-G `WALG_S3_CA_CERT_FILE`).
    pub(crate) ca_file: Option<String>,
    /// Newest archived WAL must be younger than this. Default: twice `rpo`.
    pub(crate) max_wal_age: Option<String>,
    /// Newest full backup must be younger than this. Default: `26h`.
    pub(crate) max_base_backup_age: Option<String>,
    /// The newest passing restore-test evidence must be younger than this
    /// (e.g. `35d`). Default: `35d` when `[restore_test]` is declared, else not checked.
    pub(crate) restore_test_max_age: Option<String>,
    /// How long after the first full backup a missing restore test is not yet
    /// a finding. Default: `7d`.
    pub(crate) restore_test_grace: Option<String>,
    /// How long a backup may go without a write before, still not complete,
    /// it counts as dead (drift's `backup.health.incomplete_backup`). Default `1h`.
    pub(crate) incomplete_backup_grace: Option<String>,
    /// An absolute path where drift keeps the WAL chain's verified
    /// watermark (JSON, 0600): with it every drift checks the chain,
    /// listing only the segments archived since; `drift --deep` checks it
    /// whole. Without it, only `drift --deep` checks the chain.
    pub(crate) wal_chain_state: Option<String>,
    /// pgBackRest: the second and further copies (`repo2`, `repo3`...), in
    /// order; `bucket`/`prefix` above stay repository 1. Each gets every
    /// archived segment (`archive-push` writes to all) and its own full
    /// backups (`pgbackrest backup --repo=N`).
    pub(crate) repositories: Option<Vec<RawRepository>>,
}

/// `[[backup.repositories]]`: one more pgBackRest repository, a bucket or
/// a directory.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRepository {
    /// A declared `[bucket.NAME]` (its own endpoint, region, credentials, CA).
    pub(crate) bucket: Option<String>,
    /// Key prefix inside that bucket. Default: the bucket's root.
    pub(crate) prefix: Option<String>,
    /// The bucket's S3 endpoint as pgBackRest reaches it. Default: the bucket's.
    pub(crate) tool_endpoint: Option<String>,
    /// CA certificate pgBackRest trusts for that endpoint (`repoN-storage-ca-file`).
    pub(crate) ca_file: Option<String>,
    /// Or an absolute directory (`repoN-type=posix`): a second disk, an NFS
    /// mount. Drift reads it where it runs.
    pub(crate) path: Option<String>,
}

/// `[backup.retention]`: the full backups and WAL the backups keep.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRetention {
    /// Daily full backups kept (one per day, the newest days). Default: 7.
    #[schemars(range(max = 9999))]
    pub(crate) daily: Option<u32>,
    /// Weekly full backups kept (one per 7 days). Default: 4.
    #[schemars(range(max = 9999))]
    pub(crate) weekly: Option<u32>,
    /// Monthly full backups kept (one per 30 days). Default: 0.
    #[schemars(range(max = 9999))]
    pub(crate) monthly: Option<u32>,
    /// Days of point-in-time recovery: WAL kept this long. Default: 30.
    #[schemars(range(min = 1, max = 99999))]
    pub(crate) wal_days: Option<u32>,
}

/// WAL-G's compression methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Compression {
    Lz4,
    Lzma,
    Zstd,
    Brotli,
}

impl Compression {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Compression::Lz4 => "lz4",
            Compression::Lzma => "lzma",
            Compression::Zstd => "zstd",
            Compression::Brotli => "brotli",
        }
    }
}
