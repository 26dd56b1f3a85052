//! Renderers: a plan (or drift report) as text, versioned JSON or Markdown.
//! They format what they are given and compute nothing: no diffing, no
//! connections, no counting beyond [`Summary`]. They read only the generic
//! plan model, never a domain's operations.

pub mod error_document;
pub mod json;
mod markdown;
mod text;

use crate::error::Warning;
use crate::plan::{Change, Finding, FindingClass, Pending, Plan, Service, Summary};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
    Markdown,
}

/// Which command a report answers; it sets the wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    Plan,
    Apply,
    Drift,
}

/// Everything a renderer may show.
pub(crate) struct Report<'a> {
    pub(crate) kind: Kind,
    pub(crate) changes: Vec<&'a Change>,
    pub(crate) pending: &'a [Pending],
    pub(crate) findings: &'a [Finding],
    pub(crate) notes: &'a [String],
    /// What `validate` would say about the file: lints, deprecated keys.
    pub(crate) warnings: &'a [Warning],
    pub(crate) summary: Summary,
    /// For `apply`: the changes were carried out (not only planned).
    pub(crate) applied: bool,
    pub(crate) color: bool,
}

impl<'a> Report<'a> {
    pub(crate) fn new<O>(kind: Kind, plan: &'a Plan<O>, color: bool) -> Self {
        Self {
            kind,
            changes: plan.changes().collect(),
            pending: &plan.pending,
            findings: &plan.findings,
            notes: &plan.notes,
            warnings: &[],
            summary: plan.summary(),
            applied: false,
            color,
        }
    }

    pub(crate) fn warnings(mut self, warnings: &'a [Warning]) -> Self {
        self.warnings = warnings;
        self
    }

    pub(crate) fn applied(mut self, applied: bool) -> Self {
        self.applied = applied;
        self
    }

    fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Pending items grouped by service, in order of first appearance.
    fn pending_by_service(&self) -> Vec<(Service, Vec<&'a Pending>)> {
        let mut groups: Vec<(Service, Vec<&Pending>)> = Vec::new();
        for pending in self.pending {
            match groups.iter_mut().find(|(s, _)| *s == pending.service) {
                Some((_, items)) => items.push(pending),
                None => groups.push((pending.service, vec![pending])),
            }
        }
        groups
    }

    /// Findings grouped by class, in order of first appearance.
    fn findings_by_class(&self) -> Vec<(FindingClass, Vec<&'a Finding>)> {
        let mut groups: Vec<(FindingClass, Vec<&Finding>)> = Vec::new();
        for finding in self.findings {
            match groups.iter_mut().find(|(c, _)| *c == finding.class) {
                Some((_, items)) => items.push(finding),
                None => groups.push((finding.class, vec![finding])),
            }
        }
        groups
    }
}

pub(crate) fn render(format: Format, report: &Report<'_>) -> String {
    match format {
        Format::Text => text::render(report),
        Format::Json => json::render(report),
        Format::Markdown => markdown::render(report),
    }
}

/// The closing counts in Terraform's words.
fn counts(summary: Summary) -> String {
    format!(
        "{} to add, {} to change, {} to destroy",
        summary.create, summary.update, summary.delete
    )
}

/// What to do about settings waiting for `service`.
fn restart_advice(service: Service) -> String {
    if service.restartable_by_dbops {
        format!(
            "run `dbops apply --allow-restart` or restart {} yourself",
            service.name
        )
    } else {
        format!("restart {}; dbops does not restart it", service.name)
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
