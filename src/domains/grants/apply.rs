//! Applying grants: each database's statements in one transaction on a session
//! to that database (privileges on schemas and their objects can only be
//! changed from inside it). Events are emitted when a database's transaction
//! commits.

use std::time::Duration;

use super::operation::Operation;
use crate::dsn::Dsn;
use crate::error::Result;
use crate::events::{Event, EventSink};
use crate::pg::connect::{connect, server_error, Access};
use crate::plan::Planned;

/// Applies consecutive grant changes, one transaction per database in order.
pub async fn apply(
    admin: &Dsn,
    changes: &[&Planned<Operation>],
    timeout: Duration,
    sink: &dyn EventSink,
) -> Result<()> {
    let mut index = 0;
    while index < changes.len() {
        let database = &changes[index].operation.database;
        let end = changes[index..]
            .iter()
            .position(|p| &p.operation.database != database)
            .map_or(changes.len(), |n| index + n);
        let work = &changes[index..end];
        let mut client =
            connect(&admin.with_database(database), Access::ReadWrite, timeout).await?;
        let transaction = client
            .transaction()
            .await
            .map_err(|e| server_error(format!("cannot begin a transaction in `{database}`"), &e))?;
        let mut pending = Vec::new();
        for planned in work {
            for statement in &planned.operation.statements {
                transaction
                    .batch_execute(&statement.sql())
                    .await
                    .map_err(|e| {
                        server_error(format!("cannot apply `{}`", planned.change.address), &e)
                            .cause(format!(
                                "the privilege changes in `{database}` were rolled back"
                            ))
                    })?;
            }
            pending.push(Event::new("grant.changed", &planned.change.address));
        }
        transaction.commit().await.map_err(|e| {
            server_error(
                format!("cannot commit privilege changes in `{database}`"),
                &e,
            )
        })?;
        for event in pending {
            sink.emit(event);
        }
        index = end;
    }
    Ok(())
}
