//! The grants domain's desired state: one entry per declared scope
//! (role x database x schema x kind), with the exact privileges it must hold
//! and, optionally, the default privileges for objects a role creates later.

use std::collections::{BTreeMap, BTreeSet};

use super::privilege::{ObjectKind, Privilege};

/// Everything a declared grant governs; the file makes it exactly equal to the
/// listed privileges, and nothing outside any scope is touched.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Scope {
    pub(crate) role: String,
    pub(crate) database: String,
    /// `None` for database-level grants.
    pub(crate) schema: Option<String>,
    pub(crate) on: ObjectKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DesiredGrant {
    pub(crate) scope: Scope,
    pub(crate) privileges: BTreeSet<Privilege>,
    /// `ALTER DEFAULT PRIVILEGES FOR ROLE <this>` covers objects it creates later.
    pub(crate) default_for: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DesiredGrants {
    pub(crate) grants: BTreeMap<Scope, DesiredGrant>,
}

impl DesiredGrants {
    /// The databases grants live in, each observed over its own session.
    pub(crate) fn databases(&self) -> BTreeSet<String> {
        self.grants.keys().map(|s| s.database.clone()).collect()
    }

    pub(crate) fn roles(&self) -> BTreeSet<String> {
        let mut roles: BTreeSet<String> = self.grants.keys().map(|s| s.role.clone()).collect();
        roles.extend(self.grants.values().filter_map(|g| g.default_for.clone()));
        roles
    }

    pub(crate) fn schemas_in(&self, database: &str) -> BTreeSet<String> {
        self.grants
            .keys()
            .filter(|s| s.database == database)
            .filter_map(|s| s.schema.clone())
            .collect()
    }
}
