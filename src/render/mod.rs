//! Renderers: a plan (or drift report) as text, versioned JSON or Markdown.
//! They format what they are given and compute nothing: no diffing, no
//! connections, no counting beyond [`Plan::summary`].

mod json;
mod markdown;
mod text;

use crate::plan::Plan;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

/// Which command a report answers; it sets the wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Plan,
    Apply,
    Drift,
}

/// Everything a renderer may show.
pub struct Report<'a> {
    pub kind: Kind,
    pub plan: &'a Plan,
    /// For `apply`: the changes were carried out (not only planned).
    pub applied: bool,
    pub color: bool,
}

pub fn render(format: Format, report: &Report<'_>) -> String {
    match format {
        Format::Text => text::render(report),
        Format::Json => json::render(report),
        Format::Markdown => markdown::render(report),
    }
}

/// The closing counts in Terraform's words.
fn counts(plan: &Plan) -> String {
    let summary = plan.summary();
    format!(
        "{} to add, {} to change, {} to destroy",
        summary.create, summary.update, summary.delete
    )
}

#[cfg(test)]
mod tests;
