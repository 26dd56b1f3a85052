//! The grammar of each file dbops renders, as the consumer parses it, and
//! writers that check every value against it before it is written.
//!
//! A value that the consumer would read back differently, or that could start
//! a line of its own, is refused with an error naming the key of `dbops.toml`
//! it came from; nothing is ever written verbatim on trust. Control
//! characters are refused everywhere.
//!
//! - pgBouncer's ini (libusual `cfparser.c`): `key = value`, the value runs to
//!   the end of the line with surrounding blanks trimmed and no quoting, so a
//!   value may not begin or end with whitespace; keys are `[A-Za-z0-9_.*-]+`.
//! - pgBouncer's auth file (`loader.c`): `"user" "secret"`, `"` doubled inside.
//! - pgBouncer's HBA file (`hba.c`): names double-quoted, `"` doubled, so no
//!   name is read as a keyword (`all`) or a file reference (`@file`).
//! - The WAL-G env file, read by `sh` (`. file`) and docker compose's
//!   `env_file`: `KEY='value'`; single quotes are literal in both and cannot be
//!   escaped in both, so a value holding `'` is refused.
//! - pgbackrest.conf (pgBackRest's ini): `key=value`, trimmed, no quoting.

/// A value that cannot be written, and the key of `dbops.toml` it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub(crate) path: Vec<String>,
    pub(crate) message: String,
}

/// The key path of a value, for errors: `["pooler", "settings", "x"]`.
pub(crate) fn path(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| p.to_string()).collect()
}

/// Why `value` has a character no rendered file may hold.
pub(crate) fn control_character(value: &str) -> Option<String> {
    value.chars().find(|c| c.is_control()).map(|c| {
        let name = match c {
            '\n' => "a line break".to_string(),
            '\r' => "a carriage return".to_string(),
            '\t' => "a tab".to_string(),
            '\0' => "a NUL byte".to_string(),
            other => format!("the control character U+{:04X}", other as u32),
        };
        format!("it holds {name}; control characters are refused in every file dbops writes")
    })
}

/// What a writer put in a file, as a reader following the consumer's rules
/// must find it again: the property test compares the two.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Written {
    Section(String),
    Ini {
        section: String,
        key: String,
        value: String,
    },
    Env {
        key: String,
        value: String,
    },
    /// One double-quoted field (auth file, HBA file), unquoted.
    Quoted(String),
}

/// One value written, and the key of `dbops.toml` it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub source: Vec<String>,
    pub written: Written,
}

/// A rendered file: its content and what it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rendered {
    pub(crate) content: String,
    pub(crate) entries: Vec<Entry>,
}

/// Collects a file's content and every value it could not carry.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    pub(crate) content: String,
    pub(crate) errors: Vec<FieldError>,
    pub(crate) entries: Vec<Entry>,
    file: &'static str,
    section: String,
}

impl Writer {
    pub(crate) fn new(file: &'static str) -> Self {
        Self {
            content: String::new(),
            errors: Vec::new(),
            entries: Vec::new(),
            file,
            section: String::new(),
        }
    }

    fn record(&mut self, source: &[String], written: Written) {
        self.entries.push(Entry {
            source: source.to_vec(),
            written,
        });
    }

    /// A line of dbops's own making (a header, a comment): no value in it.
    pub(crate) fn raw(&mut self, line: &str) {
        self.content.push_str(line);
        self.content.push('\n');
    }

    fn refuse(&mut self, source: &[String], why: String) {
        self.errors.push(FieldError {
            path: source.to_vec(),
            message: format!("cannot be written into {}: {why}", self.file),
        });
    }

    fn clean(&mut self, value: &str, source: &[String]) -> bool {
        match control_character(value) {
            Some(why) => {
                self.refuse(source, why);
                false
            }
            None => true,
        }
    }

    /// An ini line (`key = value` or `key=value`), the value as the ini
    /// parser reads it: to the end of the line, trimmed, unquoted.
    pub(crate) fn ini(&mut self, key: &str, separator: &str, value: &str, source: &[String]) {
        let key_ok = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-*".contains(c));
        if !key_ok {
            self.refuse(
                source,
                format!("`{key}` is not a key the ini format can carry"),
            );
            return;
        }
        if !self.clean(value, source) {
            return;
        }
        if value.trim() != value {
            self.refuse(
                source,
                "it begins or ends with whitespace, which the reader trims".to_string(),
            );
            return;
        }
        self.raw(&format!("{key}{separator}{value}"));
        let section = self.section.clone();
        self.record(
            source,
            Written::Ini {
                section,
                key: key.to_string(),
                value: value.to_string(),
            },
        );
    }

    /// An ini section header.
    pub(crate) fn section(&mut self, name: &str, source: &[String]) {
        let ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !ok {
            self.refuse(
                source,
                format!("`{name}` cannot name a section: use letters, digits, `_`, `.` and `-`"),
            );
            return;
        }
        self.raw(&format!("[{name}]"));
        self.section = name.to_string();
        self.record(source, Written::Section(name.to_string()));
    }

    /// `KEY='value'`, read alike by `sh` and docker compose's `env_file`.
    pub(crate) fn env(&mut self, key: &str, value: &str, source: &[String]) {
        if !self.clean(value, source) {
            return;
        }
        if value.contains('\'') {
            self.refuse(
                source,
                "it holds a single quote, which neither `sh` nor docker compose can read back inside the single quotes the file uses".to_string(),
            );
            return;
        }
        self.raw(&format!("{key}='{value}'"));
        self.record(
            source,
            Written::Env {
                key: key.to_string(),
                value: value.to_string(),
            },
        );
    }

    /// A double-quoted field with `"` doubled (pgBouncer's auth and HBA files).
    pub(crate) fn quoted(&mut self, value: &str, source: &[String]) -> Option<String> {
        if !self.clean(value, source) {
            return None;
        }
        self.record(source, Written::Quoted(value.to_string()));
        Some(format!("\"{}\"", value.replace('"', "\"\"")))
    }

    /// The content and what it carries, for the grammar's own tests.
    pub(crate) fn finish_rendered(self) -> Result<Rendered, Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(Rendered {
                content: self.content,
                entries: self.entries,
            })
        } else {
            Err(self.errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_a_reader_would_split_or_trim() {
        let source = path(&["pooler", "settings", "server_reset_query"]);
        let mut w = Writer::new("pgbouncer.ini");
        w.ini(
            "server_reset_query",
            " = ",
            "DISCARD ALL\nauth_type = trust",
            &source,
        );
        w.ini("server_reset_query", " = ", " padded", &source);
        w.ini("bad key", " = ", "x", &source);
        w.ini("server_reset_query", " = ", "DISCARD ALL; # kept", &source);
        let errors = w.errors.clone();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].message.contains("a line break"));
        assert!(errors[1].message.contains("whitespace"));
        assert_eq!(w.content, "server_reset_query = DISCARD ALL; # kept\n");

        let mut env = Writer::new("the WAL-G env file");
        env.env(
            "WALG_COMPRESSION_METHOD",
            "lz4\nWALG_S3_PREFIX=s3://elsewhere",
            &source,
        );
        env.env("AWS_REGION", "it's", &source);
        env.env("AWS_REGION", "$HOME `x` \"y\"", &source);
        assert_eq!(env.errors.len(), 2);
        assert_eq!(env.content, "AWS_REGION='$HOME `x` \"y\"'\n");

        let mut auth = Writer::new("the auth file");
        assert_eq!(auth.quoted("we\"ird", &source).unwrap(), "\"we\"\"ird\"");
        assert_eq!(auth.quoted("a\nb", &source), None);
    }
}
