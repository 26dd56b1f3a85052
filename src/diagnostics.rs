//! What resolving `dbops.toml` reports: every error and warning at once, each
//! tied to the key it is about and where that key is written.
//!
//! Domains resolve their own sections through a [`Resolver`]; they never see
//! the config parser, only the [`Locate`] trait it implements. A [`Key`] names a
//! dotted key path once and carries its location, so no message writes the path
//! twice. Nothing here opens a connection or quotes a value.

use secrecy::{ExposeSecret, SecretString};

use crate::dsn::Dsn;
use crate::error::{Error, Location};
use crate::secret::SecretRef;

/// Maps a dotted key path to where it is written. The config parser implements it.
pub(crate) trait Locate {
    fn locate(&self, path: &[&str]) -> Option<Location>;
}

/// A key of the desired-state file: its dotted path, and where it is
/// written, looked up only when an error or warning needs it.
#[derive(Clone)]
pub(crate) struct Key<'a> {
    pub(crate) path: String,
    segments: Vec<String>,
    locate: &'a dyn Locate,
}

impl std::fmt::Debug for Key<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({})", self.path)
    }
}

impl Key<'_> {
    pub(crate) fn location(&self) -> Option<Location> {
        let segments: Vec<&str> = self.segments.iter().map(String::as_str).collect();
        self.locate.locate(&segments)
    }

    /// A configuration error about this key.
    pub(crate) fn error(&self, message: impl Into<String>) -> Error {
        Error::config(message)
            .key(self.path.clone())
            .at(self.location())
    }

    /// Resolves a secret reference written at this key.
    pub(crate) fn secret(&self, reference: &SecretRef) -> Result<SecretString, Error> {
        reference
            .resolve()
            .map_err(|e| self.error(e.to_string()).hint(reference.hint()))
    }

    /// Resolves and parses a DSN written at this key; never quotes it. A
    /// parameter libpq does not know is refused when `unknown` says so, else
    /// returned as a warning naming it (an application's driver may read it).
    pub(crate) fn dsn(
        &self,
        reference: &SecretRef,
        unknown: UnknownParams,
    ) -> Result<(Dsn, Option<Warning>), Error> {
        let secret = self.secret(reference)?;
        let dsn = Dsn::parse(secret.expose_secret()).map_err(|e| {
            self.error(format!(
                "the DSN in `{}` {e}",
                reference.source_name()
            ))
            .hint("expected `postgres://USER:PASSWORD@HOST:PORT/DATABASE`, with reserved characters in the user and password percent-encoded")
        })?;
        // TLS parameters that cannot work are config errors, here.
        if let Err(e) = crate::pg::tls::TlsSettings::from_dsn(&dsn) {
            return Err(e
                .hints()
                .iter()
                .fold(self.error(e.message().to_string()), |error, hint| {
                    error.hint(hint.clone())
                }));
        }
        let names: Vec<String> = dsn
            .unknown_params()
            .iter()
            .map(|p| format!("`{p}`"))
            .collect();
        if names.is_empty() {
            return Ok((dsn, None));
        }
        let message = format!(
            "the DSN in `{}` has parameters libpq does not know: {}",
            reference.source_name(),
            names.join(", ")
        );
        match unknown {
            UnknownParams::Refused => Err(self
                .error(message)
                .hint("remove them: dbops passes this DSN to libpq-compatible clients, which refuse unknown parameters")),
            UnknownParams::Warned => Ok((
                dsn,
                Some(self.warning(format!(
                    "{message}; dbops ignores them (the application's driver may read them)"
                ))),
            )),
        }
    }

    /// A role, database or schema name written at this key, checked against
    /// PostgreSQL's identifier rules.
    pub(crate) fn check_name(&self, name: &str, what: &str) -> Result<(), Error> {
        match crate::pg::names::invalid_name(name, what) {
            Some(why) => Err(self.error(why)),
            None => Ok(()),
        }
    }

    /// A warning about this key.
    pub(crate) fn warning(&self, message: impl Into<String>) -> Warning {
        Warning {
            key: Some(self.path.clone()),
            location: self.location(),
            message: message.into(),
        }
    }
}

/// What a DSN parameter libpq does not know is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnknownParams {
    /// An error: the admin's and the backup tool's DSNs.
    Refused,
    /// A warning: an application's DSN, shared with its own driver.
    Warned,
}

pub(crate) use crate::error::Warning;

/// Resolution state: where keys are, and every error and warning so far.
pub(crate) struct Resolver<'a> {
    locate: &'a dyn Locate,
    errors: Vec<Error>,
    warnings: Vec<Warning>,
}

impl<'a> Resolver<'a> {
    pub(crate) fn new(locate: &'a dyn Locate) -> Self {
        Self {
            locate,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The key at `path` (segments that parse as numbers index arrays).
    pub(crate) fn key(&self, path: &[&str]) -> Key<'a> {
        Key {
            path: display_path(path),
            segments: path.iter().map(|s| s.to_string()).collect(),
            locate: self.locate,
        }
    }

    /// Records an error, once: a secret reference checked up front and
    /// again by its section says so one time.
    pub(crate) fn error(&mut self, error: Error) {
        if !self.errors.contains(&error) {
            self.errors.push(error);
        }
    }

    /// Records the error of a failed step and turns its result into an option.
    pub(crate) fn check<T>(&mut self, result: Result<T, Error>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.error(error);
                None
            }
        }
    }

    pub(crate) fn warn(&mut self, warning: Warning) {
        self.warnings.push(warning);
    }

    pub(crate) fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    pub(crate) fn finish(self) -> (Vec<Error>, Vec<Warning>) {
        (self.errors, self.warnings)
    }
}

/// `grants[0].role` for `["grants", "0", "role"]`.
pub(crate) fn display_path(path: &[&str]) -> String {
    let mut out = String::new();
    for segment in path {
        if segment.parse::<usize>().is_ok() && !out.is_empty() {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(segment);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Nowhere;
    impl Locate for Nowhere {
        fn locate(&self, _: &[&str]) -> Option<Location> {
            None
        }
    }

    #[test]
    fn keys_name_their_path_once() {
        let resolver = Resolver::new(&Nowhere);
        let key = resolver.key(&["grants", "0", "role"]);
        assert_eq!(key.path, "grants[0].role");
        assert_eq!(
            key.error("`x` is not a role").to_string(),
            "key `grants[0].role`: `x` is not a role"
        );
    }
}
