//! The document a webhook receives: versioned (schemas/notification.schema.json),
//! with the run's command, host, verdict, findings and errors for machines,
//! and a `text` line Slack and Mattermost show as the message. Everything in
//! it comes from the run's report, which never holds a secret.

use serde::Serialize;

use super::state::Kind;
use super::Verdict;

/// One notification.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub(crate) struct Payload {
    /// `1.0`; a new field keeps the major version, a changed one raises it.
    pub(crate) format_version: &'static str,
    /// `failure`, `recovery` or `report` (a webhook `on = ["always"]` and a clean run).
    pub(crate) kind: Kind,
    /// The dbops command that ran: `drift`, `apply`, `restore-test`.
    pub(crate) command: String,
    /// The `[environments.NAME]` the run worked on, when the file declares environments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) environment: Option<String>,
    /// The machine dbops ran on.
    pub(crate) host: String,
    /// `ok` or `failing`.
    pub(crate) verdict: Verdict,
    pub(crate) exit_code: i32,
    /// When the run started and ended (RFC 3339, UTC).
    pub(crate) started_at: String,
    pub(crate) finished_at: String,
    /// Changes found (drift) or made (apply), by domain.
    pub(crate) changes: std::collections::BTreeMap<String, usize>,
    pub(crate) findings: Vec<PayloadFinding>,
    /// The run's error messages.
    pub(crate) errors: Vec<String>,
    /// One readable message (Slack's and Mattermost's `text`).
    pub(crate) text: String,
}

/// A finding as the report shows it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub(crate) struct PayloadFinding {
    pub(crate) id: String,
    pub(crate) class: String,
    pub(crate) address: String,
    pub(crate) message: String,
}

/// The readable line: what, where, how many; at most five items named.
pub(crate) fn text(payload: &Payload) -> String {
    let command = match &payload.environment {
        Some(environment) => format!("{} ({environment})", payload.command),
        None => payload.command.clone(),
    };
    let head = match payload.kind {
        Kind::Failure => format!(
            ":red_circle: dbops {command} failed on {} (exit {})",
            payload.host, payload.exit_code
        ),
        Kind::Recovery => format!(
            ":large_green_circle: dbops {command} recovered on {}",
            payload.host
        ),
        Kind::Report => format!(
            ":white_check_mark: dbops {command} succeeded on {}",
            payload.host
        ),
    };
    let mut lines = vec![head];
    let changes: usize = payload.changes.values().sum();
    if changes > 0 {
        let by: Vec<String> = payload
            .changes
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(domain, n)| format!("{domain} {n}"))
            .collect();
        let what = if payload.command == "apply" {
            "applied"
        } else {
            "to apply"
        };
        lines.push(format!("{changes} change(s) {what} ({})", by.join(", ")));
    }
    let items = payload.errors.iter().map(|e| format!("error: {e}")).chain(
        payload
            .findings
            .iter()
            .map(|f| format!("{} {}: {}", f.id, f.address, f.message)),
    );
    let total = payload.errors.len() + payload.findings.len();
    for item in items.take(5) {
        lines.push(format!("• {item}"));
    }
    if total > 5 {
        lines.push(format!("… and {} more", total - 5));
    }
    lines.join("\n")
}

/// The JSON Schema of the payload, committed as schemas/notification.schema.json.
pub fn schema_text() -> String {
    let schema = schemars::schema_for!(Payload);
    let mut text = serde_json::to_string_pretty(&schema).expect("schemas serialize");
    text.push('\n');
    text
}
