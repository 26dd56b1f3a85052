//! Carrying out PostgreSQL changes. `CREATE DATABASE` cannot run in a
//! transaction and goes first; every role, membership, owner and CONNECT change
//! then runs in one transaction, so a failure leaves roles as they were.
//! Passwords go over the wire only as client-computed SCRAM verifiers.

use secrecy::ExposeSecret;
use tokio_postgres::Client;

use super::connect::describe;
use super::desired::DesiredPostgres;
use super::operation::{role_sql, Operation};
use super::scram::new_verifier;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::plan::{Change, Operation as PlanOperation};

fn postgres_operation(change: &Change) -> Option<&Operation> {
    match &change.operation {
        PlanOperation::Postgres(operation) => Some(operation),
        PlanOperation::Settings(_)
        | PlanOperation::Grants(_)
        | PlanOperation::Bucket(_)
        | PlanOperation::File(_)
        | PlanOperation::Pooler(_) => None,
    }
}

/// Applies the PostgreSQL changes among `changes`, in order, and returns one
/// event per applied change (after the transaction committed).
pub async fn apply(
    client: &mut Client,
    desired: &DesiredPostgres,
    changes: &[Change],
) -> Result<Vec<Event>> {
    let mut events = Vec::new();
    let ours: Vec<(&Change, &Operation)> = changes
        .iter()
        .filter_map(|c| postgres_operation(c).map(|o| (c, o)))
        .collect();

    for (change, operation) in &ours {
        if let Operation::CreateDatabase { .. } = operation {
            let sql = operation
                .plain_sql()
                .expect("create database has plain SQL");
            client
                .batch_execute(&sql)
                .await
                .map_err(|e| failed(change, &e, "nothing after it was applied"))?;
            events.push(Event::new("database.created", &change.address));
        }
    }

    let transaction = client
        .transaction()
        .await
        .map_err(|e| Error::new(format!("cannot begin a transaction: {}", describe(&e))))?;
    let mut pending = Vec::new();
    for (change, operation) in &ours {
        let (sql, event) = match operation {
            // Owners of new databases are set below, once every role exists.
            Operation::CreateDatabase { .. } => continue,
            Operation::CreateRole {
                name,
                options,
                password,
            } => {
                let verifier = password.then(|| verifier_for(desired, name)).transpose()?;
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
                let verifier = password.then(|| verifier_for(desired, name)).transpose()?;
                let event = if *password {
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
            .map_err(|e| failed(change, &e, "the role transaction was rolled back"))?;
        pending.push(Event::new(event, &change.address));
        if let Operation::AlterRole {
            options,
            password: true,
            ..
        } = operation
        {
            if !options.is_empty() {
                pending.push(Event::new("role.updated", &change.address));
            }
        }
    }
    for (change, operation) in &ours {
        if let Operation::CreateDatabase {
            name,
            owner: Some(owner),
        } = operation
        {
            let set_owner = Operation::SetDatabaseOwner {
                database: name.clone(),
                owner: owner.clone(),
            };
            transaction
                .batch_execute(&plain(&set_owner))
                .await
                .map_err(|e| failed(change, &e, "the role transaction was rolled back"))?;
            pending.push(Event::new("database.owner.changed", &change.address));
        }
    }
    transaction.commit().await.map_err(|e| {
        Error::new(format!(
            "cannot commit the role transaction: {}",
            describe(&e)
        ))
    })?;
    events.extend(pending);
    Ok(events)
}

fn plain(operation: &Operation) -> String {
    operation.plain_sql().expect("operation has plain SQL")
}

fn verifier_for(desired: &DesiredPostgres, name: &str) -> Result<String> {
    let password = desired
        .roles
        .get(name)
        .and_then(|role| role.password.as_ref())
        .ok_or_else(|| {
            Error::new(format!(
                "internal error: no desired password for role `{name}`"
            ))
        })?;
    Ok(new_verifier(password.expose_secret()))
}

fn failed(change: &Change, error: &tokio_postgres::Error, consequence: &str) -> Error {
    Error::new(format!(
        "cannot apply `{}`: {}",
        change.address,
        describe(error)
    ))
    .cause(consequence.to_string())
    .hint("fix the cause and run `dbops apply` again; it picks up where this run stopped")
}
