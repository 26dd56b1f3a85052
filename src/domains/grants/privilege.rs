//! Privileges and the kinds of object they apply to, as typed values: which
//! privileges each kind takes, the `ALL` shorthand, and their SQL words.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a grant covers.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ObjectKind {
    Database,
    Schema,
    Tables,
    Sequences,
    Functions,
}

/// A PostgreSQL privilege, in PostgreSQL's own order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Privilege {
    Select,
    Insert,
    Update,
    Delete,
    Truncate,
    References,
    Trigger,
    Create,
    Connect,
    Temporary,
    Execute,
    Usage,
    /// A privilege this version of dbops does not know (a newer server's).
    Other(String),
}

const KNOWN: &[(Privilege, &str)] = &[
    (Privilege::Select, "SELECT"),
    (Privilege::Insert, "INSERT"),
    (Privilege::Update, "UPDATE"),
    (Privilege::Delete, "DELETE"),
    (Privilege::Truncate, "TRUNCATE"),
    (Privilege::References, "REFERENCES"),
    (Privilege::Trigger, "TRIGGER"),
    (Privilege::Create, "CREATE"),
    (Privilege::Connect, "CONNECT"),
    (Privilege::Temporary, "TEMPORARY"),
    (Privilege::Execute, "EXECUTE"),
    (Privilege::Usage, "USAGE"),
];

impl Privilege {
    /// From the server's spelling (`aclexplode`'s `privilege_type`).
    pub(crate) fn from_server(text: &str) -> Self {
        KNOWN
            .iter()
            .find(|(_, name)| *name == text)
            .map(|(p, _)| p.clone())
            .unwrap_or_else(|| Privilege::Other(text.to_string()))
    }

    pub(crate) fn sql(&self) -> &str {
        match self {
            Privilege::Other(name) => name,
            known => KNOWN
                .iter()
                .find(|(p, _)| p == known)
                .map(|(_, name)| *name)
                .expect("every known privilege has a name"),
        }
    }
}

impl Serialize for Privilege {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.sql())
    }
}

impl fmt::Display for Privilege {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sql())
    }
}

/// The letters of an ACL item (`aclitem`'s text: `role=arwd/owner`) for a
/// set of known privileges, in PostgreSQL's order.
pub(crate) fn acl_letters(privileges: &std::collections::BTreeSet<Privilege>) -> String {
    use Privilege::*;
    [
        (Insert, 'a'),
        (Select, 'r'),
        (Update, 'w'),
        (Delete, 'd'),
        (Truncate, 'D'),
        (References, 'x'),
        (Trigger, 't'),
        (Execute, 'X'),
        (Usage, 'U'),
        (Create, 'C'),
        (Temporary, 'T'),
        (Connect, 'c'),
    ]
    .iter()
    .filter(|(p, _)| privileges.contains(p))
    .map(|(_, letter)| *letter)
    .collect()
}

/// Privileges PostgreSQL 15 defines for each kind, in its own order.
pub(crate) fn valid(on: ObjectKind) -> &'static [Privilege] {
    use Privilege::*;
    match on {
        ObjectKind::Database => &[Create, Connect, Temporary],
        ObjectKind::Schema => &[Usage, Create],
        ObjectKind::Tables => &[
            Select, Insert, Update, Delete, Truncate, References, Trigger,
        ],
        ObjectKind::Sequences => &[Usage, Select, Update],
        ObjectKind::Functions => &[Execute],
    }
}

/// The word for a kind in messages and addresses.
pub(crate) fn noun(on: ObjectKind) -> &'static str {
    match on {
        ObjectKind::Database => "database",
        ObjectKind::Schema => "schema",
        ObjectKind::Tables => "tables",
        ObjectKind::Sequences => "sequences",
        ObjectKind::Functions => "functions",
    }
}

/// The object keyword in `GRANT ... ON <keyword> name`.
pub(crate) fn object_keyword(on: ObjectKind) -> &'static str {
    match on {
        ObjectKind::Database => "DATABASE",
        ObjectKind::Schema => "SCHEMA",
        ObjectKind::Tables => "TABLE",
        ObjectKind::Sequences => "SEQUENCE",
        ObjectKind::Functions => "FUNCTION",
    }
}

/// Every spelling `privileges` accepts, for the JSON Schema.
pub(crate) fn spellings() -> Vec<String> {
    let mut out = Vec::new();
    for name in KNOWN
        .iter()
        .map(|(_, n)| *n)
        .chain(["ALL", "ALL PRIVILEGES", "TEMP"])
    {
        out.push(name.to_string());
        out.push(name.to_ascii_lowercase());
    }
    out
}

/// Normalizes one written privilege (`select`, `TEMP`), or says why it is not
/// one `on` takes. `ALL` expands to every privilege of the kind.
pub(crate) fn parse(on: ObjectKind, written: &str) -> Result<Vec<Privilege>, String> {
    let upper = written.trim().to_ascii_uppercase();
    let upper = match upper.as_str() {
        "TEMP" => "TEMPORARY".to_string(),
        "ALL PRIVILEGES" => "ALL".to_string(),
        _ => upper,
    };
    if upper == "ALL" {
        return Ok(valid(on).to_vec());
    }
    valid(on)
        .iter()
        .find(|p| p.sql() == upper)
        .map(|p| vec![p.clone()])
        .ok_or_else(|| {
            format!(
                "`{written}` is not a privilege on {}; valid: {}, or `ALL`",
                noun(on),
                valid(on)
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

/// `privileges` in `[[grants]]`: any spelling [`parse`] accepts.
pub(crate) struct PrivilegeName;

impl JsonSchema for PrivilegeName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PrivilegeName".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A privilege (case-insensitive), or `ALL`.",
            "enum": spellings(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_expands() {
        assert_eq!(
            parse(ObjectKind::Tables, "select").unwrap(),
            vec![Privilege::Select]
        );
        assert_eq!(
            parse(ObjectKind::Database, "temp").unwrap(),
            vec![Privilege::Temporary]
        );
        assert_eq!(
            parse(ObjectKind::Functions, "ALL").unwrap(),
            vec![Privilege::Execute]
        );
        assert_eq!(
            parse(ObjectKind::Schema, "all privileges").unwrap().len(),
            2
        );
        let error = parse(ObjectKind::Sequences, "INSERT").unwrap_err();
        assert!(
            error.contains(
                "`INSERT` is not a privilege on sequences; valid: `USAGE`, `SELECT`, `UPDATE`"
            ),
            "{error}"
        );
        assert!(parse(ObjectKind::Functions, "SELECT").is_err());
        assert_eq!(Privilege::from_server("MAINTAIN").sql(), "MAINTAIN");
        assert_eq!(Privilege::from_server("TEMPORARY"), Privilege::Temporary);
        let set = |list: &[Privilege]| list.iter().cloned().collect();
        assert_eq!(
            acl_letters(&set(&[
                Privilege::Select,
                Privilege::Delete,
                Privilege::Insert
            ])),
            "ard"
        );
        assert_eq!(acl_letters(&set(valid(ObjectKind::Tables))), "arwdDxt");
        assert_eq!(
            acl_letters(&set(&[Privilege::Usage, Privilege::Select])),
            "rU"
        );
    }
}
