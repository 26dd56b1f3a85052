//! Every secret reference a file makes (`{ env = "NAME" }`, `{ file =
//! "PATH" }`), found by walking the document, whatever section it is in:
//! for `validate`, which reports each one that does not resolve (naming the
//! key that references it) before any section is resolved, and for
//! `validate --list-secrets`, which tells a CI job what to export. Values
//! are never read here beyond whether they resolve.

use toml_edit::{Item, Table, Value};

use crate::secret::SecretRef;

/// One secret reference: the key path that holds it and what it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    pub(crate) path: Vec<String>,
    pub(crate) reference: SecretRef,
}

/// Every secret reference under `root` (a document's table, or one
/// environment's merged view), in document order.
pub(crate) fn references(root: &Table) -> Vec<Reference> {
    let mut out = Vec::new();
    for (key, item) in root.iter() {
        walk(item, &mut vec![key.to_string()], &mut out);
    }
    out
}

fn walk(item: &Item, path: &mut Vec<String>, out: &mut Vec<Reference>) {
    match item {
        Item::Table(table) => {
            if let Some(reference) = as_reference(table.iter().map(|(k, v)| (k, v.as_value()))) {
                out.push(Reference {
                    path: path.clone(),
                    reference,
                });
                return;
            }
            for (key, child) in table.iter() {
                path.push(key.to_string());
                walk(child, path, out);
                path.pop();
            }
        }
        Item::ArrayOfTables(tables) => {
            for (index, table) in tables.iter().enumerate() {
                path.push(index.to_string());
                for (key, child) in table.iter() {
                    path.push(key.to_string());
                    walk(child, path, out);
                    path.pop();
                }
                path.pop();
            }
        }
        Item::Value(value) => walk_value(value, path, out),
        Item::None => {}
    }
}

fn walk_value(value: &Value, path: &mut Vec<String>, out: &mut Vec<Reference>) {
    match value {
        Value::InlineTable(table) => {
            if let Some(reference) = as_reference(table.iter().map(|(k, v)| (k, Some(v)))) {
                out.push(Reference {
                    path: path.clone(),
                    reference,
                });
                return;
            }
            for (key, child) in table.iter() {
                path.push(key.to_string());
                walk_value(child, path, out);
                path.pop();
            }
        }
        Value::Array(array) => {
            for (index, child) in array.iter().enumerate() {
                path.push(index.to_string());
                walk_value(child, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// A table of exactly one key, `env` or `file`, with a string: a reference.
pub(crate) fn as_reference<'a>(
    mut entries: impl Iterator<Item = (&'a str, Option<&'a Value>)>,
) -> Option<SecretRef> {
    let (key, value) = entries.next()?;
    if entries.next().is_some() {
        return None;
    }
    let text = value?.as_str()?.to_string();
    match key {
        "env" => Some(SecretRef::Env(text)),
        "file" => Some(SecretRef::File(text.into())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_is_found_with_its_key() {
        let document: toml_edit::Document<String> = toml_edit::Document::parse(
            r#"
[postgres]
admin = { env = "DATABASE_ROOT_URL" }

[roles.migrator]
password = { file = "/run/secrets/migrator" }

[bucket.db.lifecycle]
x = 1

[[restore_test.checks]]
name = { env = "NOT_A_SECRET_FIELD_BUT_FOUND" }

[server.settings]
primary_conninfo = { env = "CONNINFO" }
work_mem = "8MB"
"#
            .to_string(),
        )
        .unwrap();
        let found: Vec<(String, SecretRef)> = references(document.as_table())
            .into_iter()
            .map(|r| (r.path.join("."), r.reference))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "postgres.admin".to_string(),
                    SecretRef::Env("DATABASE_ROOT_URL".into())
                ),
                (
                    "roles.migrator.password".to_string(),
                    SecretRef::File("/run/secrets/migrator".into())
                ),
                (
                    "restore_test.checks.0.name".to_string(),
                    SecretRef::Env("NOT_A_SECRET_FIELD_BUT_FOUND".into())
                ),
                (
                    "server.settings.primary_conninfo".to_string(),
                    SecretRef::Env("CONNINFO".into())
                ),
            ]
        );
    }
}
