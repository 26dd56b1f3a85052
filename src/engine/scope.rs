//! `--target DOMAIN`: which domains a run plans and applies, named by the
//! first word of their addresses, like Terraform's `-target`. A domain left
//! out is not read (its files, its remote API) and gets no change; the
//! registry restricts the desired state before observing, and the session
//! drops the left-out changes after the diff. Targets pull in what they
//! depend on: the pooler's auth file follows the roles' passwords, so
//! `pooler` brings `postgres` along.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::registry::DesiredState;
use crate::plan::Plan;

/// A domain `--target` can name.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    clap::ValueEnum,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Domain {
    /// Roles, databases, memberships, grants, ownership and server settings.
    Postgres,
    /// The buckets' S3 configuration (and, for drift, backup health).
    Bucket,
    /// The backup tool's rendered files, on the database host.
    Backup,
    /// pgBouncer's files and admin console, on the database host.
    Pooler,
}

impl Domain {
    pub fn name(self) -> &'static str {
        match self {
            Domain::Postgres => "postgres",
            Domain::Bucket => "bucket",
            Domain::Backup => "backup",
            Domain::Pooler => "pooler",
        }
    }
}

/// What a run covers: everything (no `--target`), or the targeted domains.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    targets: BTreeSet<Domain>,
}

impl Scope {
    pub fn new(targets: &[Domain]) -> Self {
        let mut targets: BTreeSet<Domain> = targets.iter().copied().collect();
        if targets.contains(&Domain::Pooler) {
            targets.insert(Domain::Postgres);
        }
        Self { targets }
    }

    pub fn everything(&self) -> bool {
        self.targets.is_empty()
    }

    pub fn includes(&self, domain: Domain) -> bool {
        self.targets.is_empty() || self.targets.contains(&domain)
    }

    /// The targeted domains, for plan files and messages.
    pub fn targets(&self) -> Vec<Domain> {
        self.targets.iter().copied().collect()
    }

    /// `postgres`, `bucket` for messages.
    pub fn describe(&self) -> String {
        self.targets
            .iter()
            .map(|d| format!("`{}`", d.name()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Drops what a left-out domain would read: buckets, the backup tool's
    /// files, the pooler. PostgreSQL is always read (the session is on it,
    /// and the pooler's auth file derives from it).
    pub fn restrict(&self, desired: &mut DesiredState) {
        if !self.includes(Domain::Bucket) {
            desired.buckets.clear();
        }
        if !self.includes(Domain::Backup) {
            if let Some(backup) = desired.backup.as_mut() {
                backup.files.clear();
            }
        }
        if !self.includes(Domain::Pooler) {
            desired.pooler = None;
        }
        if !self.everything() {
            super::registry::drop_untargetable(desired);
        }
    }

    /// Keeps the changes and pending restarts of the targeted domains.
    pub fn filter<O>(&self, plan: &mut Plan<O>) {
        if self.everything() {
            return;
        }
        let keep = |domain: &str| self.targets.iter().any(|d| d.name() == domain);
        plan.changes.retain(|c| keep(c.change.address.domain()));
        plan.pending.retain(|p| keep(p.address.domain()));
    }

    /// Terraform's warning, for stderr.
    pub fn warning(&self) -> Option<String> {
        if self.everything() {
            return None;
        }
        let left_out: Vec<String> = [
            Domain::Postgres,
            Domain::Bucket,
            Domain::Backup,
            Domain::Pooler,
        ]
        .into_iter()
        .filter(|d| !self.targets.contains(d))
        .map(|d| format!("`{}`", d.name()))
        .collect();
        Some(format!(
            "`--target` is in effect: planning {} only; {} were not read and may have drifted. A password rotated here reaches pgBouncer's auth file only when `pooler` is targeted too. Run a full plan and apply where every file is visible (docs/ci.md).",
            self.describe(),
            left_out.join(", ")
        ))
    }
}
