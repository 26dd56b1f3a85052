//! The desired-state file exactly as written: the low-level form of `dbops.toml`.
//!
//! The top level gathers each domain's section type; those types mirror the
//! TOML and only validate its shape (unknown keys are errors). They are also
//! the source of `schemas/dbops.schema.json`, so the schema editors use and
//! the parser can never disagree.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::domains::backup::raw::RawBackup;
use crate::domains::bucket::raw::RawBucket;
use crate::domains::grants::raw::RawGrant;
use crate::domains::pooler::raw::RawPooler;
use crate::domains::postgres::raw::{RawDatabase, RawPostgres, RawRole};
use crate::domains::settings::raw::RawServer;
use crate::drill::settings::RawRestoreTest;

/// dbops desired-state file (`dbops.toml`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "dbops desired-state file")]
pub(crate) struct RawConfig {
    /// How dbops reaches the server as an administrator.
    pub(crate) postgres: RawPostgres,
    /// Managed roles, by role name.
    #[serde(default)]
    pub(crate) roles: BTreeMap<String, RawRole>,
    /// Managed databases, by database name. Databases named in a role's DSN are managed too.
    #[serde(default)]
    pub(crate) databases: BTreeMap<String, RawDatabase>,
    /// Privileges: each entry declares a scope (role x database x schema x object kind)
    /// that dbops makes exactly equal to the listed privileges.
    #[serde(default)]
    pub(crate) grants: Vec<RawGrant>,
    /// Server settings (postgresql.conf overrides, via `ALTER SYSTEM`).
    pub(crate) server: Option<RawServer>,
    /// Continuous archiving: the backup tool and recovery targets.
    pub(crate) backup: Option<RawBackup>,
    /// Logical dumps with pg_dump (`dbops dump`), beside or instead of `[backup]`.
    pub(crate) dumps: Option<crate::domains::dumps::raw::RawDumps>,
    /// `dbops restore-test`: the throwaway server and its checks.
    pub(crate) restore_test: Option<RawRestoreTest>,
    /// S3-compatible buckets (AWS S3, Cloudflare R2, Backblaze B2, MinIO), by bucket name.
    #[serde(default)]
    pub(crate) bucket: BTreeMap<String, RawBucket>,
    /// The pgBouncer connection pooler in front of PostgreSQL.
    pub(crate) pooler: Option<RawPooler>,
    /// Room left on the server: `pg_wal`'s size and the data directory's disk.
    pub(crate) capacity: Option<crate::domains::capacity::raw::RawCapacity>,
    /// Webhooks told when a run fails and when it recovers.
    pub(crate) notify: Option<crate::notify::raw::RawNotify>,
    /// A test-only domain (the `example-domain` feature).
    #[cfg(feature = "example-domain")]
    pub(crate) example_domain: Option<crate::domains::example::raw::RawExample>,
}
