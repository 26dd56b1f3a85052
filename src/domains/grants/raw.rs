//! `[[grants]]` exactly as written.

use schemars::JsonSchema;
use serde::Deserialize;

use super::privilege::{ObjectKind, PrivilegeName};

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
    pub on: ObjectKind,
    /// Privileges, e.g. `["SELECT", "INSERT", "UPDATE", "DELETE"]`, or `["ALL"]`.
    #[schemars(with = "Vec<PrivilegeName>")]
    pub privileges: Vec<String>,
    /// Also set `ALTER DEFAULT PRIVILEGES` so objects created later get these privileges.
    #[serde(default)]
    pub default: bool,
    /// With `default = true`: the role whose future objects the default privileges cover
    /// (typically the migration role).
    pub for_role: Option<String>,
}
