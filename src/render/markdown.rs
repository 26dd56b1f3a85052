//! The pull-request comment form: a headline with the counts, warnings about
//! the file, a table of changes with why each is made, and the text form in a
//! collapsed `diff` block whose markers start the line, as GitHub colours them.

use super::{counts, restart_advice, text, Kind, Report};
use crate::plan::{Action, Change, Value};

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn pending_tables(report: &Report<'_>, out: &mut String) {
    for (service, items) in report.pending_by_service() {
        out.push_str(&format!(
            "\n**Pending restart of {}** (written, in force after it restarts; {}):\n\n",
            service.name,
            restart_advice(service)
        ));
        out.push_str("| Address | Now | After restart | In the file |\n|---|---|---|---|\n");
        for pending in items {
            out.push_str(&format!(
                "| `{}` | `{}` | `{}` | {} |\n",
                cell(&pending.address.to_string()),
                cell(&pending.current.to_string()),
                cell(&pending.pending.to_string()),
                if pending.declared {
                    "yes"
                } else {
                    "no: changed by hand"
                }
            ));
        }
    }
}

fn finding_tables(report: &Report<'_>, out: &mut String) {
    for (class, findings) in report.findings_by_class() {
        out.push_str(&format!("\n**{} findings**:\n\n", class.title()));
        out.push_str("| Check | Object | Finding |\n|---|---|---|\n");
        for finding in findings {
            out.push_str(&format!(
                "| `{}` | `{}` | {} |\n",
                finding.id,
                cell(&finding.address.to_string()),
                cell(&finding.message)
            ));
        }
    }
}

/// Lints and deprecations, outside the fold.
fn warnings(report: &Report<'_>, out: &mut String) {
    for warning in report.warnings {
        let at = match (&warning.key, &warning.location) {
            (Some(key), Some(location)) => format!("`{}` ({location}): ", cell(key)),
            (Some(key), None) => format!("`{}`: ", cell(key)),
            (None, Some(location)) => format!("({location}): "),
            (None, None) => String::new(),
        };
        out.push_str(&format!(
            "\n> **Warning:** {at}{}\n",
            cell(&warning.message)
        ));
    }
}

/// The text form with each line's marker moved to its start (`~` as `!`),
/// which GitHub's `diff` highlighting reads: `+` added, `-` removed, `!` changed.
fn diff_markers(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        // `+ address`, `- address`, `~ address`, and a file's unified diff
        // lines (`+line`, `-line`).
        let marker = match trimmed.chars().next() {
            Some('+') => Some('+'),
            Some('-') => Some('-'),
            Some('~') if trimmed.starts_with("~ ") => Some('!'),
            _ => None,
        };
        match marker {
            Some(marker) => {
                out.push(marker);
                out.push_str(&" ".repeat(indent));
                out.push_str(&trimmed[1..]);
            }
            None => {
                out.push(' ');
                out.push_str(line);
            }
        }
        out.push('\n');
    }
    out
}

/// A change's attributes as cell lines: its summary, else each attribute.
fn attribute_lines(change: &Change) -> Vec<String> {
    let listed = if change.summary.is_empty() {
        &change.attributes[..]
    } else {
        &[]
    };
    change
        .summary
        .iter()
        .cloned()
        .chain(listed.iter().map(|a| {
            if a.sensitive && change.action == Action::Update {
                format!("`{}`: (sensitive) will change", a.name)
            } else if a.sensitive {
                format!("`{}`: (sensitive)", a.name)
            } else {
                let show =
                    |v: &Option<Value>| v.as_ref().map_or("–".to_string(), |v| format!("`{v}`"));
                match (&a.before, &a.after) {
                    (None, after) => format!("`{}`: {}", a.name, show(after)),
                    (before, None) => format!("`{}`: ~~{}~~", a.name, show(before)),
                    (before, after) => {
                        format!("`{}`: {} → {}", a.name, show(before), show(after))
                    }
                }
            }
        }))
        .collect()
}

pub(crate) fn render(report: &Report<'_>) -> String {
    let title = match report.kind {
        Kind::Plan => "dbops plan",
        Kind::Apply => "dbops apply",
        Kind::Drift => "dbops drift",
    };
    let mut out = String::new();
    if report.is_empty() && !report.findings.is_empty() {
        out.push_str(&format!("### {title}: checks failed\n"));
        warnings(report, &mut out);
        finding_tables(report, &mut out);
        pending_tables(report, &mut out);
        return out;
    }
    if report.is_empty() {
        let line = match report.kind {
            Kind::Drift => "no drift",
            Kind::Plan | Kind::Apply => "no changes",
        };
        if report.pending.is_empty() {
            out.push_str(&format!(
                "### {title}: {line}\n\nLive state matches the desired-state file.\n"
            ));
        } else {
            let line = match report.kind {
                Kind::Drift => "settings wait for a restart",
                Kind::Plan | Kind::Apply => "no changes; settings wait for a restart",
            };
            out.push_str(&format!("### {title}: {line}\n"));
            pending_tables(report, &mut out);
        }
        warnings(report, &mut out);
        for note in report.notes {
            out.push_str(&format!("\n> **Note:** {}\n", cell(note)));
        }
        return out;
    }
    out.push_str(&format!("### {title}: {}\n", counts(report.summary)));
    warnings(report, &mut out);
    out.push_str("\n| | Address | Action | Why | Attributes |\n|---|---|---|---|---|\n");
    for change in &report.changes {
        let (icon, action) = match change.action {
            Action::Create => ("🟢", "create"),
            Action::Update => ("🟡", "update"),
            Action::Delete => ("🔴", "delete"),
        };
        let restart = match change.restart {
            Some(service) => format!(" (requires a restart of {})", service.name),
            None => String::new(),
        };
        let attributes = attribute_lines(change);
        out.push_str(&format!(
            "| {icon} | `{}` | {action}{restart} | {} | {} |\n",
            cell(&change.address.to_string()),
            cell(change.reason.as_deref().unwrap_or("")),
            cell(&attributes.join("<br>"))
        ));
    }
    pending_tables(report, &mut out);
    finding_tables(report, &mut out);
    for note in report.notes {
        out.push_str(&format!("\n> **Note:** {}\n", cell(note)));
    }
    let plain = text::render(&Report {
        kind: report.kind,
        changes: report.changes.clone(),
        pending: report.pending,
        findings: report.findings,
        notes: report.notes,
        warnings: &[],
        summary: report.summary,
        applied: report.applied,
        color: false,
    });
    out.push_str("\n<details><summary>Full plan</summary>\n\n```diff\n");
    out.push_str(&diff_markers(&plain));
    out.push_str("```\n\n</details>\n");
    out
}
