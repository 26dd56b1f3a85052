//! The human text form, Terraform-like: `+` create, `~` update, `-` delete,
//! colored only when color is on, readable without it.

use console::Style;

use super::{capitalized, counts, restart_advice, Kind, Report};
use crate::plan::{Action, AttributeChange, Change, Pending, Service, Value};

struct Styles {
    create: Style,
    update: Style,
    delete: Style,
    dim: Style,
    bold: Style,
}

impl Styles {
    fn new(color: bool) -> Self {
        let style = |s: Style| s.force_styling(color);
        Self {
            create: style(Style::new().green()),
            update: style(Style::new().yellow()),
            delete: style(Style::new().red()),
            dim: style(Style::new().dim()),
            bold: style(Style::new().bold()),
        }
    }

    fn action(&self, action: Action) -> &Style {
        match action {
            Action::Create => &self.create,
            Action::Update => &self.update,
            Action::Delete => &self.delete,
        }
    }
}

fn symbol(action: Action) -> &'static str {
    match action {
        Action::Create => "+",
        Action::Update => "~",
        Action::Delete => "-",
    }
}

fn verb(kind: Kind, action: Action) -> &'static str {
    match (kind, action) {
        (Kind::Drift, Action::Create) => "is missing",
        (Kind::Drift, Action::Update) => "has drifted",
        (Kind::Drift, Action::Delete) => "is present but not declared",
        (_, Action::Create) => "will be created",
        (_, Action::Update) => "will be updated in-place",
        (_, Action::Delete) => "will be destroyed",
    }
}

/// What waits for a restart, per service, then the findings per class.
fn pending_and_findings(
    report: &Report<'_>,
    pending: &[(Service, Vec<&Pending>)],
    styles: &Styles,
    out: &mut String,
) {
    for (service, items) in pending {
        out.push_str(&format!(
            "Pending restart of {}: written, in force after {} restarts:\n",
            service.name, service.name
        ));
        for item in items {
            let undeclared = if item.declared {
                ""
            } else {
                " (not in the file: changed by hand, in force after the same restart)"
            };
            out.push_str(&format!(
                "  {} {} = {} now, {} after restart{undeclared}\n",
                styles.update.apply_to("!"),
                item.address,
                item.current,
                item.pending
            ));
        }
        out.push('\n');
    }
    for (class, findings) in report.findings_by_class() {
        out.push_str(&format!("{} findings:\n", class.title()));
        for finding in findings {
            out.push_str(&format!(
                "  {} {}: {}\n",
                styles.delete.apply_to("!"),
                finding.address,
                finding.message
            ));
        }
        out.push('\n');
    }
}

pub(crate) fn render(report: &Report<'_>) -> String {
    let styles = Styles::new(report.color);
    let mut out = String::new();
    for note in report.notes {
        out.push_str(&format!("{} {note}\n", styles.dim.apply_to("note:")));
    }
    if !report.notes.is_empty() {
        out.push('\n');
    }
    let pending = report.pending_by_service();
    pending_and_findings(report, &pending, &styles, &mut out);
    if report.is_empty() {
        let waiting: Vec<String> = pending
            .iter()
            .map(|(service, items)| {
                format!(
                    "{} setting(s) wait for a restart of {}: {}",
                    items.len(),
                    service.name,
                    restart_advice(*service)
                )
            })
            .collect();
        let line = match report.kind {
            Kind::Drift if !report.findings.is_empty() => {
                let mut line = format!("Drift: {} check(s) failed", report.findings.len());
                if !waiting.is_empty() {
                    line.push_str(&format!("; {}", waiting.join("; ")));
                }
                line.push('.');
                line
            }
            Kind::Drift if !waiting.is_empty() => format!("Drift: {}.", waiting.join("; ")),
            Kind::Drift => "No drift. Live state matches the desired-state file.".to_string(),
            Kind::Plan | Kind::Apply if !waiting.is_empty() => {
                format!("No changes. {}.", capitalized(&waiting.join("; ")))
            }
            Kind::Plan | Kind::Apply => {
                "No changes. Live state matches the desired-state file.".to_string()
            }
        };
        out.push_str(&format!("{}\n", styles.bold.apply_to(line)));
        return out;
    }
    let heading = match report.kind {
        Kind::Drift => "Live state has drifted from the desired-state file:",
        Kind::Plan | Kind::Apply => "dbops will perform the following actions:",
    };
    out.push_str(heading);
    out.push_str("\n\n");
    for change in &report.changes {
        render_change(&mut out, report.kind, change, &styles);
    }
    let closing = match (report.kind, report.applied) {
        (Kind::Drift, _) if !report.findings.is_empty() => format!(
            "Drift: {} difference(s) ({}) and {} check(s) failed. Run `dbops apply` to repair the differences.",
            report.changes.len(),
            counts(report.summary),
            report.findings.len()
        ),
        (Kind::Drift, _) => format!(
            "Drift: {} difference(s) ({}). Run `dbops apply` to repair.",
            report.changes.len(),
            counts(report.summary)
        ),
        (Kind::Apply, true) => {
            let s = report.summary;
            format!(
                "Apply complete! Resources: {} added, {} changed, {} destroyed.",
                s.create, s.update, s.delete
            )
        }
        (Kind::Plan | Kind::Apply, _) => format!("Plan: {}.", counts(report.summary)),
    };
    out.push_str(&format!("{}\n", styles.bold.apply_to(closing)));
    out
}

fn render_change(out: &mut String, kind: Kind, change: &Change, styles: &Styles) {
    let style = styles.action(change.action);
    out.push_str(&format!(
        "  {}\n",
        styles.dim.apply_to(format!(
            "# {} {}",
            change.address,
            verb(kind, change.action)
        ))
    ));
    if let Some(service) = change.restart {
        out.push_str(&format!(
            "  {}\n",
            styles
                .dim
                .apply_to(format!("# (requires a restart of {})", service.name))
        ));
    }
    out.push_str(&format!(
        "  {} {}\n",
        style.apply_to(symbol(change.action)),
        change.address
    ));
    let width = change
        .attributes
        .iter()
        .map(|a| a.name.chars().count())
        .max()
        .unwrap_or(0);
    for line in &change.summary {
        out.push_str(&format!("      {} {line}\n", styles.update.apply_to("~")));
    }
    if !change.summary.is_empty() {
        out.push_str(&format!(
            "      {}\n",
            styles.dim.apply_to(format!(
                "# {} objects; each one: `--format json`",
                change.attributes.len()
            ))
        ));
    }
    let listed = if change.summary.is_empty() {
        &change.attributes[..]
    } else {
        &[]
    };
    for attribute in listed {
        let (mark, text) = attribute_text(change.action, attribute);
        let mark_style = match mark {
            "+" => &styles.create,
            "-" => &styles.delete,
            _ => &styles.update,
        };
        out.push_str(&format!(
            "      {} {:width$} = {text}\n",
            mark_style.apply_to(mark),
            attribute.name,
        ));
    }
    if let Some(reason) = &change.reason {
        out.push_str(&format!(
            "      {}\n",
            styles.dim.apply_to(format!("# {reason}"))
        ));
    }
    if let Some(diff) = &change.diff {
        for line in diff.lines() {
            let style = match line.chars().next() {
                Some('+') => &styles.create,
                Some('-') => &styles.delete,
                _ => &styles.dim,
            };
            out.push_str(&format!("      {}\n", style.apply_to(line)));
        }
    }
    out.push('\n');
}

fn attribute_text(action: Action, attribute: &AttributeChange) -> (&'static str, String) {
    if attribute.sensitive {
        return match action {
            Action::Create => ("+", "(sensitive)".into()),
            Action::Update => ("~", "(sensitive) will change".into()),
            Action::Delete => ("-", "(sensitive)".into()),
        };
    }
    let show = |v: &Option<Value>| v.as_ref().map_or("(none)".to_string(), Value::to_string);
    match (&attribute.before, &attribute.after) {
        (None, Some(after)) => ("+", after.to_string()),
        (Some(before), None) => ("-", before.to_string()),
        (before, after) => ("~", format!("{} -> {}", show(before), show(after))),
    }
}
