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
//!
//! A role to drop (`absent`) goes last, outside the transaction: its new
//! logins stopped, its sessions ended when allowed, `REASSIGN OWNED` and
//! `DROP OWNED` in each database it holds anything in, then `DROP ROLE`.

use std::collections::BTreeMap;

use futures_util::future::join_all;
use secrecy::{ExposeSecret, SecretString};
use tokio_postgres::Client;

use std::time::Duration;

use super::operation::{drop_owned_sql, mark_managed_sql, role_sql, Operation};
use crate::dsn::Dsn;
use crate::error::{Error, Result};
use crate::events::{Event, EventName, EventSink, Progress};
use crate::pg::connect::{connect, kind_of, server_error, Access};
use crate::pg::quote::ident;
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
    admin: &Dsn,
    timeout: Duration,
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
    if !statements.is_empty() {
        role_transaction(client, &statements, sink).await?;
    }
    for planned in changes {
        if let Operation::DropRole {
            name,
            reassign_to,
            databases,
            terminate_sessions,
        } = &planned.operation
        {
            let drop = Drop {
                name,
                reassign_to: reassign_to.as_deref(),
                databases,
                terminate_sessions: *terminate_sessions,
            };
            drop_role(client, admin, &drop, timeout)
                .await
                .map_err(|e| e.cause(format!("`{}` was not dropped", planned.change.address)))?;
            sink.emit(Event::new(EventName::RoleDropped, &planned.change.address));
        }
    }
    Ok(sent)
}

/// The role transaction, and each change's event once it committed.
async fn role_transaction(
    client: &mut Client,
    statements: &[Statement<'_>],
    sink: &dyn EventSink,
) -> Result<()> {
    transaction(client, statements, sink).await?;
    for (planned, _, event) in statements {
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
    Ok(())
}

/// One role to drop.
struct Drop<'a> {
    name: &'a str,
    reassign_to: Option<&'a str>,
    databases: &'a [String],
    terminate_sessions: bool,
}

/// No new logins, then its sessions ended (when allowed), what it owns
/// given away and what it holds revoked in each database (one transaction
/// each), then `DROP ROLE` on the admin session.
async fn drop_role(client: &Client, admin: &Dsn, drop: &Drop<'_>, timeout: Duration) -> Result<()> {
    let role = ident(drop.name);
    client
        .batch_execute(&format!("ALTER ROLE {role} NOLOGIN"))
        .await
        .map_err(|e| server_error(format!("cannot stop new logins of `{}`", drop.name), &e))?;
    if drop.terminate_sessions {
        terminate_sessions(client, drop.name).await?;
    }
    for database in drop.databases {
        let mut session =
            connect(&admin.with_database(database), Access::ReadWrite, timeout).await?;
        let transaction = session
            .transaction()
            .await
            .map_err(|e| server_error(format!("cannot begin a transaction in `{database}`"), &e))?;
        transaction
            .batch_execute(&drop_owned_sql(drop.name, drop.reassign_to))
            .await
            .map_err(|e| {
                server_error(
                    format!(
                        "cannot give away or revoke what `{}` holds in `{database}`",
                        drop.name
                    ),
                    &e,
                )
            })?;
        transaction
            .commit()
            .await
            .map_err(|e| server_error(format!("cannot commit the changes in `{database}`"), &e))?;
    }
    client
        .batch_execute(&format!("DROP ROLE {role}"))
        .await
        .map_err(|e| server_error(format!("cannot drop `{}`", drop.name), &e))
}

/// Ends the role's sessions and waits (a few seconds at most) until they are gone.
async fn terminate_sessions(client: &Client, name: &str) -> Result<()> {
    const SESSIONS: &str = "SELECT count(*) FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid WHERE r.rolname = $1";
    client
        .query(
            "SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid WHERE r.rolname = $1 AND a.pid <> pg_backend_pid()",
            &[&name],
        )
        .await
        .map_err(|e| server_error(format!("cannot end the sessions of `{name}`"), &e))?;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let left: i64 = client
            .query_one(SESSIONS, &[&name])
            .await
            .map_err(|e| server_error(format!("cannot count the sessions of `{name}`"), &e))?
            .get(0);
        if left == 0 {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            return Err(Error::new(format!(
                "{left} session(s) of `{name}` did not end within 10s of `pg_terminate_backend`"
            ))
            .hint("look at `pg_stat_activity` for them, then run `dbops apply` again"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
            Operation::CreateRole {
                name,
                options,
                mark,
                ..
            } => {
                let mut sql = role_sql("CREATE", name, options, verifier);
                if *mark {
                    sql = format!("{sql}; {}", mark_managed_sql(name));
                }
                (sql, EventName::RoleCreated)
            }
            Operation::AlterRole {
                name,
                options,
                password,
                mark,
            } => {
                let event = if password.is_some() {
                    EventName::RolePasswordRotated
                } else {
                    EventName::RoleUpdated
                };
                let mut sql = role_sql("ALTER", name, options, verifier);
                if *mark {
                    sql = format!("{sql}; {}", mark_managed_sql(name));
                }
                (sql, event)
            }
            // After the transaction: it needs other databases' sessions.
            Operation::DropRole { .. } => continue,
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
