//! The role domain under the contract: resolves `[postgres]`, `[roles]` and
//! `[databases]`, publishes what other domains derive from them (the admin
//! connection, the declared roles and databases), and after each plan what
//! the live state holds and the plan changes (stored and proven verifiers,
//! rotating roles, new databases, owner moves); apply publishes the
//! verifiers it sent.

use std::collections::{BTreeMap, BTreeSet};

use super::desired::DesiredPostgres;
use super::live::{LivePostgres, StoredPassword};
use super::raw::{RawDatabase, RawPostgres, RawRole};
use super::{apply, diff, observe, resolve, Operation};
use crate::contract::facts::{
    AbsentRoles, AdminConnection, CreatedDatabases, DatabaseOwnerMoves, DeclaredDatabase,
    DeclaredDatabases, DeclaredRole, DeclaredRoles, GovernedConnect, KnownRoles, ReferencedRoles,
    RotatingRoles, SentVerifiers, StoredVerifiers, VerifiedPasswords,
};
use crate::contract::{Apply, Domain, DomainId, Facts, Observe};
use crate::diagnostics::Resolver;
use crate::error::{Errors, Result};
use crate::events::EventSink;
use crate::plan::{DomainDiff, Planned};

pub(crate) struct Postgres;

impl Domain for Postgres {
    const ID: DomainId = super::ID;
    type Raw<'a> = (
        &'a RawPostgres,
        &'a BTreeMap<String, RawRole>,
        &'a BTreeMap<String, RawDatabase>,
    );
    type Desired = DesiredPostgres;
    type Live = LivePostgres;
    type Operation = Operation;
    /// `(role, database)` pairs whose CONNECT the grants domain governs.
    type Inputs = BTreeSet<(String, String)>;
    type Outputs = SentVerifiers;

    fn resolve(
        (postgres, roles, databases): Self::Raw<'_>,
        facts: &mut Facts,
        r: &mut Resolver<'_>,
    ) -> Option<DesiredPostgres> {
        let desired = resolve::resolve(postgres, roles, databases, r)?;
        facts.publish(AdminConnection {
            dsn: desired.admin.clone(),
        });
        facts.publish(DeclaredRoles(
            desired
                .roles
                .iter()
                .map(|(name, role)| {
                    let declared = DeclaredRole {
                        login: role.attributes.login,
                        bypass_rls: role.attributes.bypass_rls,
                        password: role.password.clone(),
                        dsn: role
                            .dsn
                            .clone()
                            .map(|dsn| (dsn, role.dsn_source.clone().unwrap_or_default())),
                    };
                    (name.clone(), declared)
                })
                .collect(),
        ));
        facts.publish(AbsentRoles(desired.absent.keys().cloned().collect()));
        facts.publish(DeclaredDatabases(
            desired
                .databases
                .iter()
                .map(|(name, database)| {
                    let declared = DeclaredDatabase {
                        owner: database.owner.clone(),
                        reassign_owned_from: database.reassign_owned_from.clone(),
                    };
                    (name.clone(), declared)
                })
                .collect(),
        ));
        Some(desired)
    }

    fn summary(desired: Option<&DesiredPostgres>) -> Vec<(&'static str, usize)> {
        vec![
            ("roles", desired.map_or(0, |d| d.roles.len())),
            ("databases", desired.map_or(0, |d| d.databases.len())),
        ]
    }

    async fn observe(desired: &DesiredPostgres, context: &Observe<'_>) -> Result<LivePostgres> {
        let extra = context.facts.cloned::<ReferencedRoles>().0;
        let mut known = context.facts.cloned::<VerifiedPasswords>().0;
        known.extend(context.facts.cloned::<SentVerifiers>().0);
        observe::observe(context.client, desired, &extra, &known, context.timeout).await
    }

    fn statements(live: &LivePostgres) -> usize {
        live.statements
    }

    fn inputs(facts: &Facts) -> Self::Inputs {
        facts.cloned::<GovernedConnect>().0
    }

    fn diff(
        desired: &DesiredPostgres,
        live: &LivePostgres,
        governed: &Self::Inputs,
    ) -> Result<DomainDiff<Operation>, Errors> {
        diff::diff(desired, live, governed)
    }

    fn publish(
        desired: &DesiredPostgres,
        live: &LivePostgres,
        diff: &DomainDiff<Operation>,
        facts: &mut Facts,
    ) {
        facts.publish(StoredVerifiers(
            live.roles
                .iter()
                .filter_map(|(name, role)| match &role.password {
                    StoredPassword::Scram(verifier) => Some((name.clone(), verifier.clone())),
                    _ => None,
                })
                .collect(),
        ));
        facts.publish(RotatingRoles(
            diff.changes
                .iter()
                .filter_map(|p| p.operation.sets_password())
                .map(str::to_string)
                .collect(),
        ));
        facts.publish(KnownRoles(
            desired
                .roles
                .keys()
                .chain(live.roles.keys())
                .filter(|name| !desired.absent.contains_key(*name))
                .cloned()
                .collect(),
        ));
        facts.publish(CreatedDatabases(
            desired
                .databases
                .keys()
                .filter(|name| !live.databases.contains_key(*name))
                .cloned()
                .collect(),
        ));
        facts.publish(DatabaseOwnerMoves(
            desired
                .databases
                .values()
                .filter_map(|d| {
                    let owner = d.owner.as_ref()?;
                    let live_database = live.databases.get(&d.name)?;
                    (&live_database.owner != owner)
                        .then(|| (d.name.clone(), (live_database.owner.clone(), owner.clone())))
                })
                .collect(),
        ));
        facts.publish(VerifiedPasswords(live.verified.matches.clone()));
    }

    async fn apply(
        _desired: &DesiredPostgres,
        changes: &[&Planned<Operation>],
        context: &mut Apply<'_>,
        sink: &dyn EventSink,
    ) -> Result<SentVerifiers> {
        apply::apply(
            context.client,
            context.admin,
            context.timeout,
            changes,
            sink,
        )
        .await
        .map(SentVerifiers)
    }
}
