//! `dbops completions SHELL` and `dbops man`: shell integration generated from
//! the same clap definition the binary parses, so they never fall behind it.
//! Both write to stdout and touch nothing else.

use std::io::Write;

use clap::CommandFactory;

use super::ExitStatus;
use crate::cli::Arguments;
use crate::error::{Error, Errors};

fn write_out(bytes: &[u8]) -> Result<ExitStatus, Errors> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::new(format!("cannot write to standard output: {e}")))?;
    Ok(ExitStatus::Success)
}

pub(crate) fn completions(shell: clap_complete::Shell) -> Result<ExitStatus, Errors> {
    let mut command = Arguments::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "dbops", &mut script);
    write_out(&script)
}

/// The man page, `dbops(1)`, in roff.
pub(crate) fn man_page() -> Vec<u8> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Arguments::command())
        .render(&mut page)
        .expect("rendering into memory cannot fail");
    page
}

pub(crate) fn man() -> Result<ExitStatus, Errors> {
    write_out(&man_page())
}
