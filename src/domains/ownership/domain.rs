//! Ownership under the contract: it has no section of its own; its desired
//! state derives from the databases and roles the role domain publishes
//! while resolving, and it publishes the owner moves the privileges domain
//! must predict.

use super::desired::{DatabaseOwnership, DesiredOwnership};
use super::live::LiveOwnership;
use super::{apply, diff, observe, Operation};
use crate::contract::facts::{DeclaredDatabases, DeclaredRoles, ObjectOwnerMoves};
use crate::contract::{Apply, Domain, DomainId, Facts, Observe};
use crate::diagnostics::Resolver;
use crate::error::{Errors, Result};
use crate::events::EventSink;
use crate::plan::{DomainDiff, Planned};

pub(crate) struct Ownership;

impl Domain for Ownership {
    const ID: DomainId = super::ID;
    type Raw<'a> = ();
    type Desired = DesiredOwnership;
    type Live = LiveOwnership;
    type Operation = Operation;
    type Inputs = ();
    type Outputs = ();

    fn resolve((): (), facts: &mut Facts, _r: &mut Resolver<'_>) -> Option<DesiredOwnership> {
        let databases = facts.get::<DeclaredDatabases>()?;
        let roles = facts.get::<DeclaredRoles>()?;
        let desired = DesiredOwnership {
            databases: databases
                .0
                .iter()
                .map(|(name, database)| {
                    let moves = DatabaseOwnership {
                        reassign_from: database.reassign_owned_from.clone(),
                        owner: database.owner.clone(),
                    };
                    (name.clone(), moves)
                })
                .collect(),
            dsn_roles: roles
                .0
                .iter()
                .filter(|(_, role)| role.dsn.is_some())
                .map(|(name, role)| (name.clone(), role.bypass_rls))
                .collect(),
        };
        facts.publish(ObjectOwnerMoves(
            desired
                .databases
                .iter()
                .filter(|(_, d)| !d.reassign_from.is_empty())
                .filter_map(|(name, d)| {
                    let owner = d.owner.clone()?;
                    Some((name.clone(), (d.reassign_from.clone(), owner)))
                })
                .collect(),
        ));
        Some(desired)
    }

    fn summary(_desired: Option<&DesiredOwnership>) -> Vec<(&'static str, usize)> {
        Vec::new()
    }

    async fn observe(desired: &DesiredOwnership, context: &Observe<'_>) -> Result<LiveOwnership> {
        observe::observe(&context.databases, desired).await
    }

    fn inputs(_facts: &Facts) {}

    fn diff(
        desired: &DesiredOwnership,
        live: &LiveOwnership,
        (): &(),
    ) -> Result<DomainDiff<Operation>, Errors> {
        Ok(diff::diff(desired, live))
    }

    async fn apply(
        _desired: &DesiredOwnership,
        changes: &[&Planned<Operation>],
        context: &mut Apply<'_>,
        sink: &dyn EventSink,
    ) -> Result<()> {
        apply::apply(context.admin, changes, context.timeout, sink).await
    }
}
