//! Carrying out PostgreSQL changes, in plan order. `CREATE DATABASE` cannot run
//! in a transaction and goes first; every role, membership, owner and CONNECT
//! change then runs in one transaction, so a failure leaves roles as they were.
//! Passwords go over the wire only as client-computed SCRAM verifiers, and the
//! verifiers sent are handed back so the pooler's auth file and the
//! convergence check use them without recomputing anything.

use std::collections::BTreeMap;

use secrecy::ExposeSecret;
use tokio_postgres::Client;

use super::operation::{role_sql, Operation};
use crate::error::{Error, Result};
use crate::events::{progress, Event, EventSink};
use crate::pg::connect::{kind_of, server_error};
use crate::pg::scram::new_verifier;
use crate::plan::Planned;

/// Applies the PostgreSQL changes, emitting each event once it is durable
/// (database creations at once, the rest at commit). Returns the SCRAM
/// verifier sent for each role whose password was set.
pub async fn apply(
    client: &mut Client,
    changes: &[&Planned<Operation>],
    sink: &dyn EventSink,
) -> Result<BTreeMap<String, String>> {
    let mut sent = BTreeMap::new();
    for planned in changes {
        if let Operation::CreateDatabase { .. } = &planned.operation {
            let sql = planned
                .operation
                .plain_sql()
                .expect("create database has plain SQL");
            client
                .batch_execute(&sql)
                .await
                .map_err(|e| failed(planned, &e, "nothing after it was applied"))?;
            sink.emit(Event::new("database.created", &planned.change.address));
        }
    }

    sink.progress(progress::ROLE_TRANSACTION);
    let transaction = client
        .transaction()
        .await
        .map_err(|e| server_error("cannot begin a transaction", &e))?;
    let mut pending = Vec::new();
    for planned in changes {
        let operation = &planned.operation;
        let (sql, event) = match operation {
            // Owners of new databases are set below, once every role exists.
            Operation::CreateDatabase { .. } => continue,
            Operation::CreateRole {
                name,
                options,
                password,
            } => {
                let verifier = password.as_ref().map(|p| new_verifier(p.expose_secret()));
                if let Some(verifier) = &verifier {
                    sent.insert(name.clone(), verifier.clone());
                }
                (
                    role_sql("CREATE", name, options, verifier.as_deref()),
                    "role.created",
                )
            }
            Operation::AlterRole {
                name,
                options,
                password,
            } => {
                let verifier = password.as_ref().map(|p| new_verifier(p.expose_secret()));
                if let Some(verifier) = &verifier {
                    sent.insert(name.clone(), verifier.clone());
                }
                let event = if password.is_some() {
                    "role.password.rotated"
                } else {
                    "role.updated"
                };
                (role_sql("ALTER", name, options, verifier.as_deref()), event)
            }
            Operation::GrantMembership { .. } => (plain(operation), "membership.granted"),
            Operation::RevokeMembership { .. } => (plain(operation), "membership.revoked"),
            Operation::SetDatabaseOwner { .. } => (plain(operation), "database.owner.changed"),
            Operation::GrantConnect { .. } => (plain(operation), "grant.connect.granted"),
        };
        transaction
            .batch_execute(&sql)
            .await
            .map_err(|e| failed(planned, &e, "the role transaction was rolled back"))?;
        pending.push(Event::new(event, &planned.change.address));
        if let Operation::AlterRole {
            options,
            password: Some(_),
            ..
        } = operation
        {
            if !options.is_empty() {
                pending.push(Event::new("role.updated", &planned.change.address));
            }
        }
    }
    for planned in changes {
        if let Operation::CreateDatabase {
            name,
            owner: Some(owner),
        } = &planned.operation
        {
            let set_owner = Operation::SetDatabaseOwner {
                database: name.clone(),
                owner: owner.clone(),
            };
            transaction
                .batch_execute(&plain(&set_owner))
                .await
                .map_err(|e| failed(planned, &e, "the role transaction was rolled back"))?;
            pending.push(Event::new(
                "database.owner.changed",
                &planned.change.address,
            ));
        }
    }
    sink.progress(progress::COMMITTING);
    transaction.commit().await.map_err(|e| {
        server_error("cannot commit the role transaction", &e)
            .cause("the outcome is unknown: the next `dbops plan` tells whether it committed")
    })?;
    sink.progress(progress::BETWEEN_STEPS);
    for event in pending {
        sink.emit(event);
    }
    Ok(sent)
}

fn plain(operation: &Operation) -> String {
    operation.plain_sql().expect("operation has plain SQL")
}

fn failed(planned: &Planned<Operation>, error: &tokio_postgres::Error, consequence: &str) -> Error {
    Error::new(format!(
        "cannot apply `{}`: {}",
        planned.change.address,
        crate::pg::connect::describe(error)
    ))
    .kind(kind_of(error))
    .cause(consequence.to_string())
}
