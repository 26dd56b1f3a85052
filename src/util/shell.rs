//! Running a user's shell command (`restart_command`, a pooler reload
//! command) with a deadline, stdin closed, killed if it overruns, and its
//! failure described by its last line of stderr.

use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};

/// Runs `sh -c command`; `what` names it in errors (`` `[server] restart_command` ``).
pub(crate) async fn run(command: &str, what: &str, timeout: Duration) -> Result<()> {
    let run = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(timeout, run)
        .await
        .map_err(|_| {
            Error::new(format!(
                "{what} did not finish within {}",
                humantime::format_duration(timeout)
            ))
            .kind(ErrorKind::Local)
        })?
        .map_err(|e| Error::new(format!("cannot run {what}: {e}")))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().last().unwrap_or("").trim().to_string();
    let mut error = Error::new(format!("{what} failed ({})", output.status));
    if !last.is_empty() {
        error = error.cause(last);
    }
    Err(error)
}

/// Quotes a word for `sh` when it needs it.
pub(crate) fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:%,+@".contains(&b));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}
