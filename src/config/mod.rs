//! Reading `dbops.toml`: the text and where its parts are written (`source`),
//! and the raw document (`raw`), with every shape problem of the file reported
//! at once. Resolving the raw document into each domain's desired state is the
//! engine registry's job; this module never opens a connection and never
//! quotes the source text (a line may hold a secret).

pub(crate) mod environments;
pub(crate) mod raw;
pub(crate) mod references;
pub(crate) mod schema;
pub(crate) mod source;

use std::collections::BTreeSet;
use std::path::Path;

use toml_edit::de::ValueDeserializer;
use toml_edit::{Document, DocumentMut, InlineTable, Item, Table, Value};

use crate::error::{Error, ErrorKind, Errors, Location};
use crate::util::digest::sha256_hex;
use crate::util::files::io_reason;
use crate::util::suggest::did_you_mean;
use environments::Environments;
use raw::RawConfig;
use source::SourceFile;

/// A parsed desired-state file. With shape errors, `raw` holds the sections
/// that parsed, so resolution can still report the problems they have.
pub(crate) struct Loaded {
    pub(crate) source: SourceFile,
    pub(crate) raw: RawConfig,
    pub(crate) shape_errors: Vec<Error>,
}

impl Loaded {
    /// SHA-256 of the file's bytes, hex: what a saved plan pins.
    pub(crate) fn digest(&self) -> String {
        sha256_hex(self.source.text.as_bytes())
    }
}

/// The largest desired-state file dbops reads.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The file read and its TOML parsed, before any environment is chosen.
pub(crate) struct File {
    pub(crate) source: SourceFile,
    pub(crate) environments: Environments,
    /// Problems of `[environments]` and `[rollout]` themselves: every
    /// selection reports them.
    errors: Vec<Error>,
}

/// Reads and loads the file as environment `environment` (`None`: the
/// file declares no environments).
pub(crate) fn load(path: &Path, environment: Option<&str>) -> Result<Loaded, Errors> {
    read(path)?.select(environment)
}

/// Reads the file and parses its TOML; a syntax error stops here.
pub(crate) fn read(path: &Path) -> Result<File, Errors> {
    let name = path.display().to_string();
    let unreadable = |why: String| {
        Error::config(format!(
            "cannot read the desired-state file `{name}`: {why}"
        ))
    };
    let metadata = std::fs::metadata(path).map_err(|e| {
        let error = unreadable(io_reason(&e));
        if e.kind() == std::io::ErrorKind::NotFound {
            error.hint("pass the file with `-f PATH` or set `DBOPS_FILE`")
        } else {
            error
        }
    })?;
    if !metadata.is_file() {
        return Err(unreadable("it is not a regular file".into()).into());
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(unreadable("it is larger than 16 MiB".into()).into());
    }
    let text = std::fs::read_to_string(path).map_err(|e| unreadable(io_reason(&e)))?;
    from_text(SourceFile::new(name, text))
}

/// The file of `source`'s text: its TOML parsed, its environments read.
fn from_text(source: SourceFile) -> Result<File, Errors> {
    let Some(document) = source.document() else {
        return Err(syntax_error(&source).into());
    };
    let (environments, errors) = environments::declared(&source, document, sections());
    Ok(File {
        source,
        environments,
        errors,
    })
}

impl File {
    /// The problems of `[environments]` and `[rollout]` themselves, if any:
    /// every environment would report them, so a run over all of them
    /// stops here first.
    pub(crate) fn check(&self) -> Result<(), Errors> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Errors::new(self.errors.clone()))
        }
    }

    /// The file as environment `name` sees it: the shared declarations with
    /// its overrides merged, shape-checked.
    pub(crate) fn select(&self, name: Option<&str>) -> Result<Loaded, Errors> {
        match name {
            Some(name) => self.environments.check(name, &self.source.name)?,
            None if !self.environments.is_empty() => {
                return Err(Error::config(format!(
                    "`{}` declares environments ({}): choose one with `--environment NAME`, or run every one with `--all-environments`",
                    self.source.name,
                    self.environments.listed()
                ))
                .hint("in CI, `DBOPS_ENVIRONMENT=NAME` does the same as `--environment NAME`")
                .into())
            }
            None => {}
        }
        let document = self.source.document().expect("parsed when read");
        let source = self
            .source
            .with_view(name, environments::merged(document, name));
        let mut shape_errors = self.errors.clone();
        let raw = match parse(&source) {
            Ok(raw) => raw,
            Err(Unparsed {
                errors,
                partial: Some(raw),
            }) => {
                shape_errors.extend(errors.into_vec());
                *raw
            }
            Err(Unparsed { errors, .. }) => {
                shape_errors.extend(errors.into_vec());
                return Err(Errors::new(in_environment(shape_errors, name)));
            }
        };
        Ok(Loaded {
            source,
            raw,
            shape_errors: in_environment(shape_errors, name),
        })
    }
}

/// Names the environment in each error (unless already named).
pub(crate) fn in_environment(errors: Vec<Error>, name: Option<&str>) -> Vec<Error> {
    match name {
        Some(name) => errors.into_iter().map(|e| e.environment(name)).collect(),
        None => errors,
    }
}

/// The top-level sections of the file format (what an environment may
/// override), read once off the JSON Schema of [`RawConfig`].
pub(crate) fn sections() -> &'static [String] {
    static SECTIONS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    SECTIONS.get_or_init(|| {
        serde_json::to_value(schemars::schema_for!(RawConfig))
            .ok()
            .and_then(|s| {
                s["properties"]
                    .as_object()
                    .map(|p| p.keys().cloned().collect())
            })
            .unwrap_or_default()
    })
}

/// Why a document did not parse: every shape error, and the sections that did.
pub(crate) struct Unparsed {
    pub(crate) errors: Errors,
    pub(crate) partial: Option<Box<RawConfig>>,
}

impl From<Error> for Unparsed {
    fn from(error: Error) -> Self {
        Self {
            errors: error.into(),
            partial: None,
        }
    }
}

/// Parses and shape-checks the document, reporting every problem: each
/// top-level section, each entry of a map section (`[roles.NAME]`) and each
/// element of an array section (`[[grants]]`) is checked on its own, so one
/// mistake does not hide the next.
pub(crate) fn parse(source: &SourceFile) -> Result<RawConfig, Unparsed> {
    let Some(root) = source.root() else {
        return Err(syntax_error(source).into());
    };
    match toml_edit::de::from_document::<RawConfig>(DocumentMut::from(root.clone())) {
        Ok(raw) => Ok(raw),
        Err(whole) => {
            let (mut errors, partial) = unit_errors(source, root);
            if errors.is_empty() {
                errors.push(shape_error(source, &whole, None));
            }
            Err(Unparsed {
                errors: Errors::new(errors),
                partial: partial.map(Box::new),
            })
        }
    }
}

/// The TOML syntax error of a text that does not parse.
fn syntax_error(source: &SourceFile) -> Error {
    let e = match Document::parse(source.text.clone()) {
        Ok(_) => return Error::internal("the text parsed after all"),
        Err(e) => e,
    };
    let location = e.span().map(|span| source.location(span.start));
    let mut message = e.message().trim().trim_end_matches('.').to_string();
    // Name the duplicate: a key or table name, never a value.
    if let (true, Some(span)) = (message.starts_with("duplicate key"), e.span()) {
        let name: String = source.text[span.start.min(source.text.len())..]
            .chars()
            .take_while(|c| !matches!(c, ']' | '.' | '=') && !c.is_whitespace())
            .collect();
        if !name.is_empty() {
            message = format!(
                "duplicate key `{}`: it is declared twice",
                name.trim_matches('"')
            );
        }
    }
    Error::config(format!("invalid TOML: {}", lowercase_first(&message)))
        .at(location)
        .hint("see https://toml.io for the syntax")
}

/// The top-level sections whose entries are checked one by one, read off the
/// JSON Schema of [`RawConfig`]: maps (`roles`) and arrays (`grants`).
fn split_sections() -> (BTreeSet<String>, BTreeSet<String>) {
    let schema = serde_json::to_value(schemars::schema_for!(RawConfig)).expect("schemas serialize");
    let mut maps = BTreeSet::new();
    let mut arrays = BTreeSet::new();
    if let Some(properties) = schema["properties"].as_object() {
        for (name, property) in properties {
            if property
                .get("additionalProperties")
                .is_some_and(|a| a.is_object())
            {
                maps.insert(name.clone());
            } else if property.get("type").and_then(|t| t.as_str()) == Some("array") {
                arrays.insert(name.clone());
            }
        }
    }
    (maps, arrays)
}

/// Every shape error, unit by unit, and the document of the units that
/// parsed (an array section with a bad element is left out whole, so indexes
/// in keys stay true).
fn unit_errors(source: &SourceFile, root: &Table) -> (Vec<Error>, Option<RawConfig>) {
    let (maps, arrays) = split_sections();
    let mut known = sections().to_vec();
    known.extend([
        environments::ENVIRONMENTS.to_string(),
        environments::ROLLOUT.to_string(),
    ]);
    let mut errors = Vec::new();
    let mut good = InlineTable::new();
    if !root.contains_key("postgres") {
        errors.push(
            Error::config("missing section `[postgres]`")
                .hint("add `[postgres]` with `admin = { env = \"DATABASE_ROOT_URL\" }`; `examples/` has complete files"),
        );
    }
    for (key, item) in root.iter() {
        if !known.iter().any(|k| k == key) {
            let location = root
                .key(key)
                .and_then(|k| k.span())
                .map(|s| source.location(s.start));
            let mut error = Error::config(format!("unknown section `{key}`")).at(location);
            error = match did_you_mean(key, known.iter().map(String::as_str)) {
                Some(suggestion) => error.hint(suggestion),
                None => error.hint(
                    "remove it or fix its spelling; `schemas/dbops.schema.json` lists every key",
                ),
            };
            errors.push(error);
            continue;
        }
        let is_map = maps.contains(key) && item.is_table_like();
        let units: Vec<(Vec<String>, Value)> = if is_map {
            let table = item.as_table_like().expect("checked");
            table
                .iter()
                .map(|(name, entry)| {
                    let mut inner = InlineTable::new();
                    inner.insert(name, to_value(entry));
                    (
                        vec![key.to_string(), name.to_string()],
                        Value::InlineTable(inner),
                    )
                })
                .collect()
        } else if arrays.contains(key) && item.is_array_of_tables() {
            let array = item.as_array_of_tables().expect("checked");
            array
                .iter()
                .enumerate()
                .map(|(index, table)| {
                    let mut values = toml_edit::Array::new();
                    values.push(Value::InlineTable(table.clone().into_inline_table()));
                    (
                        vec![key.to_string(), index.to_string()],
                        Value::Array(values),
                    )
                })
                .collect()
        } else {
            vec![(vec![key.to_string()], to_value(item))]
        };
        let mut all_good = true;
        let mut good_entries = InlineTable::new();
        for (path, value) in units {
            let mut unit = InlineTable::new();
            unit.insert(key, value.clone());
            let result = RawConfig::deserialize_from(Value::InlineTable(unit));
            let failed = match result {
                Ok(_) => false,
                // Every unit but `[postgres]` lacks `[postgres]`: not its fault.
                Err(error) if error.message().contains("missing field `postgres`") => {
                    key == "postgres"
                }
                Err(error) => {
                    errors.push(shape_error(source, &error, Some(&path)));
                    true
                }
            };
            if failed {
                all_good = false;
            } else if let (true, Value::InlineTable(entry)) = (is_map, value) {
                for (name, entry) in entry.iter() {
                    good_entries.insert(name, entry.clone());
                }
            }
        }
        if is_map {
            good.insert(key, Value::InlineTable(good_entries));
        } else if all_good {
            good.insert(key, to_value(item));
        }
    }
    let partial = RawConfig::deserialize_from(Value::InlineTable(good)).ok();
    (dedup(errors), partial)
}

impl RawConfig {
    fn deserialize_from(value: Value) -> Result<RawConfig, toml_edit::de::Error> {
        use serde::de::IntoDeserializer;
        use serde::Deserialize;
        let deserializer: ValueDeserializer = value.into_deserializer();
        RawConfig::deserialize(deserializer)
    }
}

fn to_value(item: &Item) -> Value {
    match item.clone() {
        Item::Value(value) => value,
        Item::Table(table) => Value::InlineTable(table.into_inline_table()),
        Item::ArrayOfTables(array) => Value::Array(array.into_array()),
        Item::None => Value::InlineTable(InlineTable::new()),
    }
}

fn dedup(errors: Vec<Error>) -> Vec<Error> {
    let mut seen = BTreeSet::new();
    errors
        .into_iter()
        .filter(|e| seen.insert(e.to_string()))
        .collect()
}

/// A serde error as a config error: where, which key, what; never the source text.
fn shape_error(source: &SourceFile, e: &toml_edit::de::Error, unit: Option<&[String]>) -> Error {
    let (location, key): (Option<Location>, Vec<String>) = match e.span() {
        Some(span) => (
            Some(source.location(span.start)),
            source.key_path_at(span.start),
        ),
        None => match unit {
            Some(path) => {
                let path: Vec<&str> = path.iter().map(String::as_str).collect();
                (
                    source.locate(&path),
                    path.iter().map(|s| s.to_string()).collect(),
                )
            }
            None => (None, Vec::new()),
        },
    };
    let message = e.message().trim().trim_end_matches('.').to_string();
    let mut error = Error::config(lowercase_first(&message)).at(location);
    if !key.is_empty() {
        let key: Vec<&str> = key.iter().map(String::as_str).collect();
        error = error.key(crate::diagnostics::display_path(&key));
    }
    if e.message().starts_with("unknown field") {
        error = error.hint(
            "remove the key or fix its spelling; `schemas/dbops.schema.json` lists every key",
        );
    } else if e.message().starts_with("missing field") {
        error = error.hint("add the key; `examples/` has complete files");
    } else if e.message().starts_with("unknown variant") {
        error = error.hint("`schemas/dbops.schema.json` lists the values each key accepts");
    }
    error.kind(ErrorKind::Config)
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) if !text.starts_with("TOML") => first.to_lowercase().chain(chars).collect(),
        _ => text.to_string(),
    }
}
