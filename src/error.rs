//! The one error type every fallible step returns, its kind, and the list of
//! errors a command ends with.
//!
//! An [`Error`] is a single lowercase message (literals in backticks, no trailing
//! period), a [`ErrorKind`] saying which part of the world failed, optionally
//! where in the desired-state file (`file:line:column` and the dotted key), the
//! chain of causes, and `hint:` lines saying what to do. It never holds a
//! secret: whoever builds one formats only names, addresses and redacted DSNs
//! into it. Printing is the printer's job, never this module's.

use std::fmt;

use serde::Serialize;

/// Which part of the world an error comes from, so a pipeline can route it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ErrorKind {
    /// `dbops.toml`, or a secret or file it references, is wrong.
    Config,
    /// A server could not be reached: refused, timed out, or the TLS handshake failed.
    Connection,
    /// A server refused the credentials.
    Authentication,
    /// Logged in, but not allowed to do or read something.
    Permission,
    /// A server answered with an error.
    Server,
    /// The S3-compatible storage failed or refused.
    Storage,
    /// A local file, directory, process or command failed.
    Local,
    /// A signal stopped dbops.
    Interrupted,
    /// Live state moved under dbops: a stale saved plan, a held lock, no convergence.
    Conflict,
    /// A bug in dbops.
    Internal,
}

/// Where in the desired-state file something is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub(crate) struct Location {
    pub(crate) file: String,
    pub(crate) line: usize,
    pub(crate) column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// Something worth saying that does not stop the run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub(crate) struct Warning {
    /// The dotted key in the file it is about (`backup.full_backups`).
    pub(crate) key: Option<String>,
    /// Where that key is written.
    pub(crate) location: Option<Location>,
    pub(crate) message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(location) = &self.location {
            write!(f, "{location}: ")?;
        }
        write!(f, "{}", one_line(&self.message))
    }
}

/// An error: boxed, so results stay small on the happy path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Error(Box<Inner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    kind: ErrorKind,
    message: String,
    location: Option<Location>,
    /// The dotted key path in the desired-state file (`roles.app_user.dsn`).
    key: Option<String>,
    causes: Vec<String>,
    hints: Vec<String>,
    /// The process exit code this error ends with, when not 1 (130, 143).
    exit_code: Option<u8>,
    /// The server's SQLSTATE, when a server's error is behind this one.
    sqlstate: Option<String>,
    /// The `[environments.NAME]` the error happened in.
    environment: Option<String>,
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of kind [`ErrorKind::Local`] unless [`Error::kind`] says otherwise.
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            kind: ErrorKind::Local,
            message: message.into(),
            location: None,
            key: None,
            causes: Vec::new(),
            hints: Vec::new(),
            exit_code: None,
            sqlstate: None,
            environment: None,
        }))
    }

    /// The server's SQLSTATE behind this error.
    pub(crate) fn sqlstate(mut self, code: Option<&str>) -> Self {
        self.0.sqlstate = code.map(str::to_string);
        self
    }

    /// Whether a server's lock wait ran out (`lock_timeout`, SQLSTATE 55P03).
    pub(crate) fn is_lock_timeout(&self) -> bool {
        self.0.sqlstate.as_deref() == Some("55P03")
    }

    /// Stopped by a signal: exit 128 + its number, as shells report it.
    pub(crate) fn interrupted(signal: i32, message: impl Into<String>) -> Self {
        let mut error = Self::new(message).kind(ErrorKind::Interrupted);
        error.0.exit_code = Some(128 + signal as u8);
        error
    }

    pub(crate) fn exit_code(&self) -> Option<u8> {
        self.0.exit_code
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(message).kind(ErrorKind::Config)
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(format!("internal error: {}", message.into())).kind(ErrorKind::Internal)
    }

    pub(crate) fn kind(mut self, kind: ErrorKind) -> Self {
        self.0.kind = kind;
        self
    }

    pub(crate) fn at(mut self, location: Option<Location>) -> Self {
        if self.0.location.is_none() {
            self.0.location = location;
        }
        self
    }

    /// The key path the error is about, shown before the message.
    pub(crate) fn key(mut self, key: impl Into<String>) -> Self {
        if self.0.key.is_none() {
            self.0.key = Some(key.into());
        }
        self
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.0.hints.push(hint.into());
        self
    }

    pub(crate) fn cause(mut self, cause: impl Into<String>) -> Self {
        self.0.causes.push(cause.into());
        self
    }

    /// The environment the error happened in (kept if already named).
    pub(crate) fn environment(mut self, name: &str) -> Self {
        if self.0.environment.is_none() {
            self.0.environment = Some(name.to_string());
        }
        self
    }

    /// The same error, not tied to one environment.
    pub(crate) fn without_environment(mut self) -> Self {
        self.0.environment = None;
        self
    }

    pub(crate) fn environment_name(&self) -> Option<&str> {
        self.0.environment.as_deref()
    }

    pub(crate) fn error_kind(&self) -> ErrorKind {
        self.0.kind
    }

    pub(crate) fn message(&self) -> &str {
        &self.0.message
    }

    pub(crate) fn location(&self) -> Option<&Location> {
        self.0.location.as_ref()
    }

    pub(crate) fn key_path(&self) -> Option<&str> {
        self.0.key.as_deref()
    }

    pub(crate) fn causes(&self) -> &[String] {
        &self.0.causes
    }

    pub(crate) fn hints(&self) -> &[String] {
        &self.0.hints
    }

    /// The first line: location, key and message, without causes or hints.
    pub(crate) fn headline(&self) -> String {
        let mut out = String::new();
        if let Some(location) = &self.0.location {
            out.push_str(&format!("{location}: "));
        }
        if let Some(environment) = &self.0.environment {
            out.push_str(&format!("environment `{environment}`: "));
        }
        if let Some(key) = &self.0.key {
            out.push_str(&format!("key `{key}`: "));
        }
        out.push_str(&self.0.message);
        out
    }
}

impl fmt::Display for Error {
    /// `error:` prefix excluded: the printer adds it, styled. Each part is
    /// one line: a control character from a hostile key, a value or a
    /// server's message is shown escaped (`\n`), never acted on.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", one_line(&self.headline()))?;
        for cause in &self.0.causes {
            write!(f, "\n  caused by: {}", one_line(cause))?;
        }
        for hint in &self.0.hints {
            write!(f, "\n  hint: {}", one_line(hint))?;
        }
        Ok(())
    }
}

/// `text` with its control characters escaped (`\n`, `\u{1b}`).
pub(crate) fn one_line(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

impl std::error::Error for Error {}

/// Every error a command ends with: one, or all the problems of a file at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Errors(Vec<Error>);

impl Errors {
    pub(crate) fn new(errors: Vec<Error>) -> Self {
        debug_assert!(!errors.is_empty());
        Self(errors)
    }

    pub(crate) fn list(&self) -> &[Error] {
        &self.0
    }

    pub(crate) fn into_vec(self) -> Vec<Error> {
        self.0
    }

    /// The first error, for callers that handle one.
    pub(crate) fn first(&self) -> &Error {
        &self.0[0]
    }
}

impl From<Error> for Errors {
    fn from(error: Error) -> Self {
        Self(vec![error])
    }
}

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_printed_escaped() {
        let error = Error::config("a\nb")
            .key("roles.x\u{1b}[31m")
            .cause("line\r")
            .hint("tab\t");
        let text = error.to_string();
        assert_eq!(
            text,
            "key `roles.x\\u{1b}[31m`: a\\nb\n  caused by: line\\r\n  hint: tab\\t"
        );
    }

    #[test]
    fn prints_location_key_message_causes_and_hints() {
        let error = Error::config("`x` is not a duration")
            .key("backup.rpo")
            .at(Some(Location {
                file: "dbops.toml".into(),
                line: 3,
                column: 7,
            }))
            .cause("because")
            .hint("write `5m`");
        assert_eq!(
            error.to_string(),
            "dbops.toml:3:7: key `backup.rpo`: `x` is not a duration\n  caused by: because\n  hint: write `5m`"
        );
        assert_eq!(error.error_kind(), ErrorKind::Config);
    }
}
