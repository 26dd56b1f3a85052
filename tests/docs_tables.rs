//! docs/commands.md's event and address tables say what dbops does: the
//! events are exactly the `event` enum of the event schema (generated from
//! the type), every address pattern starts with a `--target` word, and every
//! address in the committed output snapshots matches a pattern.

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::Dbops;

fn commands_md() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/commands.md")).unwrap()
}

/// The first column of the table that follows `heading`, unquoted.
fn first_column(text: &str, heading: &str) -> Vec<String> {
    let section = &text[text.find(heading).expect("the heading")..];
    let end = section[heading.len()..]
        .find("\n## ")
        .map_or(section.len(), |n| n + heading.len());
    section[..end]
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| l.split('`').nth(1).unwrap().to_string())
        .collect()
}

/// Every string the schema allows for `EventName`.
fn schema_events() -> BTreeSet<String> {
    let schema: serde_json::Value = serde_json::from_str(&dbops::events::schema_text()).unwrap();
    let name = &schema["$defs"]["EventName"];
    let mut out = BTreeSet::new();
    if let Some(values) = name["enum"].as_array() {
        out.extend(values.iter().map(|v| v.as_str().unwrap().to_string()));
    }
    for variant in name["oneOf"].as_array().into_iter().flatten() {
        if let Some(value) = variant["const"].as_str() {
            out.insert(value.to_string());
        }
        for value in variant["enum"].as_array().into_iter().flatten() {
            out.insert(value.as_str().unwrap().to_string());
        }
    }
    out
}

#[test]
fn the_event_table_is_the_event_enum() {
    let documented: BTreeSet<String> = first_column(&commands_md(), "## Events")
        .into_iter()
        .collect();
    let schema = schema_events();
    assert!(schema.len() > 20, "{schema:?}");
    assert_eq!(documented, schema);
}

/// A pattern as a regex: UPPER words stand for one segment (a file name may
/// hold dots; a name not a plain identifier is quoted, escaped in JSON).
fn pattern(address: &str) -> regex::Regex {
    let segment = r#"(?:[A-Za-z0-9_-]+|\\?"(?:[^"\\]|\\.)*?\\?")"#;
    let parts: Vec<String> = address
        .split('.')
        .map(|part| match part {
            "FILE" => r"[A-Za-z0-9_.-]+".to_string(),
            p if p.chars().all(|c| c.is_ascii_uppercase()) => segment.to_string(),
            p => regex::escape(p),
        })
        .collect();
    regex::Regex::new(&format!("^{}$", parts.join(r"\."))).unwrap()
}

#[test]
fn every_address_matches_the_table_and_starts_with_a_target() {
    let patterns = first_column(&commands_md(), "## Addresses");
    assert!(patterns.len() >= 15, "{patterns:?}");
    // The `--target` values, from the registry, through the command line.
    let unknown = Dbops::new("").run(&["plan", "--target", "nothing"]);
    let values = unknown
        .stderr
        .split("[possible values: ")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .expect("clap lists the possible values")
        .split(", ")
        .map(str::to_string)
        .collect::<BTreeSet<String>>();
    for documented in &patterns {
        let word = documented.split('.').next().unwrap();
        assert!(
            values.contains(word),
            "`{documented}`: `{word}` is no target: {values:?}"
        );
    }
    let regexes: Vec<regex::Regex> = patterns.iter().map(|p| pattern(p)).collect();
    let address = regex::Regex::new(r#""address": ?"((?:[^"\\]|\\.)*)""#).unwrap();
    let mut seen = 0;
    for dir in ["tests/snapshots", "src/render/snapshots"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for found in address.captures_iter(&text) {
                let found = &found[1];
                seen += 1;
                assert!(
                    regexes.iter().any(|r| r.is_match(found)),
                    "`{found}` matches no row of docs/commands.md's address table"
                );
            }
        }
    }
    assert!(seen > 10, "the snapshots hold addresses");
}

/// docs/monitoring.md's metric table is the catalogue, row for row
/// (`DBOPS_UPDATE_SCHEMA=1` rewrites it).
#[test]
fn the_metric_table_is_the_catalogue() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/monitoring.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let (start, end) = ("<!-- metrics-table -->\n", "<!-- /metrics-table -->");
    let from = text.find(start).expect("the table's start marker") + start.len();
    let to = text.find(end).expect("the table's end marker");
    let mut table = String::from("| Metric | Type | Labels | Meaning |\n|---|---|---|---|\n");
    for [name, kind, labels, help] in dbops::metrics::catalogue_rows() {
        let labels: Vec<String> = labels.split(", ").map(|l| format!("`{l}`")).collect();
        table.push_str(&format!(
            "| `{name}` | {kind} | {} | {} |\n",
            labels.join(", "),
            help.replace('|', "\\|")
        ));
    }
    if std::env::var_os("DBOPS_UPDATE_SCHEMA").is_some() {
        let updated = format!("{}{table}{}", &text[..from], &text[to..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert_eq!(
        &text[from..to],
        table,
        "docs/monitoring.md's metric table differs from the catalogue; run with DBOPS_UPDATE_SCHEMA=1"
    );
}
