//! Applying settings: one `ALTER SYSTEM` per change (it cannot run inside a
//! transaction; each writes postgresql.auto.conf atomically), each event
//! emitted as it is written, then one `pg_reload_conf()`. `postmaster`
//! settings then wait for a restart.

use tokio_postgres::Client;

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
    for planned in changes {
        let operation = &planned.operation;
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
    Ok(())
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
