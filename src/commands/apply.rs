//! `dbops apply [PLANFILE]`: take the apply lock, observe, plan, confirm,
//! converge in plan order with each event logged as it happens, then observe
//! again and fail loudly if anything did not converge. A saved plan is applied
//! only if the file, the live state and the changes are exactly what they were
//! when it was saved. Settings that wait for a restart are reported, per
//! service; with `--allow-restart`, `[server] restart_command` restarts
//! PostgreSQL.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use super::record::Record;
use super::ExitStatus;
use crate::cli::Settings;
use crate::contract::facts::{SentVerifiers, VerifiedPasswords};
use crate::diagnostics::Warning;
use crate::engine::restart::{self, Policy};
use crate::engine::scope::Scope;
use crate::engine::{self, Plan, Session};
use crate::error::{Error, ErrorKind, Errors, Result};
use crate::events::{Event, EventLog, EventName, EventSink, Progress};
use crate::metrics::{catalogue, Sample};
use crate::pg::connect::Access;
use crate::pg::lock;
use crate::pg::scram;
use crate::planfile::{changes_value, PlanFile};
use crate::printer::Printer;
use crate::render::{render, Format, Kind, Report};

/// How long apply waits for a configuration reload to show in `pg_settings`.
const SETTLE: Duration = Duration::from_secs(10);

pub(crate) struct Options {
    pub(crate) auto_approve: bool,
    pub(crate) lock_timeout: Duration,
    pub(crate) allow_restart: bool,
    pub(crate) restart_timeout: Duration,
    /// Settings changed by hand that may ride along with the restart.
    pub(crate) accept_pending_restart: Vec<String>,
    /// `--target`: the domains to apply; none for all.
    pub(crate) target: Vec<String>,
}

pub(crate) async fn run(
    settings: &Settings,
    printer: &Printer,
    options: &Options,
    planfile: Option<&Path>,
    record: &mut Record,
) -> Result<ExitStatus, Errors> {
    let saved = planfile.map(PlanFile::load).transpose()?;
    let interactive = std::io::stdin().is_terminal();
    if saved.is_none() && !options.auto_approve && !interactive {
        return Err(Error::config("refusing to apply without confirmation: stdin is not a terminal")
            .hint("pass `--auto-approve`, or save a plan with `dbops plan --out FILE` and apply it with `dbops apply FILE`").into());
    }
    let log = EventLog::new(settings.log_format);
    let mut session = open(settings, printer, options, saved.as_ref(), planfile, record).await?;
    let words = super::drift::scope_words(&session.scope);
    lock::acquire(&session.client, options.lock_timeout).await?;
    let derived_before = scram::derivations();
    let live = session.observe().await?;
    let plan = session.plan(&live)?;
    let derived_by_plan = scram::derivations() - derived_before;
    let verified: Vec<String> = session
        .facts
        .cloned::<VerifiedPasswords>()
        .0
        .into_keys()
        .collect();
    if let Some(saved) = &saved {
        check_saved(saved, planfile, &live, &plan)?;
    }

    if options.allow_restart {
        restart::check(&session, &plan, &options.accept_pending_restart, true)?;
    }

    if plan.is_empty() {
        log.emit(derivations_event(derived_by_plan, 0, 0));
        printer.out(&render(
            settings.format,
            &Report::new(Kind::Apply, &plan, settings.color).warnings(&session.warnings),
        ));
        let status = finish_restarts(settings, printer, options, &mut session, &plan, &log).await?;
        passwords(record, &words, &plan, verified.len(), 0);
        evidence(settings, &log, &plan, &verified, Vec::new());
        return Ok(status);
    }
    if settings.format == Format::Text {
        printer.out(&render(
            Format::Text,
            &Report::new(Kind::Apply, &plan, settings.color).warnings(&session.warnings),
        ));
    }
    if saved.is_none() && !options.auto_approve && !confirm(printer)? {
        return Err(Error::config("apply cancelled; nothing was changed").into());
    }

    let derived_before = scram::derivations();
    apply_until_signalled(&mut session, &plan, &log).await?;
    let derived_by_apply = scram::derivations() - derived_before;

    let derived_before = scram::derivations();
    let (_, remaining) = session.settle(SETTLE).await?;
    log.emit(derivations_event(
        derived_by_plan,
        derived_by_apply,
        scram::derivations() - derived_before,
    ));
    if !remaining.is_empty() {
        return Err(restart::not_converged(&remaining).into());
    }
    report_applied(settings, printer, &plan, &session.warnings);
    let status =
        finish_restarts(settings, printer, options, &mut session, &remaining, &log).await?;
    let rotated: Vec<String> = session
        .facts
        .cloned::<SentVerifiers>()
        .0
        .into_keys()
        .collect();
    passwords(record, &words, &plan, verified.len(), rotated.len());
    evidence(settings, &log, &plan, &verified, rotated);
    Ok(status)
}

/// What apply did, for the metrics file and notifications.
fn passwords(record: &mut Record, words: &[&str], plan: &Plan, verified: usize, rotated: usize) {
    record.changes(
        &catalogue::APPLIED_CHANGES,
        words,
        plan.changes().map(|c| &c.address),
    );
    record
        .samples
        .push(Sample::new(&catalogue::PASSWORDS_VERIFIED, verified as f64));
    record
        .samples
        .push(Sample::new(&catalogue::PASSWORDS_ROTATED, rotated as f64));
}

/// The session, on the saved plan's targets when there is one, and refused
/// when the file changed since the plan was saved.
async fn open(
    settings: &Settings,
    printer: &Printer,
    options: &Options,
    saved: Option<&PlanFile>,
    planfile: Option<&Path>,
    record: &mut Record,
) -> Result<Session, Errors> {
    let targets = match saved {
        Some(_) if !options.target.is_empty() => {
            return Err(Error::config("`--target` cannot be given with a saved plan: the plan carries the targets it was made with")
                .hint("drop `--target`, or plan again with the targets you want")
                .into())
        }
        Some(saved) => saved.targets.clone(),
        None => options.target.clone(),
    };
    // A saved plan names its environment: applied there when none is chosen.
    let environment = match (saved, planfile) {
        (Some(saved), Some(path)) => {
            let chosen = settings
                .environment
                .as_deref()
                .or(saved.environment.as_deref());
            saved.check_environment(path, chosen)?;
            chosen
        }
        _ => settings.environment.as_deref(),
    };
    let resolved = super::resolve(settings, environment)?;
    record.notify = resolved.notify.clone();
    let session = Session::connect(
        resolved,
        Access::ReadWrite,
        settings.connect_timeout,
        Scope::new(&targets),
    )
    .await?;
    printer.warnings(&session.warnings);
    if saved.is_some_and(|saved| saved.config_digest != session.loaded.digest()) {
        return Err(stale(
            planfile,
            "the desired-state file changed since the plan was saved",
        )
        .into());
    }
    Ok(session)
}

/// A saved plan is applied only if the live state and the changes are what
/// they were when it was saved.
fn check_saved(
    saved: &PlanFile,
    planfile: Option<&Path>,
    live: &engine::LiveState,
    plan: &Plan,
) -> Result<()> {
    if saved.live_digest != live.fingerprint() {
        return Err(stale(
            planfile,
            "the live state changed since the plan was saved",
        ));
    }
    if saved.changes != changes_value(plan) {
        return Err(stale(
            planfile,
            "the changes differ from the saved ones (a secret the file references changed, or something changed the live state in a way the digest does not cover)",
        ));
    }
    Ok(())
}

/// What was applied, and what waits for a pgBouncer restart.
fn report_applied(settings: &Settings, printer: &Printer, plan: &Plan, warnings: &[Warning]) {
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
            printer.out(&format!("\n{}\n", style.apply_to(line)));
        }
        Format::Json | Format::Markdown => printer.out(&render(
            settings.format,
            &Report::new(Kind::Apply, plan, settings.color)
                .warnings(warnings)
                .applied(true),
        )),
    }
    let restart_changes: Vec<String> = plan
        .changes()
        .filter(|c| c.restart.is_some_and(|s| !s.restartable_by_dbops))
        .map(|c| format!("`{}`", c.address))
        .collect();
    if !restart_changes.is_empty() {
        printer.note(&format!(
            "Restart required: the changes to {} take effect when pgBouncer restarts (RELOAD ignores them); dbops does not restart pgBouncer.",
            restart_changes.join(", ")
        ));
    }
}

/// The deploy's evidence, on every successful apply including a no-op: which
/// managed passwords were verified unchanged against their stored verifiers
/// and which were rotated (names only), then `apply.complete` with the counts,
/// last. In text logs the summary on stdout already says "Apply complete".
fn evidence(
    settings: &Settings,
    log: &EventLog,
    plan: &Plan,
    verified: &[String],
    rotated: Vec<String>,
) {
    log.emit(
        Event::message(
            EventName::PostgresPasswordsVerified,
            format!(
                "passwords: {} verified unchanged, {} rotated",
                verified.len(),
                rotated.len()
            ),
        )
        .details(serde_json::json!({
            "verified_unchanged": verified,
            "rotated": rotated,
        })),
    );
    if settings.log_format == crate::events::LogFormat::Json {
        let summary = plan.summary();
        log.emit(
            Event::message(
                EventName::ApplyComplete,
                "live state matches the desired-state file",
            )
            .details(serde_json::json!({
                "added": summary.create,
                "changed": summary.update,
                "destroyed": summary.delete,
            })),
        );
    }
}

/// Settings waiting for a restart: say which service each waits for, and
/// restart PostgreSQL when allowed.
async fn finish_restarts(
    settings: &Settings,
    printer: &Printer,
    options: &Options,
    session: &mut Session,
    plan: &Plan,
    log: &EventLog,
) -> Result<ExitStatus, Errors> {
    let policy = Policy {
        allow: options.allow_restart,
        accepted: &options.accept_pending_restart,
        lock_timeout: options.lock_timeout,
        timeout: options.restart_timeout,
        connect_timeout: settings.connect_timeout,
    };
    let advice = restart::advise(session, plan, &policy)?;
    for note in &advice.notes {
        printer.note(note);
    }
    if let Some(command) = advice.restart {
        restart::restart_and_settle(session, &command, &policy, log).await?;
        if settings.format == Format::Text {
            printer.out("PostgreSQL restarted; every setting is in force.\n");
        }
    }
    Ok(ExitStatus::Success)
}

/// Applies, unless SIGINT or SIGTERM comes first: then stops at once (an open
/// role transaction is rolled back when the session closes) and says what
/// the interruption means for what was applied.
async fn apply_until_signalled(session: &mut Session, plan: &Plan, log: &EventLog) -> Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let listen = |kind: SignalKind| {
        signal(kind).map_err(|e| Error::new(format!("cannot listen for signals: {e}")))
    };
    let mut interrupt = listen(SignalKind::interrupt())?;
    let mut terminate = listen(SignalKind::terminate())?;
    let (number, name) = tokio::select! {
        result = engine::apply::apply(session, plan, log) => return result,
        _ = interrupt.recv() => (libc::SIGINT, "SIGINT"),
        _ = terminate.recv() => (libc::SIGTERM, "SIGTERM"),
    };
    let what = match log.last_progress() {
        Progress::RoleTransaction => {
            "the role transaction was rolled back; run `dbops apply` again".to_string()
        }
        Progress::Committing => {
            "it came while committing the role transaction, so its outcome is unknown; the next `dbops plan` tells".to_string()
        }
        Progress::BetweenSteps => {
            "what was applied before it is in the log above; run `dbops apply` again".to_string()
        }
    };
    Err(Error::interrupted(
        number,
        format!("interrupted by {name}: {what}"),
    ))
}

/// How many PBKDF2 derivations each phase ran: verifying the plan's
/// passwords, making new verifiers, checking convergence (always none: what
/// apply sent is compared byte for byte). A `debug` event, JSON log only.
fn derivations_event(plan: u64, apply: u64, convergence: u64) -> Event {
    Event::message(
        EventName::PasswordsDerivations,
        "SCRAM derivations by phase",
    )
    .level(crate::events::Level::Debug)
    .details(serde_json::json!({
        "verify_plan": plan,
        "new_verifiers": apply,
        "verify_convergence": convergence,
    }))
}

fn stale(planfile: Option<&Path>, why: &str) -> Error {
    let name = planfile
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    Error::new(format!(
        "refusing to apply the saved plan `{name}`: {why}; nothing was changed"
    ))
    .kind(ErrorKind::Conflict)
    .hint("run `dbops plan --out FILE` again and review the new plan")
}

fn confirm(printer: &Printer) -> Result<bool> {
    printer.out(
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
