//! Privileges under the contract: resolves `[[grants]]` with the DSN roles
//! the role domain publishes (a DSN role keeps CONNECT on its database), and
//! publishes the roles it names and the CONNECT it governs; its diff reads
//! which roles and databases will exist and which owners move.

use super::desired::DesiredGrants;
use super::diff::Context;
use super::live::LiveGrants;
use super::raw::RawGrant;
use super::{apply, diff, observe, resolve, Operation};
use crate::contract::facts::{
    AbsentRoles, CreatedDatabases, DatabaseOwnerMoves, DeclaredRoles, GovernedConnect, KnownRoles,
    ObjectOwnerMoves, ReferencedRoles,
};
use crate::contract::{Apply, Domain, DomainId, Facts, Observe};
use crate::diagnostics::Resolver;
use crate::error::{Errors, Result};
use crate::events::EventSink;
use crate::plan::{DomainDiff, Planned};

pub(crate) struct Grants;

impl Domain for Grants {
    const ID: DomainId = super::ID;
    type Raw<'a> = &'a [RawGrant];
    type Desired = DesiredGrants;
    type Live = LiveGrants;
    type Operation = Operation;
    type Inputs = Context;
    type Outputs = ();

    fn resolve(raw: &[RawGrant], facts: &mut Facts, r: &mut Resolver<'_>) -> Option<DesiredGrants> {
        let (grants, governed) = resolve::resolve(raw, facts.get::<DeclaredRoles>(), r);
        let absent = facts.cloned::<AbsentRoles>().0;
        for role in grants.roles().intersection(&absent) {
            r.error(r.key(&["roles", role, "absent"]).error(format!(
                "role `{role}` is `absent`, but `[[grants]]` gives it privileges: a dropped role holds none"
            )).hint("remove those grants, or remove `absent`"));
        }
        facts.publish(GovernedConnect(governed));
        facts.publish(ReferencedRoles(grants.roles()));
        Some(grants)
    }

    fn summary(desired: Option<&DesiredGrants>) -> Vec<(&'static str, usize)> {
        vec![("grants", desired.map_or(0, |d| d.grants.len()))]
    }

    async fn observe(desired: &DesiredGrants, context: &Observe<'_>) -> Result<LiveGrants> {
        observe::observe(&context.databases, desired).await
    }

    fn statements(live: &LiveGrants) -> usize {
        live.statements
    }

    fn inputs(facts: &Facts) -> Context {
        Context {
            known_roles: facts.cloned::<KnownRoles>().0,
            created_databases: facts.cloned::<CreatedDatabases>().0,
            database_owner_changes: facts.cloned::<DatabaseOwnerMoves>().0,
            reassigned: facts.cloned::<ObjectOwnerMoves>().0,
        }
    }

    fn diff(
        desired: &DesiredGrants,
        live: &LiveGrants,
        context: &Context,
    ) -> Result<DomainDiff<Operation>, Errors> {
        diff::diff(desired, live, context)
    }

    async fn apply(
        _desired: &DesiredGrants,
        changes: &[&Planned<Operation>],
        context: &mut Apply<'_>,
        sink: &dyn EventSink,
    ) -> Result<()> {
        apply::apply(context.admin, changes, context.timeout, sink).await
    }
}
