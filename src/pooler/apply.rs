//! Making pgBouncer pick up new files: `RELOAD` on the admin console, SIGHUP
//! to the pid in `pidfile`, or a command. dbops starts nothing: a pooler that
//! is not running reads the files when it starts, and apply says so.

use std::time::Duration;

use super::admin;
use super::desired::{DesiredPooler, Reload};
use crate::error::{Error, Result};
use crate::events::Event;

pub async fn reload(pooler: &DesiredPooler, timeout: Duration) -> Result<Event> {
    let skipped = |why: &str| {
        Event::message(
            "pooler.reload.skipped",
            format!("pgBouncer was not reloaded: {why}; it reads the new files when it starts"),
        )
    };
    match &pooler.reload {
        Reload::Admin => match admin::connect(pooler, timeout).await {
            None => Ok(skipped("its admin console did not answer on 127.0.0.1")),
            Some(client) => {
                admin::reload(&client).await?;
                Ok(Event::message(
                    "pooler.reloaded",
                    "pgBouncer reloaded its configuration (RELOAD)",
                ))
            }
        },
        Reload::Signal => {
            let Some(pidfile) = pooler.pidfile() else {
                return Err(Error::new(
                    "`reload = \"signal\"` needs `pidfile` in `[pooler.settings]`",
                ));
            };
            let pid = match std::fs::read_to_string(pidfile) {
                Ok(text) => text.trim().to_string(),
                Err(_) => return Ok(skipped(&format!("no pid in `{pidfile}`"))),
            };
            if pid.is_empty() || !pid.chars().all(|c| c.is_ascii_digit()) {
                return Ok(skipped(&format!("no pid in `{pidfile}`")));
            }
            let status = tokio::process::Command::new("kill")
                .args(["-HUP", &pid])
                .status()
                .await
                .map_err(|e| Error::new(format!("cannot signal pgBouncer: {e}")))?;
            if status.success() {
                Ok(Event::message(
                    "pooler.reloaded",
                    format!("sent SIGHUP to pgBouncer (pid {pid})"),
                ))
            } else {
                Ok(skipped(&format!("process {pid} from `{pidfile}` is gone")))
            }
        }
        Reload::Command(command) => {
            let run = tokio::process::Command::new("sh")
                .arg("-c")
                .arg(command)
                .output();
            let output = tokio::time::timeout(timeout * 3, run)
                .await
                .map_err(|_| Error::new("the pooler's reload command did not finish in time"))?
                .map_err(|e| Error::new(format!("cannot run the pooler's reload command: {e}")))?;
            if !output.status.success() {
                return Err(Error::new(format!(
                    "the pooler's reload command failed ({})",
                    output.status
                )));
            }
            Ok(Event::message(
                "pooler.reloaded",
                "ran the pooler's reload command",
            ))
        }
    }
}
