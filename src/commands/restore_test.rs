//! `dbops restore-test`: restores the newest backup (or `--backup`) to the
//! target into a throwaway server, runs `[[restore_test.checks]]`, and
//! records evidence in the bucket. Never connects to the production server.
//! Exit 0 when restored within the RTO with every check passing, 1 otherwise
//! (the evidence of a failed test is still recorded).

use std::time::SystemTime;

use super::record::Record;
use super::ExitStatus;
use crate::cli::Settings;
use crate::domains::backup::restore::catalog::Pick;
use crate::domains::backup::restore::run::{run, Request};
use crate::domains::backup::restore::target::Target;
use crate::domains::dumps::drill::{self, Request as DumpDrill};
use crate::drill::cluster::inside_data_directory;
use crate::drill::evidence::Evidence;
use crate::drill::settings::Source;
use crate::error::{Error, Errors, Result};
use crate::events::EventLog;
use crate::metrics::{catalogue, Sample};
use crate::printer::Printer;
use crate::render::Format;

pub(crate) struct Options {
    pub(crate) target_time: Option<String>,
    pub(crate) target: Option<String>,
    pub(crate) backup: Option<String>,
    pub(crate) pick: Option<String>,
    pub(crate) seed: Option<u64>,
    pub(crate) repository: Option<u32>,
    pub(crate) keep: bool,
    pub(crate) source: Option<Source>,
}

pub(crate) async fn run_command(
    settings: &Settings,
    printer: &Printer,
    options: &Options,
    record: &mut Record,
) -> Result<ExitStatus, Errors> {
    let resolved = super::resolve(settings, settings.environment.as_deref())?;
    record.notify = resolved.notify.clone();
    printer.warnings(&resolved.warnings);
    let (target, random_time) = parse_target(options)?;
    let desired = &resolved.desired;
    let written = desired
        .backup
        .as_ref()
        .and_then(|b| b.restore_test.source)
        .or_else(|| desired.dumps.as_ref().and_then(|d| d.restore_test.source));
    let source = options.source.or(written).unwrap_or(
        if desired.backup.is_none() && desired.dumps.is_some() {
            Source::Dumps
        } else {
            Source::Physical
        },
    );
    if source == Source::Dumps {
        return from_dumps(settings, printer, options, record, &resolved).await;
    }
    let backup = desired.backup.as_ref().ok_or_else(|| {
        Error::new(
            "`dbops restore-test` restores the backups `[backup]` declares, and there is none",
        )
        .hint("declare `[backup]` with its tool and bucket")
    })?;
    let bucket = backup.bucket.as_ref().ok_or_else(|| {
        Error::new("`dbops restore-test` needs `backup.bucket`: the evidence goes there")
            .hint("name the `[bucket.NAME]` the backups go to")
    })?;
    // Bad input, refused before anything runs or is written.
    let parent = backup
        .restore_test
        .work_dir
        .clone()
        .unwrap_or_else(std::env::temp_dir);
    refuse_data_directory(&parent)?;
    let mut pick = options.pick.as_deref().map(Pick::parse).transpose()?;
    if random_time && pick.is_none() {
        // Every retained backup and every point after it can come up.
        pick = Some(Pick::Random);
    }
    let repository = match options.repository {
        None | Some(1) => None,
        Some(n) => Some(
            backup
                .repositories
                .iter()
                .find(|r| r.number == n)
                .ok_or_else(|| unknown_repository(n, backup))?,
        ),
    };
    let request = Request {
        backup,
        bucket,
        user: &resolved.admin()?.dsn.user,
        target,
        named: options.backup.as_deref(),
        pick: pick.map(|pick| (pick, options.seed.unwrap_or_else(rand::random))),
        random_time,
        repository,
        keep: options.keep,
        s3_timeout: settings.connect_timeout,
    };
    let log = EventLog::new(settings.log_format);
    // Dropping the test stops and deletes the throwaway server (its `Drop`).
    let outcome = super::until_signalled(
        run(&request, &log),
        "the throwaway server was stopped and deleted; no evidence was recorded",
    )
    .await?;
    let uri = format!("s3://{}/{}evidence.json", bucket.name, outcome.prefix);
    let folder = format!("s3://{}/{}", bucket.name, outcome.prefix);
    let status = verdict(
        settings,
        printer,
        record,
        (&uri, &folder),
        &outcome.evidence,
        outcome.kept.as_deref(),
    );
    Ok(status)
}

/// `--target-time` (a time, or `random`) and `--target`; `true` for random.
fn parse_target(options: &Options) -> Result<(Target, bool)> {
    let random_time = options.target_time.as_deref().map(str::trim) == Some("random");
    if !random_time {
        let target = Target::parse(
            options.target_time.as_deref(),
            options.target.as_deref(),
            SystemTime::now(),
        )?;
        return Ok((target, false));
    }
    if options.target.is_some() {
        return Err(
            Error::new("`--target-time` and `--target` cannot be combined")
                .hint("give a point in time, or `--target immediate`"),
        );
    }
    if options.backup.is_some() {
        return Err(Error::new(
            "`--target-time random` picks the backup with the point: it cannot be used with `--backup`",
        )
        .hint("pick how with `--pick oldest|newest|random|age=D`, or give `--target-time` a time"));
    }
    Ok((Target::Latest, true))
}

/// `--repository N` that `[backup]` does not declare.
fn unknown_repository(n: u32, backup: &crate::domains::backup::desired::DesiredBackup) -> Error {
    let known: Vec<String> = std::iter::once("1 (`[backup]`'s bucket)".to_string())
        .chain(
            backup
                .repositories
                .iter()
                .map(|r| format!("{} ({})", r.number, r.describe())),
        )
        .collect();
    Error::new(format!("there is no repository {n}"))
        .hint(format!("the repositories are: {}", known.join(", ")))
}

/// `--source dumps`: the newest set of each database `[dumps]` declares.
async fn from_dumps(
    settings: &Settings,
    printer: &Printer,
    options: &Options,
    record: &mut Record,
    resolved: &crate::engine::session::Resolved,
) -> Result<ExitStatus, Errors> {
    let dumps = resolved.desired.dumps.as_ref().ok_or_else(|| {
        Error::new("`dbops restore-test --source dumps` restores the dumps `[dumps]` declares, and there is none")
            .hint("declare `[dumps]`, or restore the physical backups with `--source physical`")
    })?;
    for (flag, given) in [
        ("--target-time", options.target_time.is_some()),
        ("--target", options.target.is_some()),
        ("--backup", options.backup.is_some()),
        ("--pick", options.pick.is_some()),
        ("--repository", options.repository.is_some()),
    ] {
        if given {
            return Err(Error::new(format!(
                "`{flag}` is for physical backups; a drill from dumps restores the newest complete set of each database"
            ))
            .hint("leave it out, or add `--source physical`")
            .into());
        }
    }
    let parent = dumps
        .restore_test
        .work_dir
        .clone()
        .unwrap_or_else(std::env::temp_dir);
    refuse_data_directory(&parent)?;
    let request = DumpDrill {
        dumps,
        settings: &dumps.restore_test,
        user: &resolved.admin()?.dsn.user,
        keep: options.keep,
        timeout: settings.connect_timeout,
    };
    let log = EventLog::new(settings.log_format);
    let outcome = super::until_signalled(
        drill::run(&request, &log),
        "the throwaway server was stopped and deleted; no evidence was recorded",
    )
    .await?;
    let folder = outcome
        .uri
        .strip_suffix("evidence.json")
        .unwrap_or(&outcome.uri)
        .to_string();
    let status = verdict(
        settings,
        printer,
        record,
        (&outcome.uri, &folder),
        &outcome.evidence,
        outcome.kept.as_deref(),
    );
    Ok(status)
}

/// The report, the metrics, a kept server's note, and the exit status:
/// 1 for a failed drill (its evidence recorded at `uri`, in `folder`).
fn verdict(
    settings: &Settings,
    printer: &Printer,
    record: &mut Record,
    (uri, folder): (&str, &str),
    evidence: &Evidence,
    kept: Option<&str>,
) -> ExitStatus {
    printer.out(&report(settings.format, uri, evidence));
    measured(record, evidence);
    if let Some(note) = kept {
        printer.warnings(&[crate::diagnostics::Warning {
            key: None,
            location: None,
            message: note.to_string(),
        }]);
    }
    match &evidence.failure {
        None => ExitStatus::Success,
        Some(why) => {
            record.errors.push(format!("restore test failed: {why}"));
            printer.errors(
                &Error::new(format!("restore test failed: {why}"))
                    .hint(format!(
                        "the evidence and the restore log are in `{folder}`"
                    ))
                    .into(),
            );
            ExitStatus::Error
        }
    }
}

/// A work directory inside a data directory is refused before anything runs.
fn refuse_data_directory(parent: &std::path::Path) -> Result<(), Errors> {
    if let Some(data) = inside_data_directory(parent) {
        return Err(Error::config(format!(
            "`restore_test.work_dir` `{}` is inside the PostgreSQL data directory `{}`",
            parent.display(),
            data.display()
        ))
        .hint("choose a directory outside every data directory, e.g. `/var/tmp`: a restore there would write into a live cluster's files")
        .into());
    }
    Ok(())
}

/// The drill's figures, for the metrics file.
fn measured(record: &mut Record, evidence: &Evidence) {
    let mut samples = vec![
        Sample::new(
            &catalogue::RESTORE_TEST_SUCCESS,
            f64::from(u8::from(evidence.passed)),
        ),
        Sample::new(&catalogue::RESTORE_TEST_RTO, evidence.rto_seconds as f64),
        Sample::new(&catalogue::RESTORE_TEST_RPO, evidence.rpo_seconds as f64),
    ];
    if let Some(seconds) = evidence.durations.restore_seconds {
        samples.push(Sample::new(&catalogue::RESTORE_TEST_DURATION, seconds));
    }
    if let Some(seconds) = evidence.data_loss_window_seconds {
        samples.push(Sample::new(&catalogue::RESTORE_TEST_DATA_LOSS, seconds));
    }
    if evidence.passed {
        samples.push(Sample::timestamp(
            &catalogue::RESTORE_TEST_LAST_SUCCESS,
            SystemTime::now(),
        ));
    }
    record.samples.extend(samples);
}

fn report(format: Format, uri: &str, evidence: &Evidence) -> String {
    if format == Format::Json {
        let document = serde_json::json!({
            "format_version": "1.0",
            "evidence_uri": uri,
            "evidence": evidence,
        });
        return format!(
            "{}\n",
            serde_json::to_string_pretty(&document).expect("json")
        );
    }
    let mut out = String::new();
    let verdict = if evidence.passed { "passed" } else { "FAILED" };
    out.push_str(&format!("Restore test {verdict}.\n\n"));
    let backup = match (&evidence.backup, evidence.sets.as_slice()) {
        (Some(b), _) => format!("{} (ended {})", b.name, b.stop_time),
        (None, []) => "none".into(),
        (None, sets) => sets
            .iter()
            .map(|s| format!("{} (dumped {})", s.location, s.started_at))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let secs = |s: Option<f64>| s.map(|s| format!("{s:.1}s")).unwrap_or_else(|| "-".into());
    let yes_no = |b: Option<bool>| match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not measured",
    };
    let rows = [
        ("backup", backup),
        ("target", evidence.target.clone()),
        (
            "recovered to",
            evidence.recovered_to.clone().unwrap_or_else(|| "-".into()),
        ),
        (
            "restore (fetch + replay)",
            format!(
                "{} ({} + {}), RTO {}s met: {}",
                secs(evidence.durations.restore_seconds),
                secs(evidence.durations.fetch_seconds),
                secs(evidence.durations.replay_seconds),
                evidence.rto_seconds,
                yes_no(evidence.rto_met)
            ),
        ),
        (
            "data-loss window",
            format!(
                "{}, RPO {}s met: {}",
                secs(evidence.data_loss_window_seconds),
                evidence.rpo_seconds,
                yes_no(evidence.rpo_met)
            ),
        ),
        ("evidence", uri.to_string()),
    ];
    for (name, value) in rows {
        out.push_str(&format!("  {name:<25} {value}\n"));
    }
    if !evidence.checks.is_empty() {
        out.push_str("\nChecks:\n");
        for check in &evidence.checks {
            let mark = if check.passed { "ok  " } else { "FAIL" };
            let detail = match (&check.error, &check.value, check.rows) {
                (Some(e), _, _) => e.clone(),
                (None, Some(v), _) => format!("value `{v}`, expected {}", check.expect),
                (None, None, Some(n)) => format!("{n} row(s), expected {}", check.expect),
                _ => String::new(),
            };
            out.push_str(&format!(
                "  {mark} {} ({}): {detail}\n",
                check.name, check.database
            ));
        }
    }
    out
}
