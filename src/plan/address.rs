//! Stable, typed addresses of planned objects: `postgres.role.app_user`,
//! `bucket.db-backups.lifecycle`, `pooler.file.pgbouncer.ini`.
//!
//! An address is its domain's name followed by segments: fixed words the
//! domain chooses, names taken from the file (a role, a bucket) and file
//! names. A name prints bare when it is a plain identifier, else quoted like
//! a JSON string, so `postgres.role."app user"` stays unambiguous. Nothing
//! parses an address back: code compares addresses, never their text.

use std::fmt;

use serde::{Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Segment {
    /// A fixed word chosen by the domain (`role`, `lifecycle`).
    Word(&'static str),
    /// A name from the file or the server (a role, a database, a setting).
    Name(String),
    /// A file name: dots are part of it (`pgbouncer.ini`).
    File(String),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Address {
    domain: &'static str,
    segments: Vec<Segment>,
}

impl Address {
    pub(crate) fn new(domain: &'static str) -> Self {
        Self {
            domain,
            segments: Vec::new(),
        }
    }

    pub(crate) fn word(mut self, word: &'static str) -> Self {
        self.segments.push(Segment::Word(word));
        self
    }

    pub(crate) fn name(mut self, name: impl Into<String>) -> Self {
        self.segments.push(Segment::Name(name.into()));
        self
    }

    /// A file's name (the last component of `path`).
    pub(crate) fn file(mut self, path: &std::path::Path) -> Self {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        self.segments.push(Segment::File(name));
        self
    }

    /// The last segment when it is a name: `app_user` of `postgres.role.app_user`.
    pub(crate) fn last_name(&self) -> Option<&str> {
        match self.segments.last() {
            Some(Segment::Name(name)) => Some(name),
            _ => None,
        }
    }
}

fn plain(name: &str, extra: &[char]) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || extra.contains(&c))
}

fn quoted(name: &str) -> String {
    serde_json::Value::String(name.to_string()).to_string()
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.domain)?;
        for segment in &self.segments {
            match segment {
                Segment::Word(word) => write!(f, ".{word}")?,
                Segment::Name(name) if plain(name, &[]) => write!(f, ".{name}")?,
                Segment::File(name) if plain(name, &['.']) => write!(f, ".{name}")?,
                Segment::Name(name) | Segment::File(name) => write!(f, ".{}", quoted(name))?,
            }
        }
        Ok(())
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl schemars::JsonSchema for Address {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Address".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A stable address: the domain, then words and names separated by dots; names that are not plain identifiers are quoted like JSON strings."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_when_not_plain() {
        let role = |name: &str| Address::new("postgres").word("role").name(name).to_string();
        assert_eq!(role("app_user"), "postgres.role.app_user");
        assert_eq!(role("App User"), "postgres.role.\"App User\"");
        assert_eq!(role("a.b"), "postgres.role.\"a.b\"");
        assert_eq!(role("we\"ird"), "postgres.role.\"we\\\"ird\"");
        assert_eq!(
            Address::new("bucket")
                .name("db-backups")
                .word("lifecycle")
                .to_string(),
            "bucket.db-backups.lifecycle"
        );
        let file = Address::new("pooler")
            .word("file")
            .file(std::path::Path::new("/etc/pgbouncer/pgbouncer.ini"));
        assert_eq!(file.to_string(), "pooler.file.pgbouncer.ini");
    }
}
