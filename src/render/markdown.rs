//! The pull-request comment form: a headline with the counts, a table of
//! changes, and the text form in a collapsed `diff` block.

use super::{counts, text, Kind, Report};
use crate::plan::{Action, Value};

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

pub fn render(report: &Report<'_>) -> String {
    let plan = report.plan;
    let title = match report.kind {
        Kind::Plan => "dbops plan",
        Kind::Apply => "dbops apply",
        Kind::Drift => "dbops drift",
    };
    let mut out = String::new();
    let pending_table = |out: &mut String| {
        if plan.pending.is_empty() {
            return;
        }
        out.push_str("\n**Pending restart** (written, in force after PostgreSQL restarts):\n\n");
        out.push_str("| Address | Now | After restart |\n|---|---|---|\n");
        for pending in &plan.pending {
            out.push_str(&format!(
                "| `{}` | `{}` | `{}` |\n",
                cell(&pending.address),
                cell(&pending.current.to_string()),
                cell(&pending.pending.to_string())
            ));
        }
    };
    let health_table = |out: &mut String| {
        if plan.health.is_empty() {
            return;
        }
        out.push_str("\n**Backup health** (backups are not happening as declared):\n\n");
        out.push_str("| Check | Finding |\n|---|---|\n");
        for finding in &plan.health {
            out.push_str(&format!(
                "| `{}` | {} |\n",
                cell(&finding.address),
                cell(&finding.message)
            ));
        }
    };
    if plan.is_empty() && !plan.health.is_empty() {
        out.push_str(&format!("### {title}: backup health checks failed\n"));
        health_table(&mut out);
        pending_table(&mut out);
        return out;
    }
    if plan.is_empty() {
        let line = match report.kind {
            Kind::Drift => "no drift",
            Kind::Plan | Kind::Apply => "no changes",
        };
        if plan.pending.is_empty() {
            out.push_str(&format!(
                "### {title}: {line}\n\nLive state matches the desired-state file.\n"
            ));
        } else {
            let line = match report.kind {
                Kind::Drift => "settings wait for a restart",
                Kind::Plan | Kind::Apply => "no changes; settings wait for a restart",
            };
            out.push_str(&format!("### {title}: {line}\n"));
            pending_table(&mut out);
        }
        for note in &plan.notes {
            out.push_str(&format!("\n> **Note:** {}\n", cell(note)));
        }
        return out;
    }
    out.push_str(&format!("### {title}: {}\n\n", counts(plan)));
    out.push_str("| | Address | Action | Attributes |\n|---|---|---|---|\n");
    for change in &plan.changes {
        let (icon, action) = match change.action {
            Action::Create => ("🟢", "create"),
            Action::Update => ("🟡", "update"),
            Action::Delete => ("🔴", "delete"),
        };
        let restart = if change.requires_restart {
            " (requires restart)"
        } else {
            ""
        };
        let attributes: Vec<String> = change
            .attributes
            .iter()
            .map(|a| {
                if a.sensitive && change.action == Action::Update {
                    format!("`{}`: (sensitive) will change", a.name)
                } else if a.sensitive {
                    format!("`{}`: (sensitive)", a.name)
                } else {
                    let show = |v: &Option<Value>| {
                        v.as_ref().map_or("–".to_string(), |v| format!("`{v}`"))
                    };
                    match (&a.before, &a.after) {
                        (None, after) => format!("`{}`: {}", a.name, show(after)),
                        (before, None) => format!("`{}`: ~~{}~~", a.name, show(before)),
                        (before, after) => {
                            format!("`{}`: {} → {}", a.name, show(before), show(after))
                        }
                    }
                }
            })
            .collect();
        out.push_str(&format!(
            "| {icon} | `{}` | {action}{restart} | {} |\n",
            cell(&change.address),
            cell(&attributes.join("<br>"))
        ));
    }
    pending_table(&mut out);
    health_table(&mut out);
    for note in &plan.notes {
        out.push_str(&format!("\n> **Note:** {}\n", cell(note)));
    }
    let plain = text::render(&Report {
        kind: report.kind,
        plan,
        applied: report.applied,
        color: false,
    });
    out.push_str("\n<details><summary>Full plan</summary>\n\n```diff\n");
    out.push_str(&plain);
    out.push_str("```\n\n</details>\n");
    out
}
