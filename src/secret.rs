//! Secret references: `{ env = "NAME" }` or `{ file = "/run/secrets/name" }`.
//!
//! A secret never sits in `dbops.toml`; the file only says where to find it.
//! The hand-written `Deserialize` refuses anything else without quoting it,
//! whatever its type (it may be the very secret that must not leak), and
//! resolution returns a [`SecretString`]. Secret files may be symbolic links
//! (Docker and Kubernetes mount secrets that way) but must resolve to a regular
//! file of at most [`SECRET_FILE_LIMIT`] bytes, read with a bound.

use std::fmt;
use std::path::PathBuf;

use schemars::JsonSchema;
use secrecy::SecretString;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::util::files::read_secret;

/// The largest secret file dbops reads: 64 KiB.
pub(crate) const SECRET_FILE_LIMIT: u64 = 64 * 1024;

/// Where a secret comes from.
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SecretRef {
    /// The value of an environment variable.
    Env(String),
    /// The contents of a file (for example a Docker secret); one trailing newline is dropped.
    File(PathBuf),
}

/// Why a reference could not be resolved; holds names and paths, never values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecretError {
    EnvMissing(String),
    EnvNotUnicode(String),
    FileUnreadable(PathBuf, String),
    Empty(String),
}

impl fmt::Display for SecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretError::EnvMissing(name) => write!(f, "environment variable `{name}` is not set"),
            SecretError::EnvNotUnicode(name) => {
                write!(f, "environment variable `{name}` is not valid UTF-8")
            }
            SecretError::FileUnreadable(path, why) => {
                write!(f, "cannot read secret file `{}`: {why}", path.display())
            }
            SecretError::Empty(what) => write!(f, "{what} is empty"),
        }
    }
}

impl SecretRef {
    /// Short human name of the source: `$DATABASE_URL` or `/run/secrets/db`.
    pub(crate) fn source_name(&self) -> String {
        match self {
            SecretRef::Env(name) => format!("${name}"),
            SecretRef::File(path) => path.display().to_string(),
        }
    }

    /// What to do when the reference cannot be resolved.
    pub(crate) fn hint(&self) -> String {
        match self {
            SecretRef::Env(name) => format!("export `{name}` before running dbops"),
            SecretRef::File(_) => "check the path, that it is a regular file of at most 64 KiB, and that dbops may read it".to_string(),
        }
    }

    pub(crate) fn resolve(&self) -> Result<SecretString, SecretError> {
        let value = match self {
            SecretRef::Env(name) => match std::env::var(name) {
                Ok(v) => v,
                Err(std::env::VarError::NotPresent) => {
                    return Err(SecretError::EnvMissing(name.clone()))
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(SecretError::EnvNotUnicode(name.clone()))
                }
            },
            SecretRef::File(path) => {
                let mut text = read_secret(path, SECRET_FILE_LIMIT)
                    .map_err(|e| SecretError::FileUnreadable(path.clone(), e.to_string()))?;
                if text.ends_with('\n') {
                    text.pop();
                    if text.ends_with('\r') {
                        text.pop();
                    }
                }
                text
            }
        };
        if value.is_empty() {
            let what = match self {
                SecretRef::Env(name) => format!("environment variable `{name}`"),
                SecretRef::File(path) => format!("secret file `{}`", path.display()),
            };
            return Err(SecretError::Empty(what));
        }
        Ok(SecretString::from(value))
    }
}

const EXPECTED: &str =
    "a secret reference such as `{ env = \"NAME\" }` or `{ file = \"/run/secrets/name\" }`";

fn found<E: de::Error>(what: &str) -> E {
    E::custom(format!(
        "expected {EXPECTED}, found {what}; secrets never go in the file: \
         put the value in an environment variable or a secret file and reference it"
    ))
}

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RefVisitor;

        // Every visitor refuses without quoting what it was given.
        impl<'de> Visitor<'de> for RefVisitor {
            type Value = SecretRef;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(EXPECTED)
            }

            fn visit_str<E: de::Error>(self, _: &str) -> Result<SecretRef, E> {
                Err(found("a plain string"))
            }

            fn visit_bool<E: de::Error>(self, _: bool) -> Result<SecretRef, E> {
                Err(found("a boolean"))
            }

            fn visit_i64<E: de::Error>(self, _: i64) -> Result<SecretRef, E> {
                Err(found("a number"))
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<SecretRef, E> {
                Err(found("a number"))
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<SecretRef, E> {
                Err(found("a number"))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<SecretRef, A::Error> {
                Err(found("an array"))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SecretRef, A::Error> {
                let mut found_ref: Option<SecretRef> = None;
                while let Some(key) = map.next_key::<String>()? {
                    let value = match key.as_str() {
                        "env" => SecretRef::Env(map.next_value::<String>()?),
                        "file" => SecretRef::File(map.next_value::<PathBuf>()?),
                        other if other.starts_with("$__toml") => return Err(found("a date-time")),
                        other => {
                            return Err(de::Error::custom(format!(
                                "unknown field `{other}` in a secret reference, expected `env` or `file`"
                            )))
                        }
                    };
                    if found_ref.is_some() {
                        return Err(de::Error::custom(
                            "a secret reference takes exactly one of `env` or `file`",
                        ));
                    }
                    found_ref = Some(value);
                }
                match found_ref {
                    Some(SecretRef::Env(name)) if name.is_empty() => {
                        Err(de::Error::custom("`env` names no variable"))
                    }
                    Some(found) => Ok(found),
                    None => Err(de::Error::custom(format!(
                        "expected {EXPECTED}, found an empty table"
                    ))),
                }
            }
        }

        deserializer.deserialize_any(RefVisitor)
    }
}
