//! `dbops plan`: observe over a read-only session, print the changes, optionally
//! save them (`--out`). Never writes to a server.

use std::path::Path;

use super::{print, warn, ExitStatus};
use crate::cli::Settings;
use crate::engine::Session;
use crate::error::Result;
use crate::events::{Event, EventLog};
use crate::planfile::PlanFile;
use crate::postgres::connect::Access;
use crate::render::{render, Kind, Report};

pub async fn run(
    settings: &Settings,
    detailed_exitcode: bool,
    out: Option<&Path>,
) -> Result<ExitStatus> {
    let mut session =
        Session::open(&settings.file, Access::ReadOnly, settings.connect_timeout).await?;
    warn(settings, &session.loaded.warnings);
    let (live, plan) = session.observe_and_plan().await?;
    EventLog::new(settings.log_format).emit(&Event::timings(&session.timings, live.statements()));
    print(&render(
        settings.format,
        &Report {
            kind: Kind::Plan,
            plan: &plan,
            applied: false,
            color: settings.color,
        },
    ));
    if let Some(out) = out {
        let file = PlanFile::new(
            &session.loaded.source.name,
            session.loaded.digest(),
            live.fingerprint(),
            &plan,
        );
        file.save(out)?;
        eprintln!(
            "Saved the plan to `{}`; apply it with `dbops apply {}`",
            out.display(),
            out.display()
        );
    }
    Ok(if detailed_exitcode && !plan.is_empty() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}
