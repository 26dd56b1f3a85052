//! `dbops drift`: the nightly read-only check. Exit 0 in sync, 2 drifted.

use super::{print, warn, ExitStatus};
use crate::cli::Settings;
use crate::engine::Session;
use crate::error::Result;
use crate::events::{Event, EventLog};
use crate::postgres::connect::Access;
use crate::render::{render, Kind, Report};

pub async fn run(settings: &Settings) -> Result<ExitStatus> {
    let mut session =
        Session::open(&settings.file, Access::ReadOnly, settings.connect_timeout).await?;
    warn(settings, &session.loaded.warnings);
    let (live, mut plan) = session.observe_and_plan().await?;
    plan.health = session.health().await?;
    EventLog::new(settings.log_format).emit(&Event::timings(&session.timings, live.statements()));
    print(&render(
        settings.format,
        &Report {
            kind: Kind::Drift,
            plan: &plan,
            applied: false,
            color: settings.color,
        },
    ));
    Ok(if plan.in_sync() {
        ExitStatus::Success
    } else {
        ExitStatus::Changes
    })
}
