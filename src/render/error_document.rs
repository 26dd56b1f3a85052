//! The machine form of a failure: with `--format json`, a command that fails
//! prints this one document on stdout (and its usual text on stderr), so a CI
//! step that parses stdout always has something to parse. It holds exactly
//! what the text shows: messages are built without secrets (see `error`).

use serde::Serialize;

use super::json::FORMAT_VERSION;
use crate::error::{Error, Errors};

/// What `dbops <command> --format json` prints on stdout when it fails.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct ErrorDocument {
    /// The JSON output's version, shared with plans and reports.
    pub(crate) format_version: String,
    /// The subcommand that failed (`validate`, `plan`, `apply`, ...).
    pub(crate) command: String,
    /// Always true: tells this document from a report.
    pub(crate) failed: bool,
    /// Every diagnostic, in the order the text lists them.
    pub(crate) errors: Vec<Diagnostic>,
}

/// One error.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct Diagnostic {
    /// Which part of the world failed, for routing.
    pub(crate) kind: crate::error::ErrorKind,
    pub(crate) message: String,
    /// The `[environments.NAME]` it happened in, when the file declares environments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) environment: Option<String>,
    /// Where in the desired-state file, when the error is about a key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) location: Option<DiagnosticLocation>,
    /// Underlying causes, outermost first.
    pub(crate) causes: Vec<String>,
    /// What to do about it, when dbops knows; several hints joined by newlines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hint: Option<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct DiagnosticLocation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) column: Option<usize>,
    /// The dotted key (`roles.app_user.dsn`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) key: Option<String>,
}

pub(crate) fn diagnostic(error: &Error) -> Diagnostic {
    let location =
        (error.location().is_some() || error.key_path().is_some()).then(|| DiagnosticLocation {
            file: error.location().map(|l| l.file.clone()),
            line: error.location().map(|l| l.line),
            column: error.location().map(|l| l.column),
            key: error.key_path().map(str::to_string),
        });
    Diagnostic {
        kind: error.error_kind(),
        message: error.message().to_string(),
        environment: error.environment_name().map(str::to_string),
        location,
        causes: error.causes().to_vec(),
        hint: (!error.hints().is_empty()).then(|| error.hints().join("\n")),
    }
}

pub(crate) fn render(command: &str, errors: &Errors) -> String {
    let document = ErrorDocument {
        format_version: FORMAT_VERSION.to_string(),
        command: command.to_string(),
        failed: true,
        errors: errors.list().iter().map(diagnostic).collect(),
    };
    let mut text = serde_json::to_string_pretty(&document).expect("errors serialize");
    text.push('\n');
    text
}

/// The JSON Schema of [`ErrorDocument`], committed as schemas/error.schema.json.
pub fn schema_text() -> String {
    let schema = schemars::schema_for!(ErrorDocument);
    let mut text = serde_json::to_string_pretty(&schema).expect("schemas serialize");
    text.push('\n');
    text
}
