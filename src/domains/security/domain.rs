//! The security domain under the contract: what the file declares on
//! purpose comes from the role domain's facts; the posture is read and
//! judged by `health` (for `drift`, like backup health), so a plan sends no
//! statement more; the diff has nothing to plan and apply nothing to do.

use super::state::{DesiredSecurity, LiveSecurity};
use super::{diff, observe, Operation};
use crate::contract::facts::{AdminConnection, DeclaredDatabases, DeclaredRoles};
use crate::contract::{Apply, Domain, DomainId, Facts, Health, Observe};
use crate::diagnostics::Resolver;
use crate::error::{Errors, Result};
use crate::events::EventSink;
use crate::plan::{DomainDiff, Planned};

pub(crate) struct Security;

impl Domain for Security {
    const ID: DomainId = super::ID;
    type Raw<'a> = ();
    type Desired = DesiredSecurity;
    type Live = LiveSecurity;
    type Operation = Operation;
    type Inputs = ();
    type Outputs = ();

    fn resolve((): (), facts: &mut Facts, _r: &mut Resolver<'_>) -> Option<DesiredSecurity> {
        let admin = facts.get::<AdminConnection>()?;
        let roles = facts.get::<DeclaredRoles>()?;
        let mut databases: std::collections::BTreeSet<String> = facts
            .get::<DeclaredDatabases>()
            .map(|d| d.0.keys().cloned().collect())
            .unwrap_or_default();
        databases.insert(admin.dsn.database.clone());
        Some(DesiredSecurity {
            admin: admin.dsn.user.clone(),
            declared: roles.0.keys().cloned().collect(),
            managed_passwords: roles
                .0
                .iter()
                .filter(|(_, r)| r.password.is_some())
                .map(|(n, _)| n.clone())
                .collect(),
            databases,
        })
    }

    fn summary(_desired: Option<&DesiredSecurity>) -> Vec<(&'static str, usize)> {
        Vec::new()
    }

    async fn observe(_desired: &DesiredSecurity, _context: &Observe<'_>) -> Result<LiveSecurity> {
        Ok(LiveSecurity::default())
    }

    fn inputs(_facts: &Facts) {}

    fn diff(
        _desired: &DesiredSecurity,
        _live: &LiveSecurity,
        (): &(),
    ) -> Result<DomainDiff<Operation>, Errors> {
        Ok(DomainDiff::default())
    }

    async fn health(
        desired: &DesiredSecurity,
        context: &Observe<'_>,
        _sink: &dyn EventSink,
    ) -> Result<Health> {
        let live = observe::observe(&context.databases, desired).await?;
        let found = diff::diff(desired, &live);
        Ok(Health {
            findings: found.findings,
            notes: found.notes,
            samples: Vec::new(),
        })
    }

    async fn apply(
        _desired: &DesiredSecurity,
        _changes: &[&Planned<Operation>],
        _context: &mut Apply<'_>,
        _sink: &dyn EventSink,
    ) -> Result<()> {
        Ok(())
    }
}
