//! `dbops dump`: one dump set per database `[dumps]` declares, now (for
//! cron, a sidecar or CI). Exit 0 when every set is complete, 1 when any
//! failed (each failure says what it left), 130/143 when interrupted.

use super::record::Record;
use super::ExitStatus;
use crate::cli::Settings;
use crate::domains::dumps::run::{run, Outcome, Request};
use crate::error::{Error, Errors, Result};
use crate::events::EventLog;
use crate::metrics::{catalogue, Sample};
use crate::printer::Printer;
use crate::render::Format;

pub(crate) async fn run_command(
    settings: &Settings,
    printer: &Printer,
    databases: &[String],
    record: &mut Record,
) -> Result<ExitStatus, Errors> {
    let resolved = super::resolve(settings, settings.environment.as_deref())?;
    record.notify = resolved.notify.clone();
    printer.warnings(&resolved.warnings);
    let desired = resolved.desired.dumps.as_ref().ok_or_else(|| {
        Error::config("`dbops dump` takes the dumps `[dumps]` declares, and there is none").hint(
            "declare `[dumps]` with the databases, a `directory` or `bucket`, and the `interval`",
        )
    })?;
    let request = Request {
        desired,
        admin: &resolved.admin()?.dsn,
        timeout: settings.connect_timeout,
        only: databases,
    };
    let log = EventLog::new(settings.log_format);
    // Dropping the dump kills pg_dump and removes the partial file (or
    // aborts the upload).
    let outcome = super::until_signalled(
        run(&request, &log),
        "pg_dump was stopped and its partial file removed; the set being written has no manifest and never counts",
    )
    .await?;
    for done in &outcome.done {
        record.samples.extend([
            Sample::new(&catalogue::DUMP_SUCCESS, 1.0).label(done.database.clone()),
            Sample::new(&catalogue::DUMP_BYTES, done.bytes as f64).label(done.database.clone()),
            Sample::new(&catalogue::DUMP_DURATION, done.seconds).label(done.database.clone()),
        ]);
    }
    for failed in &outcome.failed {
        record
            .samples
            .push(Sample::new(&catalogue::DUMP_SUCCESS, 0.0).label(failed.database.clone()));
    }
    printer.out(&report(settings.format, &outcome));
    if outcome.failed.is_empty() {
        return Ok(ExitStatus::Success);
    }
    let mut error = Error::new(format!(
        "{} of {} dump(s) failed: {}",
        outcome.failed.len(),
        outcome.failed.len() + outcome.done.len(),
        outcome
            .failed
            .iter()
            .map(|f| format!("`{}`: {}", f.database, f.error))
            .collect::<Vec<_>>()
            .join("; ")
    ));
    for failed in &outcome.failed {
        error = error.hint(format!("`{}` left {}", failed.database, failed.left));
    }
    // The report is on stdout already: the failure goes to stderr (and to
    // the notification), so a JSON stdout stays one document.
    record.errors.push(error.headline());
    printer.errors(&error.into());
    Ok(ExitStatus::Error)
}

fn report(format: Format, outcome: &Outcome) -> String {
    if format == Format::Json {
        let document = serde_json::json!({
            "format_version": "1.0",
            "destination": outcome.destination,
            "dumps": outcome.done,
            "failed": outcome.failed,
            "pruned": outcome.pruned,
        });
        return format!(
            "{}\n",
            serde_json::to_string_pretty(&document).expect("json")
        );
    }
    let mut out = String::new();
    for done in &outcome.done {
        out.push_str(&format!(
            "{}: {} in {:.1}s, sha256 {}\n  {}\n",
            done.database,
            crate::util::sizes::human(done.bytes),
            done.seconds,
            done.sha256,
            done.location
        ));
    }
    for failed in &outcome.failed {
        out.push_str(&format!("{}: FAILED: {}\n", failed.database, failed.error));
    }
    if !outcome.pruned.is_empty() {
        out.push_str(&format!(
            "Pruned {} set(s) outside the retention windows.\n",
            outcome.pruned.len()
        ));
    }
    out
}
