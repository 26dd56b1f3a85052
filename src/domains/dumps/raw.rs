//! `[dumps]` exactly as written.

use schemars::JsonSchema;
use serde::Deserialize;

/// Logical dumps with pg_dump, taken by `dbops dump`, checked by `drift`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDumps {
    /// The databases to dump. Default: the databases dbops manages.
    pub(crate) databases: Option<Vec<String>>,
    /// A local directory (absolute) to write the sets into.
    pub(crate) directory: Option<String>,
    /// Or a bucket (a `[bucket.NAME]` table)...
    pub(crate) bucket: Option<String>,
    /// ...and the key prefix inside it. Default: `dumps`.
    pub(crate) prefix: Option<String>,
    /// `custom` (the default; one file, streamed) or `directory` (parallel
    /// with `jobs`; a local `directory` destination only).
    pub(crate) format: Option<DumpFormat>,
    /// pg_dump's `--jobs` for the `directory` format.
    #[schemars(range(min = 1, max = 64))]
    pub(crate) jobs: Option<u32>,
    /// How often `dbops dump` is scheduled, e.g. `24h` (for health).
    pub(crate) interval: String,
    /// The newest complete set must be younger than this. Default: the
    /// interval plus a twelfth (`24h` gives `26h`).
    pub(crate) max_age: Option<String>,
    /// Recovery point objective of the dumps. Default: the interval, which
    /// must not exceed it.
    pub(crate) rpo: Option<String>,
    /// Recovery time objective of a restore from a dump. Default: `1h`.
    pub(crate) rto: Option<String>,
    /// A passing `restore-test --source dumps` must be younger than this.
    /// Default: not checked.
    pub(crate) restore_test_max_age: Option<String>,
    /// Tables counted exactly in the manifest (`schema.table`); the others
    /// get the planner's estimate.
    #[serde(default)]
    pub(crate) count_rows: Vec<String>,
    /// Directory of `pg_dump` and `pg_dumpall`. Default: `pg_config
    /// --bindir`, else `PATH`.
    pub(crate) bindir: Option<String>,
    /// Which sets are kept.
    pub(crate) retention: Option<RawDumpRetention>,
}

/// `pg_dump --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DumpFormat {
    Custom,
    Directory,
}

/// Age windows, the meaning `[backup.retention]` has too: every set for
/// `daily` days, the first set of each ISO week for `weekly` x 7 days, the
/// first set of each month for `monthly` x 30 days (UTC).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDumpRetention {
    /// Default 7.
    #[schemars(range(max = 3650))]
    pub(crate) daily: Option<u32>,
    /// Default 4.
    #[schemars(range(max = 520))]
    pub(crate) weekly: Option<u32>,
    /// Default 3.
    #[schemars(range(max = 120))]
    pub(crate) monthly: Option<u32>,
}
