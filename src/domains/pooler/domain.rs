//! The pooler under the contract: reads the roles and the admin connection
//! the role domain publishes while resolving, the stored verifiers and the
//! rotating roles it publishes while planning, and at apply the verifiers
//! its transaction sent, so the auth file holds exactly what PostgreSQL has.

use std::collections::{BTreeMap, BTreeSet};

use super::desired::DesiredPooler;
use super::live::LivePooler;
use super::raw::RawPooler;
use super::{apply, diff, observe, render, resolve, Operation};
use crate::contract::facts::{
    AdminConnection, DeclaredRoles, RotatingRoles, SentVerifiers, StoredVerifiers,
};
use crate::contract::{Apply, Domain, DomainId, Facts, Observe};
use crate::diagnostics::Resolver;
use crate::error::{Errors, Result};
use crate::events::EventSink;
use crate::managed_files::grammar::{FieldError, Rendered};
use crate::managed_files::{Grammar, RenderedFile};
use crate::plan::{DomainDiff, Planned};

pub(crate) struct Pooler;

/// What the pooler's diff reads: each role's stored verifier, and the roles
/// whose verifier this apply sets.
pub(crate) struct Inputs {
    stored: BTreeMap<String, String>,
    rotating: BTreeSet<String>,
}

impl Domain for Pooler {
    const ID: DomainId = super::ID;
    /// The auth file follows the roles' passwords.
    const TARGET_BRINGS: &'static [&'static str] = &["postgres"];
    type Raw<'a> = Option<&'a RawPooler>;
    type Desired = DesiredPooler;
    type Live = LivePooler;
    type Operation = Operation;
    type Inputs = Inputs;
    type Outputs = ();

    fn resolve(
        raw: Option<&RawPooler>,
        facts: &mut Facts,
        r: &mut Resolver<'_>,
    ) -> Option<DesiredPooler> {
        let raw = raw?;
        let admin = facts.get::<AdminConnection>()?;
        let roles = facts.get::<DeclaredRoles>()?;
        resolve::resolve(raw, admin, roles, r)
    }

    fn summary(desired: Option<&DesiredPooler>) -> Vec<(&'static str, usize)> {
        vec![("poolers", usize::from(desired.is_some()))]
    }

    async fn observe(desired: &DesiredPooler, context: &Observe<'_>) -> Result<LivePooler> {
        observe::observe(desired, context.client, context.timeout).await
    }

    fn inputs(facts: &Facts) -> Inputs {
        Inputs {
            stored: facts.cloned::<StoredVerifiers>().0,
            rotating: facts.cloned::<RotatingRoles>().0,
        }
    }

    fn diff(
        desired: &DesiredPooler,
        live: &LivePooler,
        inputs: &Inputs,
    ) -> Result<DomainDiff<Operation>, Errors> {
        diff::diff(desired, live, &inputs.stored, &inputs.rotating)
    }

    async fn apply(
        desired: &DesiredPooler,
        changes: &[&Planned<Operation>],
        context: &mut Apply<'_>,
        sink: &dyn EventSink,
    ) -> Result<()> {
        let sent = context.facts.cloned::<SentVerifiers>().0;
        apply::apply(desired, changes, &sent, context.timeout, sink).await
    }

    /// pgbouncer.ini, its HBA file and the auth file (each user with a
    /// placeholder verifier).
    fn rendered(desired: &DesiredPooler) -> Vec<RenderedFile> {
        let mut files = Vec::new();
        let mut add = |grammar, rendered: Result<Rendered, Vec<FieldError>>| {
            if let Ok(rendered) = rendered {
                files.push(RenderedFile {
                    grammar,
                    content: rendered.content,
                    entries: rendered.entries,
                });
            }
        };
        add(Grammar::PgBouncerIni, render::ini(desired));
        if let Some(hba) = render::hba(desired) {
            add(Grammar::PgBouncerHba, hba);
        }
        let entries: Vec<(String, String)> = desired
            .users
            .iter()
            .map(|u| (u.clone(), "SCRAM-SHA-256$4096:c2FsdA==$a:b".to_string()))
            .collect();
        add(Grammar::PgBouncerAuth, render::auth_file(&entries));
        files
    }

    /// PostgreSQL already holds passwords the auth file was not rewritten with.
    fn unapplied(not_applied: &[&Planned<Operation>], facts: &Facts) -> Vec<String> {
        let auth_file_pending = not_applied
            .iter()
            .any(|p| matches!(p.operation, Operation::WriteAuthFile { .. }));
        let sent = facts.cloned::<SentVerifiers>().0;
        if !auth_file_pending || sent.is_empty() {
            return Vec::new();
        }
        let roles: Vec<String> = sent.keys().map(|r| format!("`{r}`")).collect();
        vec![format!(
            "PostgreSQL has the new password for {}; pgBouncer's auth file was not rewritten, so logins through the pooler fail until the next apply",
            roles.join(", ")
        )]
    }
}
