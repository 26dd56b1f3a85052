//! The machine form: versioned JSON with every change, its attribute diffs and
//! a summary of counts per action. `format_version` changes its major number
//! only when a field is removed or changes meaning.

use serde::Serialize;

use super::{Kind, Report};
use crate::plan::{Change, Finding, Pending, Summary};

pub const FORMAT_VERSION: &str = "1.0";

#[derive(Serialize)]
struct Document<'a> {
    format_version: &'static str,
    command: Kind,
    #[serde(skip_serializing_if = "Option::is_none")]
    applied: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    drift: Option<bool>,
    changes: &'a [&'a Change],
    pending_restart: &'a [Pending],
    #[serde(skip_serializing_if = "Option::is_none")]
    backup_health: Option<&'a [Finding]>,
    notes: &'a [String],
    summary: Summary,
}

pub fn render(report: &Report<'_>) -> String {
    let document = Document {
        format_version: FORMAT_VERSION,
        command: report.kind,
        applied: (report.kind == Kind::Apply).then_some(report.applied),
        drift: (report.kind == Kind::Drift).then_some(!report.in_sync()),
        changes: &report.changes,
        pending_restart: report.pending,
        backup_health: (report.kind == Kind::Drift).then_some(report.findings),
        notes: report.notes,
        summary: report.summary,
    };
    let mut text = serde_json::to_string_pretty(&document).expect("plans serialize");
    text.push('\n');
    text
}
