//! What apply does about services waiting for a restart: says which service
//! each pending item waits for, refuses a restart that would also put in
//! force settings changed by hand (unless accepted) or that has no command,
//! and under `apply --allow-restart` runs `[server] restart_command`, waits,
//! bounded, until the server accepts the admin connection again, and checks
//! that everything is in force. Services a domain marks restartable by dbops
//! are restarted; the others are only named.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::{Plan, Session};
use crate::contract::facts::RestartCommand;
use crate::dsn::Dsn;
use crate::error::{Error, ErrorKind, Errors, Result};
use crate::events::{Event, EventName, EventSink};
use crate::pg::connect::{connect, Access};
use crate::pg::lock;
use crate::plan::{Pending, Service};
use crate::util::shell;

/// How long apply waits for a configuration reload to show after a restart.
const SETTLE: Duration = Duration::from_secs(10);

/// What `--allow-restart` asked for.
pub(crate) struct Policy<'a> {
    pub(crate) allow: bool,
    /// Settings changed by hand (not in the file) that may ride along.
    pub(crate) accepted: &'a [String],
    pub(crate) lock_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
}

/// What to tell people, and whether to restart.
#[derive(Debug, Default)]
pub(crate) struct Advice {
    pub(crate) notes: Vec<String>,
    /// The restart command to run now.
    pub(crate) restart: Option<String>,
}

fn quoted(items: &[&Pending]) -> Vec<String> {
    items.iter().map(|p| format!("`{}`", p.address)).collect()
}

/// The restartable service's declared pending items.
fn declared_waiting(plan: &Plan) -> Vec<&Pending> {
    plan.pending
        .iter()
        .filter(|p| p.service.restartable_by_dbops && p.declared)
        .collect()
}

/// Notes for every service that waits, and the restart to run, if allowed.
pub(crate) fn advise(session: &Session, plan: &Plan, policy: &Policy<'_>) -> Result<Advice> {
    let mut advice = Advice::default();
    let services: BTreeSet<Service> = plan
        .pending
        .iter()
        .map(|p| p.service)
        .filter(|s| !s.restartable_by_dbops)
        .collect();
    for service in services {
        advice.notes.push(format!(
            "Restart required: {} take effect when {} restarts; dbops does not restart {}.",
            quoted(&plan.pending_for(service)).join(", "),
            service.name,
            service.name
        ));
    }
    let waiting = declared_waiting(plan);
    if waiting.is_empty() {
        return Ok(advice);
    }
    if !policy.allow {
        advice.notes.push(format!(
            "Restart required: {} take effect when {} restarts. Run `dbops apply --allow-restart` \
             (it runs `[server] restart_command`) or restart {} yourself.",
            quoted(&waiting).join(", "),
            waiting[0].service.name,
            waiting[0].service.name,
        ));
        return Ok(advice);
    }
    let command = check(session, plan, policy.accepted, false)?;
    advice.restart = command;
    Ok(advice)
}

/// Why `--allow-restart` cannot restart for this plan, checked before
/// anything changes and again after apply: a setting changed by hand and
/// pending would ride along unaccepted, or there is no restart command.
/// `Ok(Some(command))` when a restart is due and allowed.
pub(crate) fn check(
    session: &Session,
    plan: &Plan,
    accepted: &[String],
    before: bool,
) -> Result<Option<String>> {
    let unchanged = if before { "; nothing was changed" } else { "" };
    let mut waiting: Vec<String> = plan
        .changes()
        .filter(|c| c.restart.is_some_and(|s| s.restartable_by_dbops))
        .map(|c| format!("`{}`", c.address))
        .collect();
    let (declared, undeclared): (Vec<&Pending>, Vec<&Pending>) = plan
        .pending
        .iter()
        .filter(|p| p.service.restartable_by_dbops)
        .partition(|p| p.declared);
    waiting.extend(quoted(&declared));
    waiting.dedup();
    if waiting.is_empty() {
        return Ok(None);
    }
    let refused: Vec<&Pending> = undeclared
        .into_iter()
        .filter(|p| {
            !accepted
                .iter()
                .any(|name| p.address.last_name() == Some(name.as_str()))
        })
        .collect();
    if !refused.is_empty() {
        return Err(Error::config(format!(
            "refusing to restart PostgreSQL: the restart would also put in force {}, changed by hand and not in the file",
            quoted(&refused).join(", ")
        ))
        .cause(format!("the file's own settings that wait for it: {}", waiting.join(", ")))
        .hint(format!("declare them in `[server.settings]`, reset them (`ALTER SYSTEM RESET`), or accept each with `--accept-pending-restart NAME`{unchanged}")));
    }
    match session.facts.get::<RestartCommand>() {
        Some(command) => Ok(Some(command.0.clone())),
        None => Err(Error::config(format!(
            "{} wait for a restart, and `--allow-restart` was given, but `[server] restart_command` is not set",
            waiting.join(", ")
        ))
        .hint(format!("set `restart_command` in `[server]` (e.g. `docker compose restart postgres`), or apply without `--allow-restart` and restart PostgreSQL yourself{unchanged}"))),
    }
}

/// Runs the restart command, waits for the server, takes the apply lock
/// again, and checks that every setting is in force.
pub(crate) async fn restart_and_settle(
    session: &mut Session,
    command: &str,
    policy: &Policy<'_>,
    sink: &dyn EventSink,
) -> Result<(), Errors> {
    sink.emit(Event::message(
        EventName::ServerRestartStarted,
        "running `[server] restart_command`",
    ));
    let admin = session.admin().clone();
    restart(command, &admin, policy.timeout, policy.connect_timeout).await?;
    session.reconnect().await?;
    lock::acquire(&session.client, policy.lock_timeout).await?;
    sink.emit(Event::message(
        EventName::ServerRestartCompleted,
        "PostgreSQL is back",
    ));
    let (_, after) = session.settle(SETTLE).await?;
    if !after.is_empty() || after.pending.iter().any(|p| p.service.restartable_by_dbops) {
        return Err(not_converged(&after)
            .cause("observed after the restart")
            .into());
    }
    Ok(())
}

/// The apply left changes or pending items: something else changed them, or
/// the server ignored a change.
pub(crate) fn not_converged(remaining: &Plan) -> Error {
    let addresses: Vec<String> = remaining
        .changes()
        .map(|c| format!("`{}`", c.address))
        .chain(
            remaining
                .pending
                .iter()
                .map(|p| format!("`{}` (pending restart)", p.address)),
        )
        .collect();
    Error::new(format!(
        "apply did not converge: {} item(s) remain: {}",
        addresses.len(),
        addresses.join(", ")
    ))
    .kind(ErrorKind::Conflict)
    .hint("something else changed these objects during the apply, or the server ignored a change; run `dbops plan` to see them")
}

async fn restart(
    command: &str,
    admin: &Dsn,
    timeout: Duration,
    connect_timeout: Duration,
) -> Result<()> {
    shell::run(command, "`[server] restart_command`", timeout)
        .await
        .map_err(|e| {
            e.hint("the settings are written; restart PostgreSQL yourself, then run `dbops drift`")
        })?;
    let deadline = Instant::now() + timeout;
    loop {
        match connect(admin, Access::ReadOnly, connect_timeout).await {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => {
                return Err(Error::new(format!(
                    "PostgreSQL did not accept connections within {} of the restart",
                    humantime::format_duration(timeout)
                ))
                .kind(ErrorKind::Connection)
                .cause(e.message().to_string()))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}
