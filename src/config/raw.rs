//! The desired-state file exactly as written: the low-level form of `dbops.toml`.
//!
//! These types mirror the TOML and only validate its shape (unknown keys are
//! errors). They are also the source of `schemas/dbops.schema.json`, so the
//! schema editors use and the parser can never disagree. Resolving references,
//! parsing DSNs and cross-checks happen in `resolve`, never here.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::secret_ref::SecretRef;
use crate::settings::value::SettingValue;

/// dbops desired-state file (`dbops.toml`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "dbops desired-state file")]
pub struct RawConfig {
    /// How dbops reaches the server as an administrator.
    pub postgres: RawPostgres,
    /// Managed roles, by role name.
    #[serde(default)]
    pub roles: BTreeMap<String, RawRole>,
    /// Managed databases, by database name. Databases named in a role's DSN are managed too.
    #[serde(default)]
    pub databases: BTreeMap<String, RawDatabase>,
    /// Privileges: each entry declares a scope (role x database x schema x object kind)
    /// that dbops makes exactly equal to the listed privileges.
    #[serde(default)]
    pub grants: Vec<RawGrant>,
    /// Server settings (postgresql.conf overrides, via `ALTER SYSTEM`).
    pub server: Option<RawServer>,
    /// Continuous archiving: the backup tool and recovery targets.
    pub backup: Option<RawBackup>,
}

/// `[[grants]]`: privileges of one role on one kind of object.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawGrant {
    /// The grantee.
    pub role: String,
    /// The database the objects live in.
    pub database: String,
    /// The schema; required unless `on = "database"`.
    pub schema: Option<String>,
    /// The kind of object.
    pub on: GrantOn,
    /// Privileges, e.g. `["SELECT", "INSERT", "UPDATE", "DELETE"]`, or `["ALL"]`.
    pub privileges: Vec<String>,
    /// Also set `ALTER DEFAULT PRIVILEGES` so objects created later get these privileges.
    #[serde(default)]
    pub default: bool,
    /// With `default = true`: the role whose future objects the default privileges cover
    /// (typically the migration role).
    pub for_role: Option<String>,
}

/// What a grant covers.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum GrantOn {
    Database,
    Schema,
    Tables,
    Sequences,
    Functions,
}

/// `[server]`: server-wide configuration.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    /// Settings by name, applied with `ALTER SYSTEM SET` and `pg_reload_conf()`.
    #[serde(default)]
    pub settings: BTreeMap<String, SettingValue>,
    /// Reset settings in postgresql.auto.conf that `settings` does not name. Default: false.
    #[serde(default)]
    pub prune: bool,
    /// Shell command that restarts PostgreSQL (e.g. `docker compose restart postgres`),
    /// run by `apply --allow-restart` when a setting waits for a restart.
    pub restart_command: Option<String>,
}

/// `[backup]`: continuous archiving with WAL-G or pgBackRest.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum BackupTool {
    #[serde(rename = "wal-g")]
    WalG,
    #[serde(rename = "pgbackrest")]
    PgBackRest,
}

/// `[postgres]`: the admin connection. It is used to observe and apply, and is not itself managed.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPostgres {
    /// The admin (superuser) DSN, for example `{ env = "DATABASE_ROOT_URL" }`.
    pub admin: SecretRef,
}

/// `[roles.NAME]`: one managed role. Every attribute defaults to PostgreSQL's own default.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRole {
    /// A DSN whose user is this role: gives its password and database, for example
    /// `{ env = "DATABASE_URL" }`. Exclusive with `password`.
    pub dsn: Option<SecretRef>,
    /// The role's password, when it has no DSN. Exclusive with `dsn`.
    pub password: Option<SecretRef>,
    /// May log in. Default: true when the role has a password or a DSN, else false.
    pub login: Option<bool>,
    /// Default: false.
    pub superuser: Option<bool>,
    /// Default: false.
    pub createdb: Option<bool>,
    /// Default: false.
    pub createrole: Option<bool>,
    /// Inherits the privileges of the roles it is a member of. Default: true.
    pub inherit: Option<bool>,
    /// Default: false.
    pub replication: Option<bool>,
    /// Bypasses row-level security. Default: false.
    pub bypass_rls: Option<bool>,
    /// Concurrent connections allowed; -1 means no limit. Default: -1.
    #[schemars(range(min = -1))]
    pub connection_limit: Option<i32>,
    /// Password expiry as an RFC 3339 timestamp (`2027-01-01T00:00:00Z`), or `infinity`. Default: never.
    pub valid_until: Option<String>,
    /// Roles this role is a member of. Memberships in other managed roles are authoritative.
    pub member_of: Option<Vec<String>>,
}

/// `[databases.NAME]`: one managed database.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDatabase {
    /// The owning role. Default: left as it is (the admin for a database dbops creates).
    pub owner: Option<String>,
}
