//! One module per subcommand. Each takes the checked [`Settings`], runs the
//! shared pipeline and returns an [`ExitStatus`]; stdout gets the report, stderr
//! gets warnings, events and errors (through the [`Printer`]).

mod apply;
mod drift;
mod dump;
mod environments;
mod import;
mod plan;
mod record;
mod restore_test;
mod rollout;
mod schedule;
mod schema;
mod shell;
mod validate;

use crate::cli::{Command, Settings};
use crate::engine::scope::Scope;
use crate::error::Errors;
use crate::printer::Printer;
use record::Record;

/// Process exit codes, Terraform's conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Success; no changes or no drift.
    Success = 0,
    /// Something went wrong.
    Error = 1,
    /// Changes present (`plan --detailed-exitcode`) or drift (`drift`).
    Changes = 2,
    /// The command line itself was wrong.
    Usage = 64,
    /// Stopped by SIGINT (128 + 2).
    Interrupted = 130,
    /// Stopped by SIGTERM (128 + 15).
    Terminated = 143,
}

pub(crate) async fn run(settings: &Settings, command: Command) -> Result<ExitStatus, Errors> {
    let printer = Printer::new(settings.color, settings.log_format);
    if settings.all_environments {
        return every_environment(settings, &printer, command).await;
    }
    match settings.environment.clone() {
        // Events and records name the environment.
        Some(environment) => {
            crate::section::scoped(&environment, false, one(settings, &printer, command))
                .await
                .0
        }
        None => one(settings, &printer, command).await,
    }
}

/// Resolves the file of `settings` as `environment`: from the run's
/// snapshot when a run over every environment read it already, otherwise
/// from the file on disk.
pub(crate) fn resolve(
    settings: &Settings,
    environment: Option<&str>,
) -> Result<crate::engine::session::Resolved, Errors> {
    match &settings.snapshot {
        Some(snapshot) => crate::engine::session::resolve_loaded(
            snapshot.0.select(environment)?,
            std::time::Instant::now(),
        ),
        None => crate::engine::session::resolve(&settings.file, environment),
    }
}

/// The series each environment's run concluded with, for one metrics file.
type Collected = std::cell::RefCell<Vec<(String, Vec<crate::metrics::Sample>)>>;

/// `--all-environments`: the command once per environment.
async fn every_environment(
    settings: &Settings,
    printer: &Printer,
    command: Command,
) -> Result<ExitStatus, Errors> {
    use crate::error::Error;
    let name = command.name();
    match &command {
        Command::Validate { list_secrets: true } => {
            return Err(Error::config("`validate --list-secrets` lists every environment's secrets already; `--all-environments` adds nothing")
                .hint("drop `--all-environments`; add `--environment NAME` to list one environment's")
                .into())
        }
        Command::Validate { .. } => return validate::run_all(settings, printer),
        // Every environment's jobs unless `--environment` names one.
        Command::Schedule(_) => {
            let mut one_settings = settings.clone();
            one_settings.all_environments = false;
            return one(&one_settings, printer, command).await;
        }
        Command::Plan { out: Some(_), .. } => {
            return Err(Error::config("`plan --out` saves one environment's plan: it cannot be given with `--all-environments`")
                .hint("save each environment's plan with `dbops plan --environment NAME --out FILE`")
                .into())
        }
        Command::Apply { .. } => return rollout::stages(settings, printer, command).await,
        Command::Plan { .. }
        | Command::Drift { .. }
        | Command::Dump { .. }
        | Command::RestoreTest { .. } => {}
        _ => {
            return Err(Error::config(format!(
                "`{name}` does not take `--all-environments`"
            ))
            .hint("`--all-environments` runs `validate`, `plan`, `apply`, `drift`, `dump` and `restore-test`")
            .into())
        }
    }
    let metrics_file = command.metrics_file().cloned();
    if let Some(path) = &metrics_file {
        crate::metrics::check_writable(path)?;
    }
    let collected = Collected::default();
    let result = environments::run_all(settings, printer, name, |one_settings| {
        let command = command.clone();
        let collected = &collected;
        async move {
            match command {
                Command::Plan { .. } => one(&one_settings, printer, command).await,
                _ => recorded(&one_settings, printer, command, Some(collected)).await,
            }
        }
    })
    .await;
    write_collected(settings, printer, &command, collected, result)
}

/// Writes the series every environment concluded with, in one metrics file
/// (each series labelled with its environment), when `--metrics-file` is given.
fn write_collected(
    settings: &Settings,
    printer: &Printer,
    command: &Command,
    collected: Collected,
    result: Result<ExitStatus, Errors>,
) -> Result<ExitStatus, Errors> {
    let Some(path) = command.metrics_file() else {
        return result;
    };
    let collected = collected.into_inner();
    let groups: Vec<(Option<&str>, &[crate::metrics::Sample])> = collected
        .iter()
        .map(|(environment, samples)| (Some(environment.as_str()), samples.as_slice()))
        .collect();
    let series = groups.iter().map(|(_, s)| s.len()).sum();
    let text = crate::metrics::render_environments(command.name(), &groups);
    let log = crate::events::EventLog::new(settings.log_format);
    record::write_metrics(path, &text, series, result, printer, &log)
}

/// One run of `command` (one environment, or a file without any).
async fn one(
    settings: &Settings,
    printer: &Printer,
    command: Command,
) -> Result<ExitStatus, Errors> {
    let printer = *printer;
    match command {
        Command::Validate { list_secrets } => {
            if list_secrets {
                validate::list_secrets(settings, &printer)
            } else {
                validate::run(settings, &printer)
            }
        }
        Command::Plan {
            detailed_exitcode,
            fail_on_pending,
            out,
            target,
        } => {
            plan::run(
                settings,
                &printer,
                plan::Exit {
                    detailed: detailed_exitcode,
                    pending: fail_on_pending,
                },
                out.as_deref(),
                Scope::new(&target),
            )
            .await
        }
        command @ (Command::Apply { .. }
        | Command::Drift { .. }
        | Command::RestoreTest { .. }
        | Command::Dump { .. }) => recorded(settings, &printer, command, None).await,
        Command::Import {
            out,
            force,
            roles,
            databases,
            settings: with_settings,
        } => {
            let options = import::Options {
                out,
                force,
                roles,
                databases,
                settings: with_settings,
            };
            import::run(settings, &printer, &options).await
        }
        Command::Schedule(options) => schedule::run(settings, &printer, &options),
        Command::Schema => schema::run(&printer),
        Command::Completions { shell } => shell::completions(shell),
        Command::Man => shell::man(),
    }
}

/// Runs `work` until it ends or SIGINT/SIGTERM arrives; on a signal the
/// future is dropped (its `Drop`s stop what it started) and the error says
/// `interrupted by SIGNAL: {then}`, exiting 128 + the signal's number.
async fn until_signalled<T>(
    work: impl std::future::Future<Output = crate::error::Result<T>>,
    then: &str,
) -> crate::error::Result<T> {
    use crate::error::Error;
    use tokio::signal::unix::{signal, SignalKind};
    let listen = |kind: SignalKind| {
        signal(kind).map_err(|e| Error::new(format!("cannot listen for signals: {e}")))
    };
    let mut interrupt = listen(SignalKind::interrupt())?;
    let mut terminate = listen(SignalKind::terminate())?;
    let (number, name) = tokio::select! {
        result = work => return result,
        _ = interrupt.recv() => (libc::SIGINT, "SIGINT"),
        _ = terminate.recv() => (libc::SIGTERM, "SIGTERM"),
    };
    Err(Error::interrupted(
        number,
        format!("interrupted by {name}: {then}"),
    ))
}

/// The commands whose outcome is recorded: `--metrics-file` and `[notify]`.
/// With `collected` (a run over several environments), the series are
/// handed back for one file instead of written.
async fn recorded(
    settings: &Settings,
    printer: &Printer,
    command: Command,
    collected: Option<&Collected>,
) -> Result<ExitStatus, Errors> {
    let log = crate::events::EventLog::new(settings.log_format);
    let name = command.name();
    let result = match command {
        Command::Apply {
            auto_approve,
            lock_timeout,
            allow_restart,
            restart_timeout,
            accept_pending_restart,
            target,
            metrics_file,
            planfile,
            from_stage: _,
        } => {
            let options = apply::Options {
                auto_approve,
                lock_timeout,
                allow_restart,
                restart_timeout,
                accept_pending_restart,
                target,
            };
            let mut record = Record::new(name, settings.environment.clone(), metrics_file);
            record.check()?;
            let result = apply::run(
                settings,
                printer,
                &options,
                planfile.as_deref(),
                &mut record,
            )
            .await;
            (record, result)
        }
        Command::Drift {
            fail_on,
            target,
            deep,
            metrics_file,
        } => {
            let mut record = Record::new(name, settings.environment.clone(), metrics_file);
            record.check()?;
            let scope = Scope::new(&target);
            let options = drift::Options {
                fail_on: &fail_on,
                scope,
                deep,
            };
            let result = drift::run(settings, printer, options, &mut record).await;
            (record, result)
        }
        Command::Dump {
            databases,
            metrics_file,
        } => {
            let mut record = Record::new(name, settings.environment.clone(), metrics_file);
            record.check()?;
            let result = dump::run_command(settings, printer, &databases, &mut record).await;
            (record, result)
        }
        Command::RestoreTest {
            target_time,
            target,
            backup,
            pick,
            seed,
            repository,
            keep,
            source,
            metrics_file,
        } => {
            let options = restore_test::Options {
                target_time,
                target,
                backup,
                pick,
                seed,
                repository,
                keep,
                source,
            };
            let mut record = Record::new(name, settings.environment.clone(), metrics_file);
            record.check()?;
            let result = restore_test::run_command(settings, printer, &options, &mut record).await;
            (record, result)
        }
        _ => return Err(crate::error::Error::internal("not a recorded command").into()),
    };
    let (record, result) = result;
    conclude(record, result, printer, &log, collected).await
}

/// Notifies and writes the metrics file (or hands the series back, with
/// `collected`).
async fn conclude(
    record: Record,
    result: Result<ExitStatus, Errors>,
    printer: &Printer,
    log: &crate::events::EventLog,
    collected: Option<&Collected>,
) -> Result<ExitStatus, Errors> {
    match collected {
        Some(collected) => {
            if let Some(samples) = record.conclude(&result, log).await {
                let environment = record.environment.clone().unwrap_or_default();
                collected.borrow_mut().push((environment, samples));
            }
            result
        }
        None => record.finish(result, printer, log).await,
    }
}
