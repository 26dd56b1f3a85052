//! `[capacity]` exactly as written.

use schemars::JsonSchema;
use serde::Deserialize;

/// Room left on the server, checked by `drift`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCapacity {
    /// A health finding when `pg_wal` holds more than this (`512MB`, `8GB`;
    /// units `B`, `kB`, `MB`, `GB`, `TB`, 1024-based as in PostgreSQL).
    /// Needs `pg_monitor` or superuser to read. Default: not checked.
    pub(crate) wal_size_limit: Option<String>,
    /// A health finding when the data directory's filesystem is fuller than
    /// this percentage (1 to 99; default 80). Read only where dbops runs on
    /// the database host.
    pub(crate) disk_usage_percent: Option<u8>,
}
