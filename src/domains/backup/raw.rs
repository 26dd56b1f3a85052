//! `[backup]` exactly as written.

use schemars::JsonSchema;
use serde::Deserialize;

use super::desired::BackupTool;

/// `[backup]`: continuous archiving with WAL-G or pgBackRest.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBackup {
    /// `wal-g` or `pgbackrest`. Default: `wal-g`.
    pub tool: Option<BackupTool>,
    /// Recovery point objective, e.g. `5m`: `archive_timeout` must not exceed it.
    pub rpo: String,
    /// The bucket (a `[bucket.NAME]` table) that holds the backups.
    pub bucket: Option<String>,
    /// Key prefix inside the bucket.
    pub prefix: Option<String>,
    /// pgBackRest stanza. Default: `main`.
    pub stanza: Option<String>,
    /// The `archive_command` to use instead of the tool's default
    /// (`wal-g wal-push %p`, `pgbackrest --stanza=STANZA archive-push %p`).
    pub archive_command: Option<String>,
    /// Full (base) backups kept. Default: 7.
    #[schemars(range(min = 1, max = 9999))]
    pub full_backups: Option<u32>,
    /// How often a full backup is taken, e.g. `1d`. Default: `1d`.
    pub full_backup_interval: Option<String>,
    /// Days of WAL kept. Default: enough for the oldest kept full backup.
    #[schemars(range(min = 1, max = 9999))]
    pub wal_days: Option<u32>,
    /// WAL-G: write its environment (`WALG_S3_PREFIX`, `AWS_*`) to this file.
    pub env_file: Option<String>,
    /// pgBackRest: write `pgbackrest.conf` to this file.
    pub config_file: Option<String>,
    /// Owner (`user` or `user:group`) of the rendered files. Default: unchanged.
    pub file_owner: Option<String>,
    /// WAL-G compression method. Default: `lz4`.
    pub compression: Option<Compression>,
    /// pgBackRest `pg1-path`: the data directory. Default: `/var/lib/postgresql/data`.
    pub pg_data: Option<String>,
    /// The S3 endpoint as the backup tool reaches it, when it differs from the
    /// bucket's (another network, a TLS proxy). Default: the bucket's endpoint.
    pub tool_endpoint: Option<String>,
    /// CA certificate the backup tool trusts for its endpoint (pgBackRest
    /// `repo1-storage-ca-file`, WAL-G `WALG_S3_CA_CERT_FILE`).
    pub ca_file: Option<String>,
    /// Newest archived WAL must be younger than this. Default: twice `rpo`.
    pub max_wal_age: Option<String>,
    /// Newest full backup must be younger than this. Default: `26h`.
    pub max_base_backup_age: Option<String>,
    /// Newest `restore-tests/YYYY-MM-DD/` folder must be younger than this (e.g. `35d`). Default: not checked.
    pub restore_test_max_age: Option<String>,
}

/// WAL-G's compression methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    Lz4,
    Lzma,
    Zstd,
    Brotli,
}

impl Compression {
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Lz4 => "lz4",
            Compression::Lzma => "lzma",
            Compression::Zstd => "zstd",
            Compression::Brotli => "brotli",
        }
    }
}
