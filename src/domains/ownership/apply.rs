//! Moving ownership: each database's changes in one transaction on a session
//! to that database (an object's owner can only be changed from inside it),
//! right after the role transaction and before privileges, which depend on
//! who owns what. Events are emitted at commit.

use std::time::Duration;

use super::diff::Operation;
use crate::dsn::Dsn;
use crate::error::Result;
use crate::events::{Event, EventSink};
use crate::pg::connect::{connect, server_error, Access};
use crate::pg::quote::ident;
use crate::plan::Planned;

impl Operation {
    pub fn sql(&self) -> String {
        format!(
            "ALTER {} {} OWNER TO {}",
            self.keyword,
            self.target,
            ident(&self.owner)
        )
    }
}

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
        let mut client =
            connect(&admin.with_database(database), Access::ReadWrite, timeout).await?;
        let transaction = client
            .transaction()
            .await
            .map_err(|e| server_error(format!("cannot begin a transaction in `{database}`"), &e))?;
        for planned in &changes[index..end] {
            transaction
                .batch_execute(&planned.operation.sql())
                .await
                .map_err(|e| {
                    server_error(format!("cannot apply `{}`", planned.change.address), &e).cause(
                        format!("the ownership changes in `{database}` were rolled back"),
                    )
                })?;
        }
        transaction.commit().await.map_err(|e| {
            server_error(
                format!("cannot commit ownership changes in `{database}`"),
                &e,
            )
        })?;
        for planned in &changes[index..end] {
            sink.emit(Event::new("ownership.changed", &planned.change.address));
        }
        index = end;
    }
    Ok(())
}
