//! The plan: the ordered changes between the desired and the live state, what
//! waits for a service restart, failing checks and notes.
//!
//! This module knows no domain. A change names its domain by [`Address`] and
//! carries an operation of a type the plan never looks into (`O`): each domain
//! produces a `Plan` of its own operations (its [`DomainDiff`]), and the engine's
//! registry maps them into one enum and concatenates them in apply order.
//! Renderers read only the generic parts.

mod address;
mod change;
mod finding;
mod pending;

pub(crate) use address::Address;
pub(crate) use change::{Action, AttributeChange, Change, Planned, Value};
pub(crate) use finding::{Finding, FindingClass};
pub(crate) use pending::{Pending, Service};

use serde::Serialize;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan<O> {
    /// In the order apply carries them out.
    pub(crate) changes: Vec<Planned<O>>,
    /// Settings already written that take effect at the next restart of their service.
    pub(crate) pending: Vec<Pending>,
    /// Checks of live state that failed (backup health, lints on live objects).
    pub(crate) findings: Vec<Finding>,
    /// Things worth knowing that change nothing (unmanaged objects, skipped checks).
    pub(crate) notes: Vec<String>,
}

/// What each domain's diff returns: the same shape as the whole plan.
pub(crate) type DomainDiff<O> = Plan<O>;

impl<O> Default for Plan<O> {
    fn default() -> Self {
        Self {
            changes: Vec::new(),
            pending: Vec::new(),
            findings: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// Counts per action, as the JSON form and the closing line show them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub(crate) struct Summary {
    pub(crate) create: usize,
    pub(crate) update: usize,
    pub(crate) delete: usize,
}

impl<O> Plan<O> {
    pub(crate) fn push(&mut self, planned: Planned<O>) {
        self.changes.push(planned);
    }

    /// Appends another domain's diff, its operations mapped by `wrap`.
    pub(crate) fn append<P>(&mut self, other: Plan<P>, wrap: impl Fn(P) -> O) {
        self.changes
            .extend(other.changes.into_iter().map(|p| p.map(&wrap)));
        self.pending.extend(other.pending);
        self.findings.extend(other.findings);
        self.notes.extend(other.notes);
    }

    /// No change to make (settings waiting for a restart are not changes).
    pub(crate) fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub(crate) fn changes(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().map(|p| &p.change)
    }

    /// Pending items that wait for `service`.
    pub(crate) fn pending_for(&self, service: Service) -> Vec<&Pending> {
        self.pending
            .iter()
            .filter(|p| p.service == service)
            .collect()
    }

    pub(crate) fn summary(&self) -> Summary {
        summarize(self.changes())
    }
}

pub(crate) fn summarize<'a>(changes: impl Iterator<Item = &'a Change>) -> Summary {
    let mut summary = Summary::default();
    for change in changes {
        match change.action {
            Action::Create => summary.create += 1,
            Action::Update => summary.update += 1,
            Action::Delete => summary.delete += 1,
        }
    }
    summary
}

/// A plan in one line per item, for table-driven tests: `+ address` (create),
/// `~ address` (update), `- address` (delete), with ` (reason)` when there is
/// one; `pending address`, `finding id address`, `note text`.
#[cfg(test)]
pub(crate) fn outline<O>(plan: &Plan<O>) -> Vec<String> {
    let mut out = Vec::new();
    for change in plan.changes() {
        let symbol = match change.action {
            Action::Create => "+",
            Action::Update => "~",
            Action::Delete => "-",
        };
        let reason = change
            .reason
            .as_ref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        out.push(format!("{symbol} {}{reason}", change.address));
    }
    for pending in &plan.pending {
        out.push(format!("pending {}", pending.address));
    }
    for finding in &plan.findings {
        out.push(format!("finding {} {}", finding.id, finding.address));
    }
    for note in &plan.notes {
        out.push(format!("note {note}"));
    }
    out
}
