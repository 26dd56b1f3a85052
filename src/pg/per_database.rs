//! Running changes one transaction per database, on a session to that
//! database (privileges and owners of schema objects can only be changed from
//! inside it). Consecutive changes to the same database share a transaction;
//! a change's event is emitted when its transaction commits, never before.

use std::time::Duration;

use crate::dsn::Dsn;
use crate::error::Result;
use crate::events::{Event, EventName, EventSink};
use crate::pg::connect::{connect, server_error, Access};
use crate::plan::Address;

/// One planned change: its database, its address, its statements in order.
pub(crate) struct Step<'a> {
    pub(crate) database: &'a str,
    pub(crate) address: &'a Address,
    pub(crate) statements: Vec<String>,
}

/// Applies `steps` in order; `what` names the changes in errors ("privilege"),
/// `event` is emitted per step at commit.
pub(crate) async fn apply(
    admin: &Dsn,
    steps: &[Step<'_>],
    what: &str,
    event: EventName,
    timeout: Duration,
    sink: &dyn EventSink,
) -> Result<()> {
    for run in steps.chunk_by(|a, b| a.database == b.database) {
        let database = run[0].database;
        let mut client =
            connect(&admin.with_database(database), Access::ReadWrite, timeout).await?;
        let transaction = client
            .transaction()
            .await
            .map_err(|e| server_error(format!("cannot begin a transaction in `{database}`"), &e))?;
        for step in run {
            for statement in &step.statements {
                transaction.batch_execute(statement).await.map_err(|e| {
                    server_error(format!("cannot apply `{}`", step.address), &e).cause(format!(
                        "the {what} changes in `{database}` were rolled back"
                    ))
                })?;
            }
        }
        transaction.commit().await.map_err(|e| {
            server_error(format!("cannot commit {what} changes in `{database}`"), &e)
        })?;
        for step in run {
            sink.emit(Event::new(event, step.address));
        }
    }
    Ok(())
}
