//! The grants domain's live state, per database: privileges of the roles of
//! interest on the database, on the declared schemas, on every table, sequence
//! and function in them, and their default privileges.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::privilege::{ObjectKind, Privilege};

/// Privileges by grantee.
pub type Acl = BTreeMap<String, BTreeSet<Privilege>>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveObject {
    pub schema: String,
    /// `Tables`, `Sequences` or `Functions`.
    pub kind: ObjectKind,
    /// `schema.name` or `schema.name(args)`, for people.
    pub display: String,
    /// The object as SQL names it, quoted by the server (`format('%I.%I')`).
    pub target: String,
    pub owner: String,
    pub acl: Acl,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveSchema {
    pub owner: String,
    pub acl: Acl,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LiveDatabaseGrants {
    /// False for a database that does not exist yet (apply creates it first).
    pub exists: bool,
    pub database_acl: Acl,
    pub schemas: BTreeMap<String, LiveSchema>,
    pub objects: Vec<LiveObject>,
    pub defaults: Vec<LiveDefault>,
}

/// `ALTER DEFAULT PRIVILEGES FOR ROLE creator IN SCHEMA schema ... ON kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveDefault {
    pub creator: String,
    pub schema: String,
    pub kind: ObjectKind,
    pub acl: Acl,
}

impl LiveDatabaseGrants {
    pub fn default_acl(&self, creator: &str, schema: &str, kind: ObjectKind) -> Option<&Acl> {
        self.defaults
            .iter()
            .find(|d| d.creator == creator && d.schema == schema && d.kind == kind)
            .map(|d| &d.acl)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LiveGrants {
    pub databases: BTreeMap<String, LiveDatabaseGrants>,
    #[serde(skip)]
    pub statements: usize,
}
