//! `dbops drift`: the nightly read-only check. Exit 0 in sync, 2 drifted;
//! `--fail-on` chooses whether configuration drift, findings or both count.

use super::ExitStatus;
use crate::cli::{FailOn, Settings};
use crate::engine::scope::Scope;
use crate::engine::Session;
use crate::error::Errors;
use crate::events::{Event, EventLog, EventSink, Level};
use crate::pg::connect::Access;
use crate::printer::Printer;
use crate::render::{render, Kind, Report};

pub async fn run(
    settings: &Settings,
    printer: &Printer,
    fail_on: FailOn,
    scope: Scope,
) -> Result<ExitStatus, Errors> {
    let mut session = Session::open(
        &settings.file,
        Access::ReadOnly,
        settings.connect_timeout,
        scope,
    )
    .await?;
    printer.warnings(&session.warnings);
    let (live, mut plan) = session.observe_and_plan().await?;
    let health = session.health().await?;
    plan.findings.extend(health.findings);
    let log = EventLog::new(settings.log_format);
    log.emit(session.timings.event(live.statements()));
    log.emit(
        Event::message("backup.health.read", "backup health read")
            .level(Level::Debug)
            .details(serde_json::json!({
                "s3_requests": health.requests,
                "wal_check_s3_requests": health.wal_requests,
            })),
    );
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
