//! `dbops plan`: observe over a read-only session, print the changes, optionally
//! save them (`--out`). Never writes to a server.

use std::path::Path;

use super::ExitStatus;
use crate::cli::Settings;
use crate::engine::scope::Scope;
use crate::engine::Session;
use crate::error::Errors;
use crate::events::{EventLog, EventSink};
use crate::pg::connect::Access;
use crate::planfile::PlanFile;
use crate::printer::Printer;
use crate::render::{render, Kind, Report};

/// What plan's exit code says beyond success.
pub(crate) struct Exit {
    /// `--detailed-exitcode`: 2 when there are changes.
    pub(crate) detailed: bool,
    /// `--fail-on-pending`: 2 when declared settings wait for a restart.
    pub(crate) pending: bool,
}

pub(crate) async fn run(
    settings: &Settings,
    printer: &Printer,
    exit: Exit,
    out: Option<&Path>,
    scope: Scope,
) -> Result<ExitStatus, Errors> {
    let resolved = super::resolve(settings, settings.environment.as_deref())?;
    let mut session =
        Session::connect(resolved, Access::ReadOnly, settings.connect_timeout, scope).await?;
    printer.warnings(&session.warnings);
    let (live, plan) = session.observe_and_plan().await?;
    EventLog::new(settings.log_format).emit(session.timings.event(live.statements()));
    printer.out(&render(
        settings.format,
        &Report::new(Kind::Plan, &plan, settings.color).warnings(&session.warnings),
    ));
    if let Some(out) = out {
        let file = PlanFile::new(
            &session.loaded.source.name,
            session.loaded.digest(),
            live.fingerprint(),
            &plan,
        )
        .with_targets(session.scope.targets())
        .with_environment(session.loaded.source.environment.clone());
        file.save(out)?;
        printer.note(&format!(
            "Saved the plan to `{}`; apply it with `dbops apply {}`",
            out.display(),
            out.display()
        ));
    }
    let changes = exit.detailed && !plan.is_empty();
    let pending = exit.pending && plan.pending.iter().any(|p| p.declared);
    Ok(if changes || pending {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}
