//! Applying settings: one `ALTER SYSTEM` per change (it cannot run inside a
//! transaction; each writes postgresql.auto.conf atomically), each event
//! emitted as it is written, then one `pg_reload_conf()`. `postmaster`
//! settings then wait for a restart.

use tokio_postgres::Client;

use super::hba::diff::HbaOperation;
use super::operation::Operation;
use crate::error::{Error, Result};
use crate::events::{Event, EventName, EventSink};
use crate::pg::connect::server_error;
use crate::plan::Planned;

pub(crate) async fn apply(
    client: &Client,
    changes: &[&Planned<Operation>],
    sink: &dyn EventSink,
) -> Result<()> {
    // The HBA file first: written and checked before anything reloads.
    let mut hba = false;
    for planned in changes {
        if let Operation::Hba(operation) = &planned.operation {
            if let HbaOperation::Write(file) = operation {
                super::hba::apply::write(client, file).await?;
                sink.emit(Event::new(EventName::FileWritten, &planned.change.address));
            }
            hba = true;
        }
    }
    let load_before = if hba {
        Some(conf_load_time(client).await?)
    } else {
        None
    };
    for planned in changes {
        let operation = &planned.operation;
        if matches!(operation, Operation::Hba(_)) {
            continue;
        }
        let sensitive = matches!(
            operation,
            Operation::Set {
                sensitive: true,
                ..
            }
        );
        if sensitive {
            unlogged(client, true).await?;
        }
        let result = client.batch_execute(&operation.sql()).await;
        if sensitive {
            unlogged(client, false).await?;
        }
        result.map_err(|e| {
            // The server's message may quote the statement: not a sensitive one.
            let error = if sensitive {
                Error::new(format!(
                    "cannot apply `{}`: the server refused the value (not shown: it carries a credential)",
                    planned.change.address
                ))
                .kind(crate::pg::connect::kind_of(&e))
            } else {
                server_error(format!("cannot apply `{}`", planned.change.address), &e)
            };
            error.cause("settings before this one were written; the server has not reloaded them yet")
        })?;
        let event = match operation {
            Operation::Set { .. } => EventName::SettingChanged,
            Operation::Reset { .. } => EventName::SettingReset,
            Operation::Hba(_) => continue,
        };
        sink.emit(Event::new(event, &planned.change.address));
    }
    if !changes.is_empty() {
        client
            .batch_execute("SELECT pg_reload_conf()")
            .await
            .map_err(|e| server_error("cannot reload the server configuration", &e))?;
        sink.emit(Event::message(
            EventName::ConfigReloaded,
            "reloaded the server configuration",
        ));
    }
    if let Some(before) = load_before {
        wait_loaded(client, before).await?;
    }
    Ok(())
}

/// `pg_conf_load_time()`, in seconds since the epoch.
async fn conf_load_time(client: &Client) -> Result<f64> {
    Ok(client
        .query_one(
            "SELECT extract(epoch FROM pg_conf_load_time())::float8",
            &[],
        )
        .await
        .map_err(|e| server_error("cannot read when the configuration was loaded", &e))?
        .get(0))
}

/// The reload is asynchronous (a signal to the postmaster): waits, a few
/// seconds at most, until the server says it loaded the configuration again.
async fn wait_loaded(client: &Client, before: f64) -> Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if conf_load_time(client).await? > before {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            return Err(Error::new(
                "the server did not load its configuration within 10s of `pg_reload_conf()`: the new pg_hba.conf is on disk but may not be in force",
            )
            .hint("look at the server's log; the next `dbops plan` says whether it is loaded"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Keeps the next statement (an `ALTER SYSTEM` whose value carries a
/// credential) out of the server's log and `pg_stat_statements`, for this
/// session only; `false` puts the server's own settings back. A server that
/// refuses (the admin is not a superuser) is an error before the value is sent.
async fn unlogged(client: &Client, on: bool) -> Result<()> {
    const SETTINGS: [(&str, &str); 4] = [
        ("log_statement", "'none'"),
        ("log_min_duration_statement", "-1"),
        ("log_min_error_statement", "'panic'"),
        ("pg_stat_statements.track_utility", "off"),
    ];
    let sql: Vec<String> = SETTINGS
        .iter()
        .map(|(name, value)| {
            if on {
                format!("SET {name} = {value}")
            } else {
                format!("RESET {name}")
            }
        })
        .collect();
    client.batch_execute(&sql.join("; ")).await.map_err(|e| {
        server_error(
            "cannot keep a setting that carries a credential out of the server's log",
            &e,
        )
        .hint("the admin DSN must be a superuser's, which may set `log_statement` for its session")
    })
}
