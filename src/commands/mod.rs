//! One module per subcommand. Each takes the checked [`Settings`], runs the
//! shared pipeline and returns an [`ExitStatus`]; stdout gets the report, stderr
//! gets warnings, events and errors (through the [`Printer`]).

mod apply;
mod drift;
mod import;
mod plan;
mod restore_test;
mod schema;
mod shell;
mod validate;

use crate::cli::{Command, Settings};
use crate::engine::scope::Scope;
use crate::error::Errors;
use crate::printer::Printer;

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
        Command::Apply {
            auto_approve,
            lock_timeout,
            allow_restart,
            restart_timeout,
            accept_pending_restart,
            target,
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
            apply::run(settings, &printer, &options, planfile.as_deref()).await
        }
        Command::Drift { fail_on, target } => {
            drift::run(settings, &printer, &fail_on, Scope::new(&target)).await
        }
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
        Command::RestoreTest {
            target_time,
            target,
            backup,
            keep,
        } => {
            let options = restore_test::Options {
                target_time,
                target,
                backup,
                keep,
            };
            restore_test::run_command(settings, &printer, &options).await
        }
        Command::Schema => schema::run(&printer),
        Command::Completions { shell } => shell::completions(shell),
        Command::Man => shell::man(),
    }
}
