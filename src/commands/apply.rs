//! `dbops apply [PLANFILE]`: take the apply lock, observe, plan, confirm,
//! converge, then observe again and fail loudly if anything did not converge.
//! A saved plan is applied only if the file, the live state and the changes are
//! exactly what they were when it was saved. Settings that wait for a restart
//! are reported; with `--allow-restart`, `[server] restart_command` runs.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use super::{print, warn, ExitStatus};
use crate::cli::Settings;
use crate::engine::Session;
use crate::error::{Error, Result};
use crate::events::{Event, EventLog, LogFormat};
use crate::plan::{Plan, Service};
use crate::planfile::{changes_value, PlanFile};
use crate::postgres::connect::Access;
use crate::postgres::lock;
use crate::render::{render, Format, Kind, Report};

/// How long apply waits for a configuration reload to show in `pg_settings`.
const SETTLE: Duration = Duration::from_secs(10);

pub struct Options {
    pub auto_approve: bool,
    pub lock_timeout: Duration,
    pub allow_restart: bool,
    pub restart_timeout: Duration,
}

pub async fn run(
    settings: &Settings,
    options: &Options,
    planfile: Option<&Path>,
) -> Result<ExitStatus> {
    let saved = planfile.map(PlanFile::load).transpose()?;
    let interactive = std::io::stdin().is_terminal();
    if saved.is_none() && !options.auto_approve && !interactive {
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
    lock::acquire(&session.client, options.lock_timeout).await?;
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

    if plan.is_empty() {
        print(&render(settings.format, &report(settings, &plan, false)));
        return finish_restarts(settings, options, &mut session, &plan, &log).await;
    }
    if settings.format == Format::Text {
        print(&render(Format::Text, &report(settings, &plan, false)));
    }
    if saved.is_none() && !options.auto_approve && !confirm()? {
        return Err(Error::new("apply cancelled; nothing was changed"));
    }

    let events = session.apply(&plan).await?;
    for event in &events {
        log.emit(event);
    }

    let (_, remaining) = session.settle(SETTLE).await?;
    if !remaining.is_empty() {
        return Err(not_converged(&remaining));
    }
    let pooler_restarts: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.requires_restart && Service::of(&c.address) == Some(Service::Pooler))
        .map(|c| format!("`{}`", c.address))
        .collect();
    if !pooler_restarts.is_empty() {
        eprintln!(
            "Restart required: {} changes settings pgBouncer's RELOAD ignores; restart pgBouncer to apply them (dbops does not restart it).",
            pooler_restarts.join(", ")
        );
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
        Format::Json | Format::Markdown => {
            print(&render(settings.format, &report(settings, &plan, true)))
        }
    }
    finish_restarts(settings, options, &mut session, &remaining, &log).await
}

fn report<'a>(settings: &Settings, plan: &'a Plan, applied: bool) -> Report<'a> {
    Report {
        kind: Kind::Apply,
        plan,
        applied,
        color: settings.color,
    }
}

/// Settings waiting for a restart: restart when allowed, else say so plainly.
async fn finish_restarts(
    settings: &Settings,
    options: &Options,
    session: &mut Session,
    plan: &Plan,
    log: &EventLog,
) -> Result<ExitStatus> {
    let quoted = |addresses: Vec<&str>| -> Vec<String> {
        addresses.iter().map(|a| format!("`{a}`")).collect()
    };
    let pooler = quoted(plan.pending_for(Service::Pooler));
    if !pooler.is_empty() {
        eprintln!(
            "Restart required: {} take effect when pgBouncer restarts (RELOAD ignores them); dbops does not restart pgBouncer.",
            pooler.join(", ")
        );
    }
    let names = quoted(plan.pending_for(Service::Postgres));
    if names.is_empty() {
        return Ok(ExitStatus::Success);
    }
    if !options.allow_restart {
        eprintln!(
            "Restart required: {} take effect when PostgreSQL restarts. Run `dbops apply --allow-restart` \
             (it runs `[server] restart_command`) or restart PostgreSQL yourself.",
            names.join(", ")
        );
        return Ok(ExitStatus::Success);
    }
    let Some(command) = session.loaded.desired.settings.restart_command.clone() else {
        return Err(Error::new(format!(
            "{} wait for a restart, and `--allow-restart` was given, but `[server] restart_command` is not set",
            names.join(", ")
        ))
        .hint("set `restart_command` in `[server]`, e.g. `docker compose restart postgres`"));
    };
    log.emit(&Event::message(
        "server.restart.started",
        "running `[server] restart_command`",
    ));
    let admin = session.loaded.desired.admin.clone();
    crate::restart::restart(
        &command,
        &admin,
        options.restart_timeout,
        settings.connect_timeout,
    )
    .await?;
    session.reconnect().await?;
    lock::acquire(&session.client, options.lock_timeout).await?;
    log.emit(&Event::message(
        "server.restart.completed",
        "PostgreSQL is back",
    ));
    let (_, after) = session.settle(SETTLE).await?;
    if !after.is_empty() || !after.pending_for(Service::Postgres).is_empty() {
        return Err(not_converged(&after).cause("observed after the restart"));
    }
    if settings.format == Format::Text {
        print("PostgreSQL restarted; every setting is in force.\n");
    }
    Ok(ExitStatus::Success)
}

fn not_converged(remaining: &Plan) -> Error {
    let addresses: Vec<String> = remaining
        .changes
        .iter()
        .map(|c| format!("`{}`", c.address))
        .chain(
            remaining
                .pending
                .iter()
                .map(|p| format!("`{}` (pending restart)", p.address)),
        )
        .collect();
    Error::new(format!(
        "apply did not converge: {} item(s) remain: {}",
        addresses.len(),
        addresses.join(", ")
    ))
    .hint("something else changed these objects during the apply, or the server ignored a change; run `dbops plan` to see them")
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
