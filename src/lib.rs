//! dbops: converge a self-hosted PostgreSQL deployment on a declared state.
//!
//! Data flows one way: file (`config`) -> desired state (each domain's
//! resolution, driven by the engine's registry) -> observe live state (each
//! domain) -> diff (each domain, pure) -> [`plan::Plan`] -> render (`render`)
//! or apply (`engine::apply`, each domain in plan order). `commands` sequences
//! it per subcommand; `plan` depends on nothing; domains never import `config`.
//! See docs/architecture.md.

pub(crate) mod cli;
pub(crate) mod commands;
pub(crate) mod config;
pub(crate) mod contract;
pub(crate) mod diagnostics;
pub mod domains;
pub mod drill;
pub(crate) mod dsn;
pub mod engine;
pub mod error;
pub mod events;
pub mod managed_files;
pub mod metrics;
pub mod notify;
pub mod pg;
pub(crate) mod plan;
pub(crate) mod planfile;
pub(crate) mod printer;
pub mod render;
pub(crate) mod s3;
pub(crate) mod schedule;
pub(crate) mod secret;
pub(crate) mod section;
pub(crate) mod util;

use clap::Parser;

pub use commands::ExitStatus;

/// Parses the command line, runs the command, prints any error, and returns
/// the exit status. Usage errors exit 64, never 2 (which means "changes").
pub fn main_entry() -> ExitStatus {
    let arguments = match cli::Arguments::try_parse() {
        Ok(arguments) => arguments,
        Err(error) => {
            let _ = error.print();
            return match error.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitStatus::Success
                }
                _ => ExitStatus::Usage,
            };
        }
    };
    let (settings, command) = arguments.into_settings();
    pg::connect::set_statement_lock_timeout(settings.statement_lock_timeout);
    let command_name = command.name();
    let printer = printer::Printer::new(settings.color, settings.log_format);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            printer
                .errors(&error::Error::new(format!("cannot start the async runtime: {e}")).into());
            return ExitStatus::Error;
        }
    };
    match runtime.block_on(commands::run(&settings, command)) {
        Ok(status) => status,
        Err(errors) => {
            printer.errors(&errors);
            // A pipeline parsing stdout gets a document on failure too.
            if settings.format == render::Format::Json {
                printer.out(&render::error_document::render(command_name, &errors));
            }
            match errors.first().exit_code() {
                Some(130) => ExitStatus::Interrupted,
                Some(143) => ExitStatus::Terminated,
                _ => ExitStatus::Error,
            }
        }
    }
}
