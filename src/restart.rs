//! Restarting PostgreSQL for settings that wait for it: runs `[server]
//! restart_command` (only under `apply --allow-restart`), then waits, bounded,
//! until the server accepts the admin connection again.

use std::time::{Duration, Instant};

use crate::dsn::Dsn;
use crate::error::{Error, Result};
use crate::postgres::connect::{connect, Access};

pub async fn restart(
    command: &str,
    admin: &Dsn,
    timeout: Duration,
    connect_timeout: Duration,
) -> Result<()> {
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
                "`[server] restart_command` did not finish within {}",
                humantime::format_duration(timeout)
            ))
        })?
        .map_err(|e| Error::new(format!("cannot run `[server] restart_command`: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().last().unwrap_or("").trim().to_string();
        let mut error = Error::new(format!(
            "`[server] restart_command` failed ({})",
            output.status
        ));
        if !last.is_empty() {
            error = error.cause(last);
        }
        return Err(error.hint(
            "the settings are written; restart PostgreSQL yourself, then run `dbops drift`",
        ));
    }
    let deadline = Instant::now() + timeout;
    loop {
        match connect(admin, Access::ReadOnly, connect_timeout).await {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => {
                return Err(Error::new(format!(
                    "PostgreSQL did not accept connections within {} of the restart",
                    humantime::format_duration(timeout)
                ))
                .cause(e.message().to_string()))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}
