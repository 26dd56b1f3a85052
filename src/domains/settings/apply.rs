//! Applying settings: one `ALTER SYSTEM` per change (it cannot run inside a
//! transaction; each writes postgresql.auto.conf atomically), each event
//! emitted as it is written, then one `pg_reload_conf()`. `postmaster`
//! settings then wait for a restart.

use tokio_postgres::Client;

use super::operation::Operation;
use crate::error::Result;
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
        client.batch_execute(&operation.sql()).await.map_err(|e| {
            server_error(format!("cannot apply `{}`", planned.change.address), &e).cause(
                "settings before this one were written; the server has not reloaded them yet",
            )
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
