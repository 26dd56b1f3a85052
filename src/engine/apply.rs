//! Apply: walks a plan in order, hands each run of one domain's changes to
//! that domain through the registry, and lets the domains emit each event the
//! moment its change is done. What a step publishes (the verifiers the role
//! transaction sent) is on the board for the steps after it. When a step
//! fails, the error says what was applied, what was not, and what is left
//! inconsistent between domains; the events already emitted stay in the log.

use std::collections::BTreeSet;

use super::registry::{self, Operation};
use super::{Plan, Session};
use crate::contract::Apply;
use crate::error::Result;
use crate::events::EventLog;
use crate::plan::{Address, Planned};

pub(crate) async fn apply(session: &mut Session, plan: &Plan, log: &EventLog) -> Result<()> {
    let mut facts = session.facts.clone();
    let changes: Vec<&Planned<Operation>> = plan.changes.iter().collect();
    let before = log.emitted().len();
    let mut index = 0;
    let outcome = loop {
        let Some(first) = changes.get(index) else {
            break Ok(());
        };
        let domain = first.operation.domain();
        let end = changes[index..]
            .iter()
            .position(|p| p.operation.domain() != domain)
            .map_or(changes.len(), |n| index + n);
        let admin = session.admin().clone();
        let timeout = session.timeout();
        let mut context = Apply {
            client: &mut session.client,
            admin: &admin,
            timeout,
            facts: &facts,
        };
        match registry::apply_step(&changes[index..end], &session.desired, &mut context, log).await
        {
            Ok(published) => facts.extend(published),
            Err(error) => break Err(error),
        }
        index = end;
    };
    session.learn(facts.clone());
    let Err(error) = outcome else {
        return Ok(());
    };
    // Applied: every change whose event was emitted, in plan order.
    let done: BTreeSet<Address> = log.emitted()[before..]
        .iter()
        .filter_map(|e| e.address.clone())
        .collect();
    let (applied, not_applied): (Vec<&Planned<Operation>>, Vec<&Planned<Operation>>) = changes
        .iter()
        .partition(|p| done.contains(&p.change.address));
    let quoted = |list: &[&Planned<Operation>]| -> String {
        list.iter()
            .map(|p| format!("`{}`", p.change.address))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut failure = error;
    if failure.is_lock_timeout() {
        failure =
            crate::pg::blockers::explain(failure, &session.admin().clone(), session.timeout())
                .await;
    }
    if !applied.is_empty() {
        failure = failure.cause(format!("applied before the failure: {}", quoted(&applied)));
    }
    if !not_applied.is_empty() {
        failure = failure.cause(format!("not applied: {}", quoted(&not_applied)));
    }
    for inconsistency in registry::unapplied(&not_applied, &facts) {
        failure = failure.cause(inconsistency);
    }
    Err(failure.hint(
        "fix the cause and run `dbops apply` again; it plans from what is live now, so it picks up where this run stopped",
    ))
}
