//! The JSON Schema of `dbops.toml`: generated from [`RawConfig`], then
//! completed with what the typed document does not hold: `[rollout]` and
//! the `[environments.NAME]` override tables. An override may name any
//! top-level section and any subset of its keys (tables merge key by key),
//! so each section's definition appears a second time without `required`
//! (`Partial...`), key names and value types still checked.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::environments::{ENVIRONMENTS, ROLLOUT};
use super::raw::RawConfig;

/// The whole schema, as `dbops schema` prints it.
pub(crate) fn schema() -> Value {
    let mut schema =
        serde_json::to_value(schemars::schema_for!(RawConfig)).expect("schemas serialize");
    let defs: BTreeMap<String, Value> = schema["$defs"]
        .as_object()
        .map(|d| d.clone().into_iter().collect())
        .unwrap_or_default();
    let partial = needing_partial(&defs);
    let mut environment = json!({
        "description": "Overrides of one environment: any top-level section, any of its keys. Tables merge key by key; a value (a secret reference too) replaces a value; arrays, of tables too, are replaced whole.",
        "type": "object",
        "additionalProperties": false,
        "properties": {},
    });
    let properties = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for (name, property) in &properties {
        let mut property = property.clone();
        rewrite_refs(&mut property, &partial);
        environment["properties"][name] = property.clone();
        schema["properties"][name] = property;
    }
    // With environments, each one completes the shared declarations (an
    // admin DSN per cluster, say): the top level is checked like an
    // override, and dbops checks each merged environment. Without, every
    // key a section requires is required.
    let required = schema
        .as_object_mut()
        .and_then(|s| s.remove("required"))
        .unwrap_or_else(|| json!([]));
    schema["if"] = json!({ "required": [ENVIRONMENTS] });
    schema["else"] = json!({ "properties": properties, "required": required });
    for name in &partial {
        let mut def = defs[name].clone();
        strip_required(&mut def);
        rewrite_refs(&mut def, &partial);
        schema["$defs"][format!("Partial{name}")] = def;
    }
    schema["$defs"]["Environment"] = environment;
    schema["properties"][ENVIRONMENTS] = json!({
        "description": "Environments (staging, production, each cluster): tables of overrides merged over the shared declarations; select one with `--environment NAME`, or run all with `--all-environments`.",
        "type": "object",
        "propertyNames": { "pattern": "^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$" },
        "additionalProperties": { "$ref": "#/$defs/Environment" },
    });
    schema["properties"][ROLLOUT] = json!({
        "description": "The order `apply --all-environments` follows.",
        "type": "object",
        "additionalProperties": false,
        "required": ["order"],
        "properties": {
            "order": {
                "description": "Stages, each a list of environments applied side by side; a stage that fails stops the rollout.",
                "type": "array",
                "minItems": 1,
                "items": { "type": "array", "minItems": 1, "items": { "type": "string" } },
            }
        },
    });
    schema
}

/// Definitions that require a key, directly or through another definition.
fn needing_partial(defs: &BTreeMap<String, Value>) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = defs
        .iter()
        .filter(|(_, d)| has_required(d))
        .map(|(n, _)| n.clone())
        .collect();
    loop {
        let before = out.len();
        for (name, def) in defs {
            if !out.contains(name) && refs(def).iter().any(|r| out.contains(r)) {
                out.insert(name.clone());
            }
        }
        if out.len() == before {
            return out;
        }
    }
}

fn has_required(value: &Value) -> bool {
    match value {
        Value::Object(map) => {
            map.get("required").is_some_and(Value::is_array) || map.values().any(has_required)
        }
        Value::Array(items) => items.iter().any(has_required),
        _ => false,
    }
}

fn refs(value: &Value) -> Vec<String> {
    match value {
        Value::Object(map) => {
            let mut out: Vec<String> = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
                .map(str::to_string)
                .into_iter()
                .collect();
            out.extend(map.values().flat_map(refs));
            out
        }
        Value::Array(items) => items.iter().flat_map(refs).collect(),
        _ => Vec::new(),
    }
}

fn rewrite_refs(value: &mut Value, partial: &BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get_mut("$ref") {
                if let Some(name) = reference.strip_prefix("#/$defs/") {
                    if partial.contains(name) {
                        *reference = format!("#/$defs/Partial{name}");
                    }
                }
            }
            for (key, child) in map.iter_mut() {
                if key != "$ref" {
                    rewrite_refs(child, partial);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| rewrite_refs(i, partial)),
        _ => {}
    }
}

fn strip_required(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("required").is_some_and(Value::is_array) {
                map.remove("required");
            }
            map.values_mut().for_each(strip_required);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_required),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_are_described_without_required_keys() {
        let schema = schema();
        let environment = &schema["$defs"]["Environment"];
        assert_eq!(
            environment["properties"]["postgres"]["$ref"],
            "#/$defs/PartialRawPostgres"
        );
        assert!(schema["$defs"]["PartialRawPostgres"]
            .get("required")
            .is_none());
        assert!(schema["$defs"]["RawPostgres"]["required"].is_array());
        assert!(environment["properties"].get(ENVIRONMENTS).is_none());
        // The shared declarations of a file with environments may leave a
        // required key to each environment; a file without may not.
        assert_eq!(
            schema["properties"]["postgres"]["$ref"],
            "#/$defs/PartialRawPostgres"
        );
        assert_eq!(schema["else"]["required"][0], "postgres");
        assert_eq!(
            schema["else"]["properties"]["postgres"]["$ref"],
            "#/$defs/RawPostgres"
        );
        assert_eq!(schema["properties"][ROLLOUT]["required"][0], "order");
    }
}
