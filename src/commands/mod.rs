//! One module per subcommand. Each takes the checked [`Settings`], runs the
//! shared pipeline and returns an [`ExitStatus`]; stdout gets the report, stderr
//! gets warnings, events and errors (through the [`Printer`]).

mod apply;
mod drift;
mod dump;
mod import;
mod plan;
mod record;
mod restore_test;
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
        | Command::Dump { .. }) => recorded(settings, &printer, command).await,
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
async fn recorded(
    settings: &Settings,
    printer: &Printer,
    command: Command,
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
        } => {
            let options = apply::Options {
                auto_approve,
                lock_timeout,
                allow_restart,
                restart_timeout,
                accept_pending_restart,
                target,
            };
            let mut record = Record::new(name, metrics_file);
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
            let mut record = Record::new(name, metrics_file);
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
            let mut record = Record::new(name, metrics_file);
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
            let mut record = Record::new(name, metrics_file);
            record.check()?;
            let result = restore_test::run_command(settings, printer, &options, &mut record).await;
            (record, result)
        }
        _ => return Err(crate::error::Error::internal("not a recorded command").into()),
    };
    let (record, result) = result;
    record.finish(result, printer, &log).await
}
