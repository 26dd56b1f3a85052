//! `dbops drift`: the nightly read-only check. Exit 0 in sync, 2 drifted;
//! `--fail-on` chooses whether configuration drift, findings or both count.

use super::ExitStatus;
use crate::cli::{FailOn, Settings};
use crate::engine::Session;
use crate::error::Errors;
use crate::events::{EventLog, EventSink};
use crate::pg::connect::Access;
use crate::printer::Printer;
use crate::render::{render, Kind, Report};

pub async fn run(
    settings: &Settings,
    printer: &Printer,
    fail_on: FailOn,
) -> Result<ExitStatus, Errors> {
    let mut session =
        Session::open(&settings.file, Access::ReadOnly, settings.connect_timeout).await?;
    printer.warnings(&session.warnings);
    let (live, mut plan) = session.observe_and_plan().await?;
    plan.findings.extend(session.health().await?);
    EventLog::new(settings.log_format).emit(session.timings.event(live.statements()));
    printer.out(&render(
        settings.format,
        &Report::new(Kind::Drift, &plan, settings.color),
    ));
    let configuration = !plan.is_empty() || !plan.pending.is_empty();
    let findings = !plan.findings.is_empty();
    let fails = match fail_on {
        FailOn::Drift => configuration,
        FailOn::Health => findings,
        FailOn::All => configuration || findings,
    };
    Ok(if fails {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}
