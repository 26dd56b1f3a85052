//! Carrying out PostgreSQL changes, in plan order. `CREATE DATABASE` cannot run
//! in a transaction and goes first; every role, membership, owner and CONNECT
//! change then runs in one transaction, so a failure leaves roles as they were.
//!
//! Passwords go over the wire only as client-computed SCRAM verifiers, derived
//! for the whole transaction at once on every core, off the async runtime. The
//! transaction's statements are then pipelined: all sent at once, answered in
//! order, so 10,000 roles do not wait for 20,000 round trips; the first
//! failure (in plan order) is the one reported, and the transaction rolls
//! back. The verifiers sent are handed back, so the pooler's auth file and the
//! convergence check use them without deriving anything again.

use std::collections::BTreeMap;

use futures_util::future::join_all;
use secrecy::{ExposeSecret, SecretString};
use tokio_postgres::Client;

use super::operation::{role_sql, Operation};
use crate::error::{Error, Result};
use crate::events::{Event, EventName, EventSink, Progress};
use crate::pg::connect::{kind_of, server_error};
use crate::pg::scram::derive_all;
use crate::plan::Planned;

/// The password an operation sets, if any.
fn password_of(operation: &Operation) -> Option<&SecretString> {
    match operation {
        Operation::CreateRole { password, .. } | Operation::AlterRole { password, .. } => {
            password.as_ref()
        }
        _ => None,
    }
}

/// A fresh verifier for each password set by `changes`, by change index.
async fn verifiers(changes: &[&Planned<Operation>]) -> Result<BTreeMap<usize, String>> {
    let wanted: Vec<(usize, SecretString)> = changes
        .iter()
        .enumerate()
        .filter_map(|(i, p)| password_of(&p.operation).map(|pw| (i, pw.clone())))
        .collect();
    if wanted.is_empty() {
        return Ok(BTreeMap::new());
    }
    tokio::task::spawn_blocking(move || {
        let passwords: Vec<&str> = wanted.iter().map(|(_, p)| p.expose_secret()).collect();
        let derived = derive_all(&passwords);
        wanted.iter().map(|(i, _)| *i).zip(derived).collect()
    })
    .await
    .map_err(|e| Error::internal(format!("deriving verifiers stopped: {e}")))
}

/// A statement of the role transaction: its change, SQL and event.
type Statement<'a> = (&'a Planned<Operation>, String, EventName);

/// Applies the PostgreSQL changes, emitting each event once it is durable
/// (database creations at once, the rest at commit). Returns the SCRAM
/// verifier sent for each role whose password was set.
pub(crate) async fn apply(
    client: &mut Client,
    changes: &[&Planned<Operation>],
    sink: &dyn EventSink,
) -> Result<BTreeMap<String, String>> {
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
            sink.emit(Event::new(
                EventName::DatabaseCreated,
                &planned.change.address,
            ));
        }
    }
    let verifiers = verifiers(changes).await?;
    let (statements, sent) = statements(changes, &verifiers);
    if statements.is_empty() {
        return Ok(sent);
    }
    transaction(client, &statements, sink).await?;
    for (planned, _, event) in &statements {
        sink.emit(Event::new(*event, &planned.change.address));
        if let Operation::AlterRole {
            options,
            password: Some(_),
            ..
        } = &planned.operation
        {
            if !options.is_empty() {
                sink.emit(Event::new(EventName::RoleUpdated, &planned.change.address));
            }
        }
    }
    Ok(sent)
}

/// The role transaction's statements in plan order (owners of new databases
/// last, once every role exists), and the verifier each password gets.
fn statements<'a>(
    changes: &[&'a Planned<Operation>],
    verifiers: &BTreeMap<usize, String>,
) -> (Vec<Statement<'a>>, BTreeMap<String, String>) {
    let mut sent = BTreeMap::new();
    let mut statements: Vec<Statement<'a>> = Vec::new();
    for (index, planned) in changes.iter().enumerate() {
        let operation = &planned.operation;
        let verifier = verifiers.get(&index).map(String::as_str);
        if let (Some(verifier), Some(name)) = (verifier, operation.sets_password()) {
            sent.insert(name.to_string(), verifier.to_string());
        }
        let (sql, event) = match operation {
            Operation::CreateDatabase { .. } => continue,
            Operation::CreateRole { name, options, .. } => (
                role_sql("CREATE", name, options, verifier),
                EventName::RoleCreated,
            ),
            Operation::AlterRole {
                name,
                options,
                password,
            } => {
                let event = if password.is_some() {
                    EventName::RolePasswordRotated
                } else {
                    EventName::RoleUpdated
                };
                (role_sql("ALTER", name, options, verifier), event)
            }
            Operation::GrantMembership { .. } => (plain(operation), EventName::MembershipGranted),
            Operation::RevokeMembership { .. } => (plain(operation), EventName::MembershipRevoked),
            Operation::SetDatabaseOwner { .. } => {
                (plain(operation), EventName::DatabaseOwnerChanged)
            }
            Operation::GrantConnect { .. } => (plain(operation), EventName::GrantConnectGranted),
        };
        statements.push((planned, sql, event));
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
            statements.push((planned, plain(&set_owner), EventName::DatabaseOwnerChanged));
        }
    }
    (statements, sent)
}

/// Every statement in one transaction, pipelined; the first failure in plan
/// order is the one reported, and the transaction rolls back.
async fn transaction(
    client: &mut Client,
    statements: &[Statement<'_>],
    sink: &dyn EventSink,
) -> Result<()> {
    sink.progress(Progress::RoleTransaction);
    let transaction = client
        .transaction()
        .await
        .map_err(|e| server_error("cannot begin a transaction", &e))?;
    let results = join_all(
        statements
            .iter()
            .map(|(_, sql, _)| transaction.batch_execute(sql)),
    )
    .await;
    if let Some((index, error)) = results
        .iter()
        .enumerate()
        .find_map(|(i, r)| r.as_ref().err().map(|e| (i, e)))
    {
        let (planned, _, _) = &statements[index];
        return Err(failed(
            planned,
            error,
            "the role transaction was rolled back",
        ));
    }
    sink.progress(Progress::Committing);
    transaction.commit().await.map_err(|e| {
        server_error("cannot commit the role transaction", &e)
            .cause("the outcome is unknown: the next `dbops plan` tells whether it committed")
    })?;
    sink.progress(Progress::BetweenSteps);
    Ok(())
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
    .sqlstate(error.code().map(tokio_postgres::error::SqlState::code))
    .cause(consequence.to_string())
}
