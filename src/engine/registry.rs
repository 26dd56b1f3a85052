//! The registry: the one table of domains. Each line names a domain, the
//! type implementing the contract (`contract::Domain`), and its section of
//! the raw file; the table order is the order every phase runs in, and the
//! order apply carries the plan out:
//!
//! 1. roles, memberships, databases, owners and CONNECT (one transaction);
//! 2. the pooler's files right after, so its auth file holds the verifiers
//!    PostgreSQL now has, then one reload;
//! 3. ownership inside each database, then privileges (who owns what decides
//!    which privileges are grants);
//! 4. the buckets (with the lifecycle rules the dumps need), then the backup
//!    tool's files, so both exist before (the dumps have nothing to apply)
//! 5. the server settings that start archiving into them, and one reload;
//! 6. the security posture and the room left, read and reported (findings only).
//!
//! A domain reads facts only from domains above it, or facts published
//! while resolving. Adding a domain is one line here (docs/architecture.md).

use serde::Serialize;

use super::scope::Scope;
use super::table::{domains, narrow};
use crate::config::raw::RawConfig;
use crate::contract::{Apply, Domain, DomainId, Facts, Health, Observe};
use crate::diagnostics::Resolver;
use crate::domains::{
    backup, bucket, capacity, dumps, grants, ownership, pooler, postgres, security, settings,
};
use crate::error::{Error, Errors, Result};
use crate::events::EventSink;
use crate::plan::{Plan, Planned};
use crate::util::digest::sha256_hex;

domains! { raw;
    Postgres(postgres): postgres::domain::Postgres = (&raw.postgres, &raw.roles, &raw.databases),
    Pooler(pooler): pooler::domain::Pooler = raw.pooler.as_ref(),
    Ownership(ownership): ownership::domain::Ownership = (),
    Grants(grants): grants::domain::Grants = &raw.grants,
    Bucket(bucket): bucket::domain::Buckets = &raw.bucket,
    Backup(backup): backup::domain::Backup = (raw.backup.as_ref(), raw.restore_test.as_ref(), raw.dumps.is_some()),
    Dumps(dumps): dumps::domain::Dumps = (raw.dumps.as_ref(), raw.restore_test.as_ref()),
    Settings(settings): settings::domain::Settings = raw.server.as_ref(),
    Security(security): security::domain::Security = (),
    Capacity(capacity): capacity::domain::Capacity = raw.capacity.as_ref(),
    #[cfg(feature = "example-domain")]
    Example(example): crate::domains::example::Example = raw.example_domain.as_ref(),
}

/// Resolves every section, recording every problem in `r`; the desired state
/// and the facts published while resolving, or `None` after any problem.
pub(crate) fn resolve(raw: &RawConfig, r: &mut Resolver<'_>) -> Option<(DesiredState, Facts)> {
    let mut facts = Facts::default();
    let desired = resolve_each(raw, &mut facts, r);
    (!r.has_errors()).then_some((desired, facts))
}

/// What the file declares, domain by domain, for `validate`.
pub(crate) fn summary(desired: &DesiredState) -> Vec<(&'static str, usize)> {
    summary_each(desired)
}

/// The `--target` values: each domain's word, once, in table order.
pub(crate) fn targets() -> Vec<&'static str> {
    let mut words: Vec<&'static str> = Vec::new();
    for (id, _) in domains() {
        if !words.contains(&id.word) {
            words.push(id.word);
        }
    }
    words
}

/// Leaves out what `--target` does not name: those domains are not read.
/// Leaves out what `--target` does not name; the words of the declared
/// domains it left out, in table order.
pub(crate) fn restrict(desired: &mut DesiredState, scope: &Scope) -> Vec<&'static str> {
    restrict_each(desired, scope)
}

impl LiveState {
    /// A digest of everything observed, for saved plans; reveals no secret.
    pub(crate) fn fingerprint(&self) -> String {
        let document = serde_json::to_vec(self).expect("live state serializes");
        sha256_hex(&document)
    }

    /// Statements sent on the admin session to observe, for the round-trip budget.
    pub(crate) fn statements(&self) -> usize {
        statements_each(self)
    }
}

pub(crate) async fn observe(desired: &DesiredState, context: &Observe<'_>) -> Result<LiveState> {
    observe_each(desired, context).await
}

/// The plan from the desired state to `live`, in apply order; `facts` gets
/// what each domain publishes about it. Pure: no I/O.
pub(crate) fn diff(
    desired: &DesiredState,
    live: &LiveState,
    facts: &mut Facts,
) -> std::result::Result<Plan<Operation>, Errors> {
    diff_each(desired, live, facts)
}

/// Applies one run of one domain's changes; the facts it published.
pub(crate) async fn apply_step(
    step: &[&Planned<Operation>],
    desired: &DesiredState,
    context: &mut Apply<'_>,
    sink: &dyn EventSink,
) -> Result<Facts> {
    apply_step_each(step, desired, context, sink).await
}

/// What a stopped apply leaves inconsistent between domains, in words.
pub(crate) fn unapplied(not_applied: &[&Planned<Operation>], facts: &Facts) -> Vec<String> {
    unapplied_each(not_applied, facts)
}

/// Every file the desired state renders.
pub(crate) fn rendered(desired: &DesiredState) -> Vec<crate::managed_files::RenderedFile> {
    rendered_each(desired)
}

/// Checks of live state beyond the configuration, for `drift`.
pub(crate) async fn health(
    desired: &DesiredState,
    context: &Observe<'_>,
    sink: &dyn EventSink,
) -> Result<Health> {
    health_each(desired, context, sink).await
}

/// Every domain in table order, with the targets targeting it brings.
pub(crate) fn domains() -> Vec<(DomainId, &'static [&'static str])> {
    domains_each()
}

#[cfg(test)]
#[path = "registry_tests.rs"]
mod tests;
