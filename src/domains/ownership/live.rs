//! The ownership domain's live state, per managed database: the objects the
//! roles of interest own, and the tables with row-level security enabled.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// An object and its owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnedObject {
    /// The SQL keyword of its kind: `TABLE`, `VIEW`, `SEQUENCE`, `FUNCTION`, `SCHEMA`, ...
    pub keyword: String,
    /// The object as SQL names it, quoted by the server (`format('%I.%I')`).
    pub target: String,
    /// For people: `public.orders`.
    pub display: String,
    pub owner: String,
}

/// A table with row-level security enabled, owned by a role of interest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RlsTable {
    pub target: String,
    pub display: String,
    pub owner: String,
    pub forced: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LiveDatabaseOwnership {
    pub objects: Vec<OwnedObject>,
    pub rls_tables: Vec<RlsTable>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LiveOwnership {
    /// Databases that exist (those apply creates have nothing yet).
    pub databases: BTreeMap<String, LiveDatabaseOwnership>,
}
