//! The dumps domain under the contract: resolved from `[dumps]` with the
//! managed databases and declared buckets; read by `health` only (a plan
//! sends nothing more); dumps themselves are taken by `dbops dump`.

use std::time::SystemTime;

use super::desired::{DesiredDumps, Destination};
use super::raw::RawDumps;
use super::{health, lifecycle, resolve, Operation};
use crate::contract::facts::{DeclaredBuckets, DeclaredDatabases, RequiredLifecycle};
use crate::contract::{Apply, Domain, DomainId, Facts, Health, Observe};
use crate::diagnostics::Resolver;
use crate::drill::settings::{RawRestoreTest, Source};
use crate::error::{Errors, Result};
use crate::events::{Event, EventName, EventSink, Level};
use crate::plan::{DomainDiff, Planned};

pub(crate) struct Dumps;

impl Domain for Dumps {
    const ID: DomainId = super::ID;
    type Raw<'a> = (Option<&'a RawDumps>, Option<&'a RawRestoreTest>);
    type Desired = DesiredDumps;
    type Live = ();
    type Operation = Operation;
    type Inputs = ();
    type Outputs = ();

    fn resolve(
        (raw, raw_test): (Option<&RawDumps>, Option<&RawRestoreTest>),
        facts: &mut Facts,
        r: &mut Resolver<'_>,
    ) -> Option<DesiredDumps> {
        let Some(raw) = raw else {
            if raw_test.is_some_and(|t| t.source == Some(Source::Dumps)) {
                r.error(
                    r.key(&["restore_test", "source"])
                        .error("is `dumps`, but no `[dumps]` is declared")
                        .hint("declare `[dumps]`, or write `source = \"physical\"`"),
                );
            }
            return None;
        };
        let managed = facts
            .get::<DeclaredDatabases>()
            .map(|d| d.0.keys().cloned().collect())
            .unwrap_or_default();
        let buckets = facts.get::<DeclaredBuckets>().cloned().unwrap_or_default();
        let desired = resolve::resolve(raw, raw_test, managed, &buckets, r)?;
        if let Destination::Bucket { bucket, prefix } = &desired.destination {
            let (errors, warnings) = lifecycle::lint(bucket, prefix, desired.retention);
            let key = r.key(&["dumps", "bucket"]);
            for warning in warnings {
                r.warn(key.warning(warning));
            }
            let failed = !errors.is_empty();
            for error in errors {
                r.error(error.key("dumps.bucket").at(key.location()));
            }
            if failed {
                return None;
            }
            let mut required = facts.cloned::<RequiredLifecycle>();
            required
                .0
                .entry(bucket.name.clone())
                .or_default()
                .extend(lifecycle::rules(prefix, desired.retention));
            facts.publish(required);
        }
        Some(desired)
    }

    fn summary(desired: Option<&DesiredDumps>) -> Vec<(&'static str, usize)> {
        vec![("dumped databases", desired.map_or(0, |d| d.databases.len()))]
    }

    async fn observe(_desired: &DesiredDumps, _context: &Observe<'_>) -> Result<()> {
        Ok(())
    }

    fn inputs(_facts: &Facts) {}

    fn diff(_desired: &DesiredDumps, (): &(), (): &()) -> Result<DomainDiff<Operation>, Errors> {
        Ok(DomainDiff::default())
    }

    async fn health(
        desired: &DesiredDumps,
        context: &Observe<'_>,
        sink: &dyn EventSink,
    ) -> Result<Health> {
        let now = SystemTime::now();
        let (observed, drills, requests) =
            health::observe(desired, context.timeout, context.deep, now).await?;
        sink.emit(
            Event::message(EventName::DumpsHealthRead, "dumps health read")
                .level(Level::Debug)
                .details(serde_json::json!({ "s3_requests": requests })),
        );
        Ok(health::check(desired, &observed, drills.as_ref(), now))
    }

    async fn apply(
        _desired: &DesiredDumps,
        _changes: &[&Planned<Operation>],
        _context: &mut Apply<'_>,
        _sink: &dyn EventSink,
    ) -> Result<()> {
        Ok(())
    }
}
