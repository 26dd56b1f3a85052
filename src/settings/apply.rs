//! Applying settings: one `ALTER SYSTEM` per change (it cannot run inside a
//! transaction; each writes postgresql.auto.conf atomically), then one
//! `pg_reload_conf()`. `postmaster` settings then wait for a restart.

use tokio_postgres::Client;

use super::operation::Operation;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::plan::{Change, Operation as PlanOperation};
use crate::postgres::connect::describe;

pub async fn apply(client: &Client, changes: &[Change]) -> Result<Vec<Event>> {
    let mut events = Vec::new();
    for change in changes {
        let PlanOperation::Settings(operation) = &change.operation else {
            continue;
        };
        client.batch_execute(&operation.sql()).await.map_err(|e| {
            Error::new(format!("cannot apply `{}`: {}", change.address, describe(&e)))
                .hint("settings before this one were written; run `dbops apply` again after fixing the cause")
        })?;
        let event = match operation {
            Operation::Set { .. } => "setting.changed",
            Operation::Reset { .. } => "setting.reset",
        };
        events.push(Event::new(event, &change.address));
    }
    if !events.is_empty() {
        client
            .batch_execute("SELECT pg_reload_conf()")
            .await
            .map_err(|e| {
                Error::new(format!(
                    "cannot reload the server configuration: {}",
                    describe(&e)
                ))
            })?;
        events.push(Event::message(
            "config.reloaded",
            "reloaded the server configuration",
        ));
    }
    Ok(events)
}
