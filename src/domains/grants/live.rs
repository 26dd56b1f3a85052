//! The grants domain's live state, per database: privileges of the roles of
//! interest on the database, on the declared schemas, on the tables,
//! sequences and functions in them that differ from the declaration (with
//! counts of the rest), and their default privileges.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::privilege::{ObjectKind, Privilege};

/// Privileges by grantee.
pub(crate) type Acl = BTreeMap<String, BTreeSet<Privilege>>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct LiveObject {
    pub(crate) schema: String,
    /// `Tables`, `Sequences` or `Functions`.
    pub(crate) kind: ObjectKind,
    /// `schema.name` or `schema.name(args)`, for people (shared with the
    /// plan's attributes that name it).
    pub(crate) display: std::sync::Arc<str>,
    /// The object as SQL names it, quoted by the server (`format('%I.%I')`).
    pub(crate) target: String,
    pub(crate) owner: String,
    pub(crate) acl: Acl,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct LiveSchema {
    pub(crate) owner: String,
    pub(crate) acl: Acl,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct LiveDatabaseGrants {
    /// False for a database that does not exist yet (apply creates it first).
    pub(crate) exists: bool,
    pub(crate) database_acl: Acl,
    pub(crate) schemas: BTreeMap<String, LiveSchema>,
    /// The exceptions only: objects in a declared scope whose privileges
    /// for its role are not the declared ones, or that the role owns.
    /// Every other object in a scope holds exactly what is declared.
    pub(crate) objects: Vec<LiveObject>,
    /// Per declared scope (role, schema, kind): how many objects it covers.
    #[serde(serialize_with = "counts_as_list")]
    pub(crate) counts: BTreeMap<(String, String, ObjectKind), ScopeCount>,
    pub(crate) defaults: Vec<LiveDefault>,
}

/// The counts as a list (JSON keys are strings only), for the digest of a
/// saved plan.
fn counts_as_list<S: serde::Serializer>(
    counts: &BTreeMap<(String, String, ObjectKind), ScopeCount>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(counts.iter())
}

/// The objects of one declared scope, counted by the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct ScopeCount {
    pub(crate) total: usize,
    /// Objects on which the role holds any privilege (not its own).
    pub(crate) with_any: usize,
    /// Objects the role owns (skipped: an owner's rights are not grants).
    pub(crate) owned: usize,
}

/// `ALTER DEFAULT PRIVILEGES FOR ROLE creator IN SCHEMA schema ... ON kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct LiveDefault {
    pub(crate) creator: String,
    pub(crate) schema: String,
    pub(crate) kind: ObjectKind,
    pub(crate) acl: Acl,
}

impl LiveDatabaseGrants {
    pub(crate) fn default_acl(
        &self,
        creator: &str,
        schema: &str,
        kind: ObjectKind,
    ) -> Option<&Acl> {
        self.defaults
            .iter()
            .find(|d| d.creator == creator && d.schema == schema && d.kind == kind)
            .map(|d| &d.acl)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct LiveGrants {
    pub(crate) databases: BTreeMap<String, LiveDatabaseGrants>,
    #[serde(skip)]
    pub(crate) statements: usize,
}
