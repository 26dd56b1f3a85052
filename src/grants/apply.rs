//! Applying grants: each database's statements in one transaction on a session
//! to that database (privileges on schemas and their objects can only be
//! changed from inside it). Runs after roles and databases exist.

use std::collections::BTreeMap;
use std::time::Duration;

use super::diff::Operation;
use crate::dsn::Dsn;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::plan::{Change, Operation as PlanOperation};
use crate::postgres::connect::{connect, describe, Access};

pub async fn apply(admin: &Dsn, changes: &[Change], timeout: Duration) -> Result<Vec<Event>> {
    let mut by_database: BTreeMap<&str, Vec<(&Change, &Operation)>> = BTreeMap::new();
    for change in changes {
        if let PlanOperation::Grants(operation) = &change.operation {
            by_database
                .entry(&operation.database)
                .or_default()
                .push((change, operation));
        }
    }
    let mut events = Vec::new();
    for (database, work) in by_database {
        let mut client =
            connect(&admin.with_database(database), Access::ReadWrite, timeout).await?;
        let transaction = client.transaction().await.map_err(|e| {
            Error::new(format!(
                "cannot begin a transaction in `{database}`: {}",
                describe(&e)
            ))
        })?;
        let mut pending = Vec::new();
        for (change, operation) in work {
            for statement in &operation.statements {
                transaction.batch_execute(statement).await.map_err(|e| {
                    Error::new(format!(
                        "cannot apply `{}`: {}",
                        change.address,
                        describe(&e)
                    ))
                    .cause(format!(
                        "the privilege changes in `{database}` were rolled back"
                    ))
                    .hint("fix the cause and run `dbops apply` again")
                })?;
            }
            pending.push(Event::new("grant.changed", &change.address));
        }
        transaction.commit().await.map_err(|e| {
            Error::new(format!(
                "cannot commit privilege changes in `{database}`: {}",
                describe(&e)
            ))
        })?;
        events.extend(pending);
    }
    Ok(events)
}
