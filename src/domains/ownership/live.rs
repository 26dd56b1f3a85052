//! The ownership domain's live state, per managed database: the objects the
//! roles of interest own, and the tables with row-level security enabled.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The kind of an object that has an owner, as `ALTER <keyword> ... OWNER TO` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum ObjectKind {
    Table,
    View,
    #[serde(rename = "MATERIALIZED VIEW")]
    MaterializedView,
    Sequence,
    #[serde(rename = "FOREIGN TABLE")]
    ForeignTable,
    Function,
    Procedure,
    Domain,
    Type,
    Schema,
}

impl ObjectKind {
    /// The SQL keyword: `MATERIALIZED VIEW`.
    pub(crate) fn keyword(self) -> &'static str {
        match self {
            ObjectKind::Table => "TABLE",
            ObjectKind::View => "VIEW",
            ObjectKind::MaterializedView => "MATERIALIZED VIEW",
            ObjectKind::Sequence => "SEQUENCE",
            ObjectKind::ForeignTable => "FOREIGN TABLE",
            ObjectKind::Function => "FUNCTION",
            ObjectKind::Procedure => "PROCEDURE",
            ObjectKind::Domain => "DOMAIN",
            ObjectKind::Type => "TYPE",
            ObjectKind::Schema => "SCHEMA",
        }
    }

    /// The word in its address: `materialized_view`.
    pub(crate) fn word(self) -> &'static str {
        match self {
            ObjectKind::Table => "table",
            ObjectKind::View => "view",
            ObjectKind::MaterializedView => "materialized_view",
            ObjectKind::Sequence => "sequence",
            ObjectKind::ForeignTable => "foreign_table",
            ObjectKind::Function => "function",
            ObjectKind::Procedure => "procedure",
            ObjectKind::Domain => "domain",
            ObjectKind::Type => "type",
            ObjectKind::Schema => "schema",
        }
    }
}

/// An object and its owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct OwnedObject {
    /// Its kind, read from the SQL keyword the statement writes (`TABLE`, `VIEW`, ...).
    pub(crate) keyword: ObjectKind,
    /// The object as SQL names it, quoted by the server (`format('%I.%I')`).
    pub(crate) target: String,
    /// For people: `public.orders`.
    pub(crate) display: String,
    pub(crate) owner: String,
}

/// A table with row-level security enabled, owned by a role of interest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RlsTable {
    pub(crate) target: String,
    pub(crate) display: String,
    pub(crate) owner: String,
    pub(crate) forced: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct LiveDatabaseOwnership {
    pub(crate) objects: Vec<OwnedObject>,
    pub(crate) rls_tables: Vec<RlsTable>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct LiveOwnership {
    /// Databases that exist (those apply creates have nothing yet).
    pub(crate) databases: BTreeMap<String, LiveDatabaseOwnership>,
}
