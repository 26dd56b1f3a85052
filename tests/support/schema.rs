//! Validating documents against the committed JSON Schemas, the way an editor
//! would: a TOML file is read as JSON data and checked with a real JSON Schema
//! validator, independently of dbops's own parser.

use std::path::Path;

/// Every violation of `schemas/NAME` by `instance`, one line each.
pub(crate) fn violations(schema: &str, instance: &serde_json::Value) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(schema);
    let text = std::fs::read_to_string(&path).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path))
        .collect()
}

/// A TOML document as JSON data.
pub(crate) fn toml_as_json(text: &str) -> serde_json::Value {
    toml_edit::de::from_str::<serde_json::Value>(text).expect("valid TOML")
}

/// Violations of the desired-state file's schema.
pub(crate) fn config_violations(toml: &str) -> Vec<String> {
    violations("dbops.schema.json", &toml_as_json(toml))
}

/// `schemas/NAME` is exactly `generated`; with `DBOPS_UPDATE_SCHEMA` set, it
/// is rewritten instead.
#[track_caller]
pub(crate) fn assert_committed(name: &str, generated: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(name);
    if std::env::var_os("DBOPS_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schemas/{name} is out of date: run `DBOPS_UPDATE_SCHEMA=1 cargo test --test integration schema`"
    );
}
