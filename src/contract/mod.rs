//! The domain contract: one interface every managed domain implements, like
//! Terraform's provider interface, so the engine never special-cases one.
//!
//! A domain has one name ([`DomainId`]): the engine groups apply steps and
//! `--target` selects by it, and its addresses start with its public word.
//! Through the [`Domain`] trait it resolves its section of the file,
//! observes its live state, diffs (pure), applies the changes planned for
//! it, and may report health findings. What it needs from another domain
//! arrives as typed [`facts`] that the producer publishes and it reads in
//! `inputs`; no domain imports another. This module never imports a domain,
//! the config parser, the engine, the renderers or the commands.

pub(crate) mod facts;

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

use serde::Serialize;
use tokio_postgres::Client;

use crate::diagnostics::Resolver;
use crate::dsn::Dsn;
use crate::error::{Errors, Result};
use crate::events::EventSink;
use crate::managed_files::RenderedFile;
use crate::pg::databases::Databases;
use crate::plan::{Address, DomainDiff, Finding, Planned};

pub(crate) use facts::{Fact, Facts};

/// A domain's one name: `name` inside dbops (steps, messages), `word` for
/// people (the first word of its addresses, and the `--target` value that
/// selects it; several domains may share one, as roles, grants, ownership
/// and settings share `postgres`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct DomainId {
    pub(crate) name: &'static str,
    pub(crate) word: &'static str,
}

impl DomainId {
    pub(crate) const fn new(name: &'static str, word: &'static str) -> Self {
        Self { name, word }
    }

    /// The start of every address of this domain.
    pub(crate) fn address(self) -> Address {
        Address::new(self.word)
    }
}

/// What a domain's health check found: findings, which `drift` reports and
/// may fail on, and notes, which change nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Health {
    pub(crate) findings: Vec<Finding>,
    pub(crate) notes: Vec<String>,
    /// What the check measured, for `--metrics-file` (timestamps, counts, sizes).
    pub(crate) samples: Vec<crate::metrics::Sample>,
}

/// What observing and health checks may use: the admin session, how to open
/// more, and the facts published so far.
pub(crate) struct Observe<'a> {
    pub(crate) client: &'a Client,
    /// `drift --deep`: read back what is cheap to trust (a dump's digest).
    pub(crate) deep: bool,
    pub(crate) timeout: Duration,
    pub(crate) facts: &'a Facts,
    /// Sessions to the cluster's databases (the admin's DSN, access and
    /// timeout), shared by every domain.
    pub(crate) databases: Databases<'a>,
}

/// What applying may use: the admin session (read-write), how to open more,
/// and the facts published so far in this apply (and before it).
pub(crate) struct Apply<'a> {
    pub(crate) client: &'a mut Client,
    pub(crate) admin: &'a Dsn,
    pub(crate) timeout: Duration,
    pub(crate) facts: &'a Facts,
}

/// The contract. Phases run in the registry's order (the order apply runs
/// in), so a domain reads only facts of domains before it, or facts
/// published while resolving.
pub(crate) trait Domain {
    const ID: DomainId;
    /// The `--target` words that targeting this domain brings along.
    const TARGET_BRINGS: &'static [&'static str] = &[];

    /// Its section(s) of the file, as the config parser produced them.
    type Raw<'a>;
    type Desired: Clone + Debug;
    /// Serialized whole into a saved plan's fingerprint: secrets only in a
    /// redacting type.
    type Live: Clone + Debug + Serialize;
    type Operation: Clone + Debug;
    /// The facts `diff` reads, taken from the board by `inputs`.
    type Inputs;
    /// The fact apply publishes (`()` when none).
    type Outputs: Fact;

    /// The desired state, `None` when the file does not declare the domain
    /// (or a problem was reported to `r`). May publish facts for later domains.
    fn resolve(
        raw: Self::Raw<'_>,
        facts: &mut Facts,
        r: &mut Resolver<'_>,
    ) -> Option<Self::Desired>;

    /// What `validate` counts: `(what, how many)`, zeros when not declared.
    fn summary(desired: Option<&Self::Desired>) -> Vec<(&'static str, usize)>;

    fn observe(
        desired: &Self::Desired,
        context: &Observe<'_>,
    ) -> impl Future<Output = Result<Self::Live>>;

    /// Statements sent to the admin session to observe, for the round-trip budget.
    fn statements(_live: &Self::Live) -> usize {
        0
    }

    fn inputs(facts: &Facts) -> Self::Inputs;

    /// Pure: no I/O.
    fn diff(
        desired: &Self::Desired,
        live: &Self::Live,
        inputs: &Self::Inputs,
    ) -> Result<DomainDiff<Self::Operation>, Errors>;

    /// Facts later domains read about this plan.
    fn publish(
        _desired: &Self::Desired,
        _live: &Self::Live,
        _diff: &DomainDiff<Self::Operation>,
        _facts: &mut Facts,
    ) {
    }

    /// Carries out one run of this domain's changes, in plan order, emitting
    /// each event once its change is durable.
    fn apply(
        desired: &Self::Desired,
        changes: &[&Planned<Self::Operation>],
        context: &mut Apply<'_>,
        sink: &dyn EventSink,
    ) -> impl Future<Output = Result<Self::Outputs>>;

    /// What is left inconsistent, in words, when `not_applied` of this
    /// domain's changes were not made because an apply stopped.
    fn unapplied(_not_applied: &[&Planned<Self::Operation>], _facts: &Facts) -> Vec<String> {
        Vec::new()
    }

    /// Every file this domain would write, rendered from the desired state
    /// alone (secrets a server holds stand in as placeholders).
    fn rendered(_desired: &Self::Desired) -> Vec<RenderedFile> {
        Vec::new()
    }

    /// Checks of live state for `drift` beyond the configuration.
    fn health(
        _desired: &Self::Desired,
        _context: &Observe<'_>,
        _sink: &dyn EventSink,
    ) -> impl Future<Output = Result<Health>> {
        async { Ok(Health::default()) }
    }
}
