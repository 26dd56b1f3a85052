//! Applying the pooler's changes: each file written in plan order (the auth
//! file with the verifiers the role transaction just sent), then one reload:
//! `RELOAD` on the admin console, SIGHUP to the pgBouncer process in
//! `pidfile`, or a command. dbops starts nothing: a pooler that is not running
//! reads the files when it starts, and apply says so. A pooler that refuses
//! dbops is an error, never "not running".

use std::collections::BTreeMap;
use std::time::Duration;

use super::admin;
use super::desired::{DesiredPooler, Reload};
use super::diff::auth_content;
use super::operation::Operation;
use super::signal;
use crate::error::{Error, Result};
use crate::events::{Event, EventName, EventSink};
use crate::managed_files;
use crate::plan::Planned;
use crate::util::shell;

pub(crate) async fn apply(
    pooler: &DesiredPooler,
    changes: &[&Planned<Operation>],
    sent: &BTreeMap<String, String>,
    timeout: Duration,
    sink: &dyn EventSink,
) -> Result<()> {
    for planned in changes {
        match &planned.operation {
            Operation::Write(write) => {
                managed_files::apply::write(&write.file)?;
                sink.emit(Event::new(EventName::FileWritten, &planned.change.address));
            }
            Operation::WriteAuthFile { file, entries } => {
                let mut file = file.clone();
                file.content = auth_content(entries, Some(sent))?;
                managed_files::apply::write(&file)?;
                sink.emit(Event::new(EventName::FileWritten, &planned.change.address));
            }
            Operation::Reload => {}
        }
    }
    if !changes.is_empty() {
        sink.emit(reload(pooler, timeout).await?);
    }
    Ok(())
}

pub(crate) async fn reload(pooler: &DesiredPooler, timeout: Duration) -> Result<Event> {
    let skipped = |why: &str| {
        Event::message(
            EventName::PoolerReloadSkipped,
            format!("pgBouncer was not reloaded: {why}; it reads the new files when it starts"),
        )
    };
    match &pooler.reload {
        Reload::Admin => match admin::connect(pooler, timeout).await? {
            None => Ok(skipped(&format!(
                "it is not running (nothing listens on 127.0.0.1:{})",
                pooler.listen_port
            ))),
            Some(client) => {
                admin::reload(&client).await?;
                Ok(Event::message(
                    EventName::PoolerReloaded,
                    "pgBouncer reloaded its configuration (RELOAD)",
                ))
            }
        },
        Reload::Signal => {
            let Some(pidfile) = pooler.pidfile() else {
                return Err(Error::config(
                    "`reload = \"signal\"` needs `pidfile` in `[pooler.settings]`",
                ));
            };
            match signal::verified_pgbouncer(std::path::Path::new(pidfile))? {
                None => Ok(skipped(&format!(
                    "it is not running (no live pgBouncer process in `{pidfile}`)"
                ))),
                Some(pid) => {
                    signal::hangup(pid, pidfile)?;
                    Ok(Event::message(
                        EventName::PoolerReloaded,
                        format!("sent SIGHUP to pgBouncer (pid {pid})"),
                    ))
                }
            }
        }
        Reload::Command(command) => {
            shell::run(command, "the pooler's reload command", timeout * 3).await?;
            Ok(Event::message(
                EventName::PoolerReloaded,
                "ran the pooler's reload command",
            ))
        }
    }
}
