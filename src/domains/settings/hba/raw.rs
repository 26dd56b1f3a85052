//! `[server.hba]` exactly as written.

use schemars::JsonSchema;
use serde::Deserialize;

/// `[server.hba]`: PostgreSQL's `pg_hba.conf`, managed.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHba {
    /// Where the application's roles (those with a DSN) may connect from:
    /// `"local"` (the Unix socket) and/or the CIDRs of the pooler
    /// (`"10.0.0.5/32"`). Anywhere else they are rejected.
    #[serde(default)]
    pub(crate) application_from: Vec<String>,
    /// Further lines, in order, after the derived ones.
    #[serde(default)]
    pub(crate) rules: Vec<RawRule>,
}

/// One declared line of `pg_hba.conf`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    /// `local`, `host`, `hostssl` or `hostnossl`.
    #[serde(rename = "type")]
    pub(crate) kind: String,
    /// Database names, or `all`.
    pub(crate) database: Vec<String>,
    /// Role names, `+group` for a group's members, or `all`.
    pub(crate) user: Vec<String>,
    /// A CIDR (`127.0.0.1/32`, `::1/128`) or `all`; not for `local`.
    pub(crate) address: Option<String>,
    /// `scram-sha-256`, `peer`, `cert` or `reject`.
    pub(crate) method: String,
}
