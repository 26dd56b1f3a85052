//! `dbops apply [PLANFILE]`: take the apply lock, observe, plan, confirm,
//! converge, then observe again and fail loudly if anything did not converge.
//! A saved plan is applied only if the file, the live state and the changes are
//! exactly what they were when it was saved.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use super::{print, warn, ExitStatus};
use crate::cli::Settings;
use crate::engine::Session;
use crate::error::{Error, Result};
use crate::events::{Event, EventLog, LogFormat};
use crate::planfile::{changes_value, PlanFile};
use crate::postgres::connect::Access;
use crate::postgres::lock;
use crate::render::{render, Format, Kind, Report};

pub async fn run(
    settings: &Settings,
    auto_approve: bool,
    lock_timeout: Duration,
    planfile: Option<&Path>,
) -> Result<ExitStatus> {
    let saved = planfile.map(PlanFile::load).transpose()?;
    let interactive = std::io::stdin().is_terminal();
    if saved.is_none() && !auto_approve && !interactive {
        return Err(Error::new("refusing to apply without confirmation: stdin is not a terminal")
            .hint("pass `--auto-approve`, or save a plan with `dbops plan --out FILE` and apply it with `dbops apply FILE`"));
    }
    let log = EventLog::new(settings.log_format);

    let mut session =
        Session::open(&settings.file, Access::ReadWrite, settings.connect_timeout).await?;
    warn(settings, &session.loaded.warnings);
    if let Some(saved) = &saved {
        if saved.config_digest != session.loaded.digest() {
            return Err(stale(
                planfile,
                "the desired-state file changed since the plan was saved",
            ));
        }
    }
    lock::acquire(&session.client, lock_timeout).await?;
    let live = session.observe().await?;
    let plan = session.plan(&live)?;
    if let Some(saved) = &saved {
        if saved.live_digest != live.fingerprint() || saved.changes != changes_value(&plan) {
            return Err(stale(
                planfile,
                "the live state changed since the plan was saved",
            ));
        }
    }

    let report = |applied| Report {
        kind: Kind::Apply,
        plan: &plan,
        applied,
        color: settings.color,
    };
    if plan.is_empty() {
        print(&render(settings.format, &report(false)));
        return Ok(ExitStatus::Success);
    }
    if settings.format == Format::Text {
        print(&render(Format::Text, &report(false)));
    }
    if saved.is_none() && !auto_approve && !confirm()? {
        return Err(Error::new("apply cancelled; nothing was changed"));
    }

    let events = session.apply(&plan).await?;
    for event in &events {
        log.emit(event);
    }

    let after = session.observe().await?;
    let remaining = session.plan(&after)?;
    if !remaining.is_empty() {
        let addresses: Vec<String> = remaining
            .changes
            .iter()
            .map(|c| format!("`{}`", c.address))
            .collect();
        return Err(Error::new(format!(
            "apply did not converge: {} change(s) remain after applying: {}",
            remaining.changes.len(),
            addresses.join(", ")
        ))
        .hint("something else changed these objects during the apply, or the server ignored a change; run `dbops plan` to see them"));
    }
    if settings.log_format == LogFormat::Json {
        log.emit(&Event::message(
            "apply.complete",
            "live state matches the desired-state file",
        ));
    }
    match settings.format {
        Format::Text => {
            let summary = plan.summary();
            let line = format!(
                "Apply complete! Resources: {} added, {} changed, {} destroyed.",
                summary.create, summary.update, summary.delete
            );
            let style = console::Style::new()
                .green()
                .bold()
                .force_styling(settings.color);
            print(&format!("\n{}\n", style.apply_to(line)));
        }
        Format::Json | Format::Markdown => print(&render(settings.format, &report(true))),
    }
    Ok(ExitStatus::Success)
}

fn stale(planfile: Option<&Path>, why: &str) -> Error {
    let name = planfile
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    Error::new(format!(
        "refusing to apply the saved plan `{name}`: {why}; nothing was changed"
    ))
    .hint("run `dbops plan --out FILE` again and review the new plan")
}

fn confirm() -> Result<bool> {
    print(
        "\nDo you want to perform these actions? Only `yes` will be accepted.\n  Enter a value: ",
    );
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::new(format!("cannot read the answer: {e}")))?;
    Ok(answer.trim() == "yes")
}
