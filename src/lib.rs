//! dbops: converge a self-hosted PostgreSQL deployment on a declared state.
//!
//! Data flows one way: file -> desired state (`config`) -> observe live state
//! (each domain) -> diff (each domain, pure) -> [`plan::Plan`] -> render
//! (`render`) or apply (each domain). `commands` sequences it per subcommand.

pub mod backup;
pub mod bucket;
pub mod cli;
pub mod commands;
pub mod config;
pub mod dsn;
pub mod engine;
pub mod error;
pub mod events;
pub mod files;
pub mod grants;
pub mod managed_file;
pub mod plan;
pub mod planfile;
pub mod pooler;
pub mod postgres;
pub mod render;
pub mod restart;
pub mod settings;

use clap::Parser;

use commands::ExitStatus;

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
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitStatus::Error;
        }
    };
    match runtime.block_on(commands::run(&settings, command)) {
        Ok(status) => status,
        Err(error) => {
            let style = console::Style::new()
                .red()
                .bold()
                .force_styling(settings.color);
            eprintln!("{} {error}", style.apply_to("error:"));
            ExitStatus::Error
        }
    }
}
