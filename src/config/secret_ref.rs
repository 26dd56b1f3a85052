//! Secret references: `{ env = "NAME" }` or `{ file = "/run/secrets/name" }`.
//!
//! A secret never sits in `dbops.toml`; the file only says where to find it. The
//! hand-written `Deserialize` refuses a plain string without quoting it (it may be
//! the very secret that must not leak), and resolution returns a [`SecretString`].

use std::fmt;
use std::path::PathBuf;

use schemars::JsonSchema;
use secrecy::SecretString;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// Where a secret comes from.
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SecretRef {
    /// The value of an environment variable.
    Env(String),
    /// The contents of a file (for example a Docker secret); one trailing newline is dropped.
    File(PathBuf),
}

/// Why a reference could not be resolved; holds names and paths, never values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretError {
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
    /// Short human name of the source: `DATABASE_URL` or `/run/secrets/db`.
    pub fn source_name(&self) -> String {
        match self {
            SecretRef::Env(name) => format!("${name}"),
            SecretRef::File(path) => path.display().to_string(),
        }
    }

    pub fn resolve(&self) -> Result<SecretString, SecretError> {
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
                let mut text = std::fs::read_to_string(path)
                    .map_err(|e| SecretError::FileUnreadable(path.clone(), io_reason(&e)))?;
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

/// `std::io::Error` without the trailing "(os error N)".
pub fn io_reason(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_lowercase(),
        None => text.to_lowercase(),
    }
}

const EXPECTED: &str =
    "a secret reference such as `{ env = \"NAME\" }` or `{ file = \"/run/secrets/name\" }`";

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RefVisitor;

        impl<'de> Visitor<'de> for RefVisitor {
            type Value = SecretRef;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(EXPECTED)
            }

            fn visit_str<E: de::Error>(self, _: &str) -> Result<SecretRef, E> {
                Err(E::custom(format!(
                    "expected {EXPECTED}, found a plain string; secrets never go in the file: \
                     put the value in an environment variable or a secret file and reference it"
                )))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SecretRef, A::Error> {
                let mut found: Option<SecretRef> = None;
                while let Some(key) = map.next_key::<String>()? {
                    let value = match key.as_str() {
                        "env" => SecretRef::Env(map.next_value::<String>()?),
                        "file" => SecretRef::File(map.next_value::<PathBuf>()?),
                        other => {
                            return Err(de::Error::custom(format!(
                                "unknown field `{other}` in a secret reference, expected `env` or `file`"
                            )))
                        }
                    };
                    if found.is_some() {
                        return Err(de::Error::custom(
                            "a secret reference takes exactly one of `env` or `file`",
                        ));
                    }
                    found = Some(value);
                }
                match found {
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
