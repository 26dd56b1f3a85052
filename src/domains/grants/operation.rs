//! The work apply does for one grant scope: typed GRANT and REVOKE
//! statements, and the SQL each becomes. The diff decides what; only this
//! module writes SQL.

use super::privilege::{noun, object_keyword, ObjectKind, Privilege};
use crate::pg::quote::ident;

/// What a statement is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Database(String),
    Schema(String),
    /// A table, sequence or function, named as the server quoted it.
    Object {
        kind: ObjectKind,
        target: String,
    },
    /// Every table (or sequence) in a schema: `ON ALL TABLES IN SCHEMA`,
    /// when most of a scope's objects need the same grant.
    AllInSchema {
        kind: ObjectKind,
        schema: String,
    },
    /// Objects `creator` creates later in `schema` (`ALTER DEFAULT PRIVILEGES`).
    Defaults {
        creator: String,
        schema: String,
        kind: ObjectKind,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Grant,
    Revoke,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Statement {
    pub(crate) verb: Verb,
    pub(crate) privileges: Vec<Privilege>,
    pub(crate) target: Target,
    pub(crate) role: String,
}

impl Statement {
    pub(crate) fn sql(&self) -> String {
        let privileges: Vec<&str> = self.privileges.iter().map(Privilege::sql).collect();
        let privileges = privileges.join(", ");
        let (prefix, on) = match &self.target {
            Target::Database(name) => (String::new(), format!("ON DATABASE {}", ident(name))),
            Target::Schema(name) => (String::new(), format!("ON SCHEMA {}", ident(name))),
            Target::Object { kind, target } => (
                String::new(),
                format!("ON {} {target}", object_keyword(*kind)),
            ),
            Target::AllInSchema { kind, schema } => (
                String::new(),
                format!(
                    "ON ALL {} IN SCHEMA {}",
                    noun(*kind).to_uppercase(),
                    ident(schema)
                ),
            ),
            Target::Defaults {
                creator,
                schema,
                kind,
            } => (
                format!(
                    "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} ",
                    ident(creator),
                    ident(schema)
                ),
                format!("ON {}", noun(*kind).to_uppercase()),
            ),
        };
        let role = ident(&self.role);
        match self.verb {
            Verb::Grant => format!("{prefix}GRANT {privileges} {on} TO {role}"),
            Verb::Revoke => format!("{prefix}REVOKE {privileges} {on} FROM {role}"),
        }
    }
}

/// The statements for one scope, run in the scope's database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Operation {
    pub(crate) database: String,
    pub(crate) statements: Vec<Statement>,
}
