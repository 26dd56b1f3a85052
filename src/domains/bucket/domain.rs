//! Buckets under the contract: every `[bucket.NAME]` resolved and published
//! (the backup domain reads and writes its bucket through the same
//! declaration), observed and converged one bucket after another.

use std::collections::BTreeMap;

use super::live::LiveBucket;
use super::raw::RawBucket;
use super::{apply, diff, observe, resolve, Operation};
use crate::contract::facts::{DeclaredBuckets, RequiredLifecycle};
use crate::contract::{Apply, Domain, DomainId, Facts, Observe};
use crate::diagnostics::Resolver;
use crate::error::{Errors, Result};
use crate::events::EventSink;
use crate::plan::{DomainDiff, Planned};
use crate::s3::BucketSpec;

pub(crate) struct Buckets;

impl Domain for Buckets {
    const ID: DomainId = super::ID;
    type Raw<'a> = &'a BTreeMap<String, RawBucket>;
    type Desired = Vec<BucketSpec>;
    type Live = BTreeMap<String, LiveBucket>;
    type Operation = Operation;
    /// Rules other domains need in the buckets they write.
    type Inputs = RequiredLifecycle;
    type Outputs = ();

    fn resolve(
        raw: &BTreeMap<String, RawBucket>,
        facts: &mut Facts,
        r: &mut Resolver<'_>,
    ) -> Option<Vec<BucketSpec>> {
        let mut buckets = Vec::new();
        let mut invalid = Vec::new();
        for (name, bucket) in raw {
            match resolve::resolve(name, bucket, r) {
                Some(spec) => buckets.push(spec),
                None => invalid.push(name.clone()),
            }
        }
        facts.publish(DeclaredBuckets {
            valid: buckets.clone(),
            invalid,
        });
        (!buckets.is_empty()).then_some(buckets)
    }

    fn summary(desired: Option<&Vec<BucketSpec>>) -> Vec<(&'static str, usize)> {
        vec![("buckets", desired.map_or(0, Vec::len))]
    }

    async fn observe(
        desired: &Vec<BucketSpec>,
        context: &Observe<'_>,
    ) -> Result<BTreeMap<String, LiveBucket>> {
        let mut live = BTreeMap::new();
        // Rules other domains need are read like declared ones.
        let required = context.facts.cloned::<RequiredLifecycle>();
        for bucket in desired {
            let bucket = with_required(bucket, &required);
            live.insert(
                bucket.name.clone(),
                observe::observe(&bucket, context.timeout).await?,
            );
        }
        Ok(live)
    }

    fn inputs(facts: &Facts) -> RequiredLifecycle {
        facts.cloned::<RequiredLifecycle>()
    }

    fn diff(
        desired: &Vec<BucketSpec>,
        live: &BTreeMap<String, LiveBucket>,
        required: &RequiredLifecycle,
    ) -> Result<DomainDiff<Operation>, Errors> {
        let mut out = DomainDiff::default();
        let mut errors = Vec::new();
        for bucket in desired {
            let missing = LiveBucket::default();
            let bucket = &with_required(bucket, required);
            match diff::diff(bucket, live.get(&bucket.name).unwrap_or(&missing)) {
                Ok(diff) => out.append(diff, |o| o),
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(Errors::new(errors))
        }
    }

    async fn apply(
        desired: &Vec<BucketSpec>,
        changes: &[&Planned<Operation>],
        context: &mut Apply<'_>,
        sink: &dyn EventSink,
    ) -> Result<()> {
        apply::apply(desired, changes, context.timeout, sink).await
    }
}

/// The declared rules plus those other domains need (theirs win by id).
fn with_required(bucket: &BucketSpec, required: &RequiredLifecycle) -> BucketSpec {
    let Some(extra) = required.0.get(&bucket.name) else {
        return bucket.clone();
    };
    let mut merged = bucket.clone();
    let mut rules: Vec<_> = bucket
        .lifecycle
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|r| !extra.iter().any(|e| e.id == r.id))
        .collect();
    rules.extend(extra.iter().cloned());
    merged.lifecycle = Some(rules);
    merged
}
