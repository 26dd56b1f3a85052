//! The machine form: versioned JSON with every change, its attribute diffs and
//! a summary of counts per action. `format_version` changes its major number
//! only when a field is removed or changes meaning.

use serde::Serialize;

use super::{Kind, Report};
use crate::error::Warning;
use crate::plan::{Change, Finding, FindingClass, Pending, Summary};

pub(crate) const FORMAT_VERSION: &str = "3.1";

/// What `plan`, `apply` and `drift` print with `--format json`
/// (schemas/report.schema.json).
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct Document<'a> {
    /// `3.1`: `warnings`, what `validate` says about the file.
    /// `3.0`: each finding has a stable dotted `id` and a `class` (`health`,
    /// `security`) in place of `check`; `drift` flags each class.
    /// (`2.0`: findings in their own array, `drift` split into configuration
    /// and findings.)
    pub(crate) format_version: &'static str,
    pub(crate) command: Kind,
    /// `apply` only: the changes were carried out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) applied: Option<bool>,
    /// `drift` only: what was found, by kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) drift: Option<DriftFlags>,
    /// Configuration changes (for `drift`: configuration drift).
    pub(crate) changes: &'a [&'a Change],
    /// Settings written but waiting for a restart, with the service.
    pub(crate) pending_restart: &'a [Pending],
    /// Live-state checks: backup health and row-level-security lints, each
    /// with its figures in `details` (`age_seconds`, `threshold_seconds`, ...).
    pub(crate) findings: &'a [Finding],
    pub(crate) notes: &'a [String],
    /// Lints and deprecations about the file, each with its key and location.
    pub(crate) warnings: &'a [Warning],
    pub(crate) summary: Summary,
}

/// `drift`'s answer, split so a job can route each class (`--fail-on`).
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct DriftFlags {
    /// Changes or pending restarts: the live state moved from the file.
    pub(crate) configuration: bool,
    /// At least one finding of any class.
    pub(crate) findings: bool,
    /// At least one health finding (backups, archiving, drills).
    pub(crate) health: bool,
    /// At least one security finding (row-level security).
    pub(crate) security: bool,
}

pub(crate) fn render(report: &Report<'_>) -> String {
    let document = Document {
        format_version: FORMAT_VERSION,
        command: report.kind,
        applied: (report.kind == Kind::Apply).then_some(report.applied),
        drift: (report.kind == Kind::Drift).then_some(DriftFlags {
            configuration: !report.changes.is_empty() || !report.pending.is_empty(),
            findings: !report.findings.is_empty(),
            health: report
                .findings
                .iter()
                .any(|f| f.class == FindingClass::Health),
            security: report
                .findings
                .iter()
                .any(|f| f.class == FindingClass::Security),
        }),
        changes: &report.changes,
        pending_restart: report.pending,
        findings: report.findings,
        notes: report.notes,
        warnings: report.warnings,
        summary: report.summary,
    };
    let mut text = serde_json::to_string_pretty(&document).expect("plans serialize");
    text.push('\n');
    text
}

/// The JSON Schema of [`Document`], committed as schemas/report.schema.json.
pub fn schema_text() -> String {
    let schema = schemars::schema_for!(Document<'static>);
    let mut text = serde_json::to_string_pretty(&schema).expect("schemas serialize");
    text.push('\n');
    text
}
