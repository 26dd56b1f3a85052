//! Reading `dbops.toml`: the raw document (`raw`), where its parts are written
//! (`source`), secret references (`secret_ref`) and the resolved desired state
//! (`resolve`). Never opens a connection.

pub mod raw;
pub mod resolve;
pub mod secret_ref;
pub mod source;

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use raw::RawConfig;
pub use resolve::DesiredState;
use secret_ref::io_reason;
use source::SourceFile;

/// A loaded, resolved desired-state file.
pub struct Loaded {
    pub source: SourceFile,
    pub desired: DesiredState,
    pub warnings: Vec<String>,
}

impl Loaded {
    /// SHA-256 of the file's bytes, hex: what a saved plan pins.
    pub fn digest(&self) -> String {
        hex(&Sha256::digest(self.source.text.as_bytes()))
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn load(path: &Path) -> Result<Loaded> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        let error = Error::new(format!(
            "cannot read the desired-state file `{name}`: {}",
            io_reason(&e)
        ));
        if e.kind() == std::io::ErrorKind::NotFound {
            error.hint("pass the file with `-f PATH` or set `DBOPS_FILE`")
        } else {
            error
        }
    })?;
    let source = SourceFile::new(name, text);
    let raw = parse(&source)?;
    let (desired, warnings) = resolve::resolve(&raw, &source)?;
    Ok(Loaded {
        source,
        desired,
        warnings,
    })
}

/// Parses and shape-checks the document. Errors carry `file:line:column` and
/// the key; they never quote the source text (a line may hold a secret).
pub fn parse(source: &SourceFile) -> Result<RawConfig> {
    let document = match toml_edit::Document::parse(source.text.clone()) {
        Ok(document) => document,
        Err(e) => {
            let location = e.span().map(|span| source.location(span.start));
            let message = e.message().trim().trim_end_matches('.').to_string();
            return Err(
                Error::new(format!("invalid TOML: {}", lowercase_first(&message)))
                    .at(location)
                    .hint("see https://toml.io for the syntax"),
            );
        }
    };
    toml_edit::de::from_document::<RawConfig>(document).map_err(|e| {
        let (location, key) = match e.span() {
            Some(span) => (
                Some(source.location(span.start)),
                source.key_path_at(span.start),
            ),
            None => (None, Vec::new()),
        };
        let message = e.message().trim().trim_end_matches('.').to_string();
        let message = if key.is_empty() {
            lowercase_first(&message)
        } else {
            format!("key `{}`: {}", key.join("."), lowercase_first(&message))
        };
        let mut error = Error::new(message).at(location);
        if e.message().starts_with("unknown field") {
            error = error.hint(
                "remove the key or fix its spelling; `schemas/dbops.schema.json` lists every key",
            );
        } else if e.message().starts_with("missing field") {
            error = error.hint("add the key; `examples/` has complete files");
        }
        error
    })
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) if !text.starts_with("TOML") => first.to_lowercase().chain(chars).collect(),
        _ => text.to_string(),
    }
}
