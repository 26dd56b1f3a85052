//! Apply: walks a plan in order, hands each run of one domain's changes to
//! that domain through the registry, and lets the domains emit each event the
//! moment its change is done. When a step fails, the error says what was
//! applied, what was not, and what is left inconsistent between domains; the
//! events already emitted stay in the log.

use std::collections::BTreeSet;

use super::registry::{self, ApplyContext};
use super::{Plan, Session};
use crate::error::Result;
use crate::events::EventLog;
use crate::plan::{Address, Planned};

pub async fn apply(session: &mut Session, plan: &Plan, log: &EventLog) -> Result<()> {
    let timeout = session.timeout();
    let mut context = ApplyContext {
        client: &mut session.client,
        desired: &session.desired,
        timeout,
        sent: Default::default(),
    };
    let changes: Vec<&Planned<registry::Operation>> = plan.changes.iter().collect();
    let mut index = 0;
    let before = log.emitted().len();
    let outcome = loop {
        if index >= changes.len() {
            break Ok(());
        }
        let domain = registry::domain(&changes[index].operation);
        let end = changes[index..]
            .iter()
            .position(|p| registry::domain(&p.operation) != domain)
            .map_or(changes.len(), |n| index + n);
        if let Err(error) = registry::apply_step(&changes[index..end], &mut context, log).await {
            break Err(error);
        }
        index = end;
    };
    let sent = std::mem::take(&mut context.sent);
    // What this run set is known: the convergence check compares it byte for byte.
    session.known_verifiers.extend(sent.clone());
    let Err(error) = outcome else {
        return Ok(());
    };
    // Applied: every change whose event was emitted, in plan order.
    let done: BTreeSet<String> = log.emitted()[before..]
        .iter()
        .filter_map(|e| e.address.clone())
        .collect();
    let (applied, not_applied): (Vec<&Address>, Vec<&Address>) = plan
        .changes()
        .map(|c| &c.address)
        .partition(|a| done.contains(&a.to_string()));
    let quoted = |list: &[&Address]| -> String {
        list.iter()
            .map(|a| format!("`{a}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut failure = error;
    if !applied.is_empty() {
        failure = failure.cause(format!("applied before the failure: {}", quoted(&applied)));
    }
    if !not_applied.is_empty() {
        failure = failure.cause(format!("not applied: {}", quoted(&not_applied)));
    }
    let applied: BTreeSet<Address> = applied.into_iter().cloned().collect();
    for inconsistency in registry::inconsistencies(&applied, plan, &sent) {
        failure = failure.cause(inconsistency);
    }
    Err(failure.hint(
        "fix the cause and run `dbops apply` again; it plans from what is live now, so it picks up where this run stopped",
    ))
}
