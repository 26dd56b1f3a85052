//! `[postgres]`, `[roles.NAME]` and `[databases.NAME]` exactly as written: they
//! mirror the TOML, only validate its shape, and are the source of the JSON
//! Schema.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::secret::SecretRef;

/// `[postgres]`: the admin connection. It is used to observe and apply, and is not itself managed.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPostgres {
    /// The admin (superuser) DSN, for example `{ env = "DATABASE_ROOT_URL" }`.
    pub(crate) admin: SecretRef,
}

/// `[roles.NAME]`: one managed role. Every attribute defaults to PostgreSQL's own default.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRole {
    /// A DSN whose user is this role: gives its password and database, for example
    /// `{ env = "DATABASE_URL" }`. Exclusive with `password`.
    pub(crate) dsn: Option<SecretRef>,
    /// The role's password, when it has no DSN. Exclusive with `dsn`.
    pub(crate) password: Option<SecretRef>,
    /// May log in. Default: true when the role has a password or a DSN, else false.
    pub(crate) login: Option<bool>,
    /// Default: false.
    pub(crate) superuser: Option<bool>,
    /// Default: false.
    pub(crate) createdb: Option<bool>,
    /// Default: false.
    pub(crate) createrole: Option<bool>,
    /// Inherits the privileges of the roles it is a member of. Default: true.
    pub(crate) inherit: Option<bool>,
    /// Default: false.
    pub(crate) replication: Option<bool>,
    /// Bypasses row-level security. Default: false.
    pub(crate) bypass_rls: Option<bool>,
    /// Concurrent connections allowed; -1 means no limit. Default: -1.
    #[schemars(range(min = -1))]
    pub(crate) connection_limit: Option<i32>,
    /// Password expiry as an RFC 3339 timestamp (`2027-01-01T00:00:00Z`), or `infinity`. Default: never.
    pub(crate) valid_until: Option<String>,
    /// Roles this role is a member of. Memberships in other managed roles are authoritative.
    pub(crate) member_of: Option<Vec<String>>,
    /// The role must not exist: apply moves what it owns to `reassign_to`,
    /// revokes what it was granted and the default privileges it gives or
    /// receives in every database (`REASSIGN OWNED`, `DROP OWNED`), then
    /// drops it. Exclusive with every other key but `reassign_to` and
    /// `terminate_sessions`.
    pub(crate) absent: Option<bool>,
    /// With `absent`: the role that receives the objects it owns (needed
    /// when it owns any).
    pub(crate) reassign_to: Option<String>,
    /// With `absent`: end its open sessions (`pg_terminate_backend`) before
    /// dropping it. Without it, open sessions make apply refuse.
    pub(crate) terminate_sessions: Option<bool>,
}

/// `[databases.NAME]`: one managed database.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDatabase {
    /// The owning role. Default: left as it is (the admin for a database dbops creates).
    pub(crate) owner: Option<String>,
    /// Roles whose objects in this database (tables, views, sequences,
    /// functions, types, schemas) move to `owner`, object by object: for
    /// adopting a database where the application's role owns what migrations
    /// created. Needs `owner`.
    pub(crate) reassign_owned_from: Option<Vec<String>>,
}
