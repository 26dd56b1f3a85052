//! `[[grants]]` exactly as written.

use schemars::JsonSchema;
use serde::Deserialize;

use super::privilege::{ObjectKind, PrivilegeName};

/// `[[grants]]`: privileges of one role on one kind of object.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGrant {
    /// The grantee.
    pub(crate) role: String,
    /// The database the objects live in.
    pub(crate) database: String,
    /// The schema; required unless `on = "database"`.
    pub(crate) schema: Option<String>,
    /// The kind of object.
    pub(crate) on: ObjectKind,
    /// Privileges, e.g. `["SELECT", "INSERT", "UPDATE", "DELETE"]`, or `["ALL"]`.
    #[schemars(with = "Vec<PrivilegeName>")]
    pub(crate) privileges: Vec<String>,
    /// Also set `ALTER DEFAULT PRIVILEGES` so objects created later get these privileges.
    #[serde(default)]
    pub(crate) default: bool,
    /// With `default = true`: the role whose future objects the default privileges cover
    /// (typically the migration role).
    pub(crate) for_role: Option<String>,
}
