//! A test-only domain, compiled with the `example-domain` feature: it manages
//! one text file from `[example_domain]`, followed by the roles the file
//! declares (a fact the role domain publishes), and publishes the text it
//! plans to write (a fact of its own, which its apply checks). It exists to prove the recipe in
//! docs/architecture.md: a domain is its own folder, plus one line in
//! `domains/mod.rs`, one field in `config/raw.rs` and one line in the
//! registry's table. It never ships in a release build.

pub(crate) mod diff;
pub(crate) mod raw;
pub(crate) mod resolve;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::contract::facts::DeclaredRoles;
use crate::contract::{Apply, Domain, DomainId, Fact, Facts, Observe};
use crate::diagnostics::Resolver;
use crate::error::{Error, Errors, Result};
use crate::events::{Event, EventName, EventSink};
use crate::plan::{DomainDiff, Planned};
use diff::Operation;

/// The file the section declares.
#[derive(Debug, Clone)]
pub(crate) struct Desired {
    pub(crate) path: PathBuf,
    pub(crate) text: String,
}

/// The file as found: its text, or `None` when missing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Live {
    pub(crate) text: Option<String>,
}

/// What this domain plans to write: a fact of its own, for whoever reads it.
#[derive(Debug, Clone, Default)]
pub(crate) struct PlannedText(pub(crate) BTreeMap<PathBuf, String>);
impl Fact for PlannedText {}

pub(crate) struct Example;

impl Domain for Example {
    const ID: DomainId = DomainId::new("example", "example_domain");
    type Raw<'a> = Option<&'a raw::RawExample>;
    type Desired = Desired;
    type Live = Live;
    type Operation = Operation;
    /// The roles the file declares, from the role domain.
    type Inputs = Vec<String>;
    type Outputs = ();

    fn resolve(raw: Self::Raw<'_>, _facts: &mut Facts, r: &mut Resolver<'_>) -> Option<Desired> {
        r.check(resolve::resolve(raw?, r))
    }

    fn summary(desired: Option<&Desired>) -> Vec<(&'static str, usize)> {
        vec![("example files", usize::from(desired.is_some()))]
    }

    async fn observe(desired: &Desired, _context: &Observe<'_>) -> Result<Live> {
        match std::fs::read_to_string(&desired.path) {
            Ok(text) => Ok(Live { text: Some(text) }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Live { text: None }),
            Err(e) => Err(Error::new(format!(
                "cannot read `{}`: {}",
                desired.path.display(),
                crate::util::files::io_reason(&e)
            ))),
        }
    }

    fn inputs(facts: &Facts) -> Vec<String> {
        facts
            .get::<DeclaredRoles>()
            .map(|roles| roles.0.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn diff(
        desired: &Desired,
        live: &Live,
        roles: &Vec<String>,
    ) -> Result<DomainDiff<Operation>, Errors> {
        Ok(diff::diff(desired, live, roles))
    }

    fn publish(desired: &Desired, _live: &Live, _diff: &DomainDiff<Operation>, facts: &mut Facts) {
        let text = diff::content(desired, &Self::inputs(facts));
        facts.publish(PlannedText(BTreeMap::from([(desired.path.clone(), text)])));
    }

    /// Writes what the plan published, and nothing else.
    async fn apply(
        _desired: &Desired,
        changes: &[&Planned<Operation>],
        context: &mut Apply<'_>,
        sink: &dyn EventSink,
    ) -> Result<()> {
        let planned_text = context.facts.cloned::<PlannedText>().0;
        for planned in changes {
            let Operation::Write { path, text } = &planned.operation;
            if planned_text.get(path) != Some(text) {
                return Err(Error::internal(
                    "the example file differs from the planned text",
                ));
            }
            crate::util::files::write_atomic(path, text.as_bytes(), 0o644, None)?;
            sink.emit(Event::new(EventName::FileWritten, &planned.change.address));
        }
        Ok(())
    }
}
