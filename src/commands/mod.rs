//! One module per subcommand. Each takes the checked [`Settings`], runs the
//! shared pipeline and returns an [`ExitStatus`]; stdout gets the report, stderr
//! gets warnings, events and errors.

mod apply;
mod drift;
mod plan;
mod schema;
mod validate;

use std::io::Write;

use crate::cli::{Command, Settings};
use crate::error::Result;

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
}

pub async fn run(settings: &Settings, command: Command) -> Result<ExitStatus> {
    match command {
        Command::Validate => validate::run(settings),
        Command::Plan {
            detailed_exitcode,
            out,
        } => plan::run(settings, detailed_exitcode, out.as_deref()).await,
        Command::Apply {
            auto_approve,
            lock_timeout,
            allow_restart,
            restart_timeout,
            planfile,
        } => {
            let options = apply::Options {
                auto_approve,
                lock_timeout,
                allow_restart,
                restart_timeout,
            };
            apply::run(settings, &options, planfile.as_deref()).await
        }
        Command::Drift => drift::run(settings).await,
        Command::Schema => schema::run(),
    }
}

fn print(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

fn warn(settings: &Settings, warnings: &[String]) {
    let style = console::Style::new()
        .yellow()
        .bold()
        .force_styling(settings.color);
    for warning in warnings {
        eprintln!("{} {warning}", style.apply_to("warning:"));
    }
}
