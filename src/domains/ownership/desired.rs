//! The ownership domain's desired state, derived from `[databases.NAME]` and
//! the roles with DSNs.

use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DatabaseOwnership {
    /// Roles whose objects move to `owner`.
    pub(crate) reassign_from: BTreeSet<String>,
    /// The database's declared owner, who receives them.
    pub(crate) owner: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DesiredOwnership {
    /// Every managed database.
    pub(crate) databases: BTreeMap<String, DatabaseOwnership>,
    /// Roles the application logs in as (with a DSN), and whether they bypass RLS.
    pub(crate) dsn_roles: BTreeMap<String, bool>,
}

impl DesiredOwnership {
    /// Roles whose objects are read: reassign sources and DSN roles.
    pub(crate) fn roles(&self) -> BTreeSet<String> {
        let mut roles: BTreeSet<String> = self.dsn_roles.keys().cloned().collect();
        for database in self.databases.values() {
            roles.extend(database.reassign_from.iter().cloned());
        }
        roles
    }
}
