//! Dump health, for `drift` (ids `dumps.health.*`): per database, the
//! newest complete set is younger than `max_age`; no set without a
//! manifest is older than an hour (a dump that died); the newest dump did
//! not shrink by more than half; the sets kept are what the retention
//! windows say (no gap in the daily window, nothing left past it); and the
//! newest dump is what its manifest says (its listed size by default, its
//! SHA-256 recomputed with `drift --deep`). A bucket is listed by class,
//! database and month, so the cost follows the retention, not the history.

use std::time::{Duration, SystemTime};

use super::desired::{DesiredDumps, Destination};
use super::manifest::Manifest;
use super::retention::{keep, Dated};
use super::store::{unix, SetEntry, Store};
use crate::contract::Health;
use crate::error::Result;
use crate::metrics::{catalogue as m, Sample};
use crate::plan::{Address, Finding, FindingClass};
use crate::util::durations::short;

/// A set without a manifest is a failed dump once it is this old.
const INCOMPLETE_GRACE: i64 = 3600;

/// One database's sets and what the newest complete one says.
#[derive(Debug, Clone, Default)]
pub(crate) struct Observed {
    pub(crate) database: String,
    pub(crate) sets: Vec<SetEntry>,
    /// The newest complete set's manifest, or why it could not be read.
    pub(crate) manifest: Option<std::result::Result<Manifest, String>>,
    /// With `--deep`: the newest dump's bytes and SHA-256 recomputed.
    pub(crate) recomputed: Option<std::result::Result<(u64, String), String>>,
}

pub(crate) async fn observe(
    desired: &DesiredDumps,
    timeout: Duration,
    deep: bool,
    now: SystemTime,
) -> Result<(Vec<Observed>, usize)> {
    let store = Store::open(&desired.destination, timeout).await;
    let now = unix(now);
    let span = desired
        .retention
        .daily_days()
        .max(desired.retention.weekly_days())
        .max(desired.retention.monthly_days()) as i64;
    // A bucket is read back to a month past the longest window (to see
    // what outstayed it); a local directory is read whole.
    let since = match desired.destination {
        Destination::Directory(_) => 0,
        Destination::Bucket { .. } => now - (span + 31) * 86_400,
    };
    let mut out = Vec::new();
    for database in &desired.databases {
        let sets = store.list(database, since).await?;
        let newest = sets.iter().rev().find(|s| s.complete).cloned();
        let manifest = match &newest {
            Some(set) => Some(
                store
                    .manifest(&set.location)
                    .await
                    .map_err(|e| e.message().to_string()),
            ),
            None => None,
        };
        let recomputed = match (&newest, &manifest, deep) {
            (Some(set), Some(Ok(manifest)), true) if manifest.format == "custom" => {
                let digest = async {
                    let mut reader = store
                        .open_read(&set.location, &manifest.files[0].name)
                        .await?;
                    super::run::digest(&mut reader).await
                }
                .await;
                Some(digest.map_err(|e| e.message().to_string()))
            }
            _ => None,
        };
        out.push(Observed {
            database: database.clone(),
            sets,
            manifest,
            recomputed,
        });
    }
    Ok((out, store.requests()))
}

/// Pure.
pub(crate) fn check(desired: &DesiredDumps, observed: &[Observed], now: SystemTime) -> Health {
    let now = unix(now);
    let mut health = Health::default();
    for db in observed {
        let address = super::ID.address().name(db.database.clone());
        let complete: Vec<&SetEntry> = db.sets.iter().filter(|s| s.complete).collect();
        let newest = complete.last();
        health.samples.push(
            Sample::new(&m::DUMP_NEWEST, newest.map_or(0.0, |s| s.at as f64))
                .label(db.database.clone()),
        );
        health
            .samples
            .push(Sample::new(&m::DUMP_SETS, complete.len() as f64).label(db.database.clone()));
        if let Some(newest) = newest {
            health.samples.push(
                Sample::new(&m::DUMP_NEWEST_BYTES, newest.dump_bytes as f64)
                    .label(db.database.clone()),
            );
        }
        health
            .findings
            .extend(freshness(desired, db, newest.copied(), &address, now));
        health.findings.extend(incomplete(db, &address, now));
        if let [.., previous, newest] = complete.as_slice() {
            if newest.dump_bytes * 2 < previous.dump_bytes {
                health.findings.push(
                    Finding::new(
                        "dumps.health.shrunk",
                        FindingClass::Health,
                        address.clone(),
                        format!(
                            "the newest dump of `{}` ({} bytes) is less than half the one before ({} bytes): a table emptied, or a dump of the wrong database",
                            db.database, newest.dump_bytes, previous.dump_bytes
                        ),
                    )
                    .detail("bytes", newest.dump_bytes)
                    .detail("previous_bytes", previous.dump_bytes)
                    .detail("object", newest.location.clone()),
                );
            }
        }
        health
            .findings
            .extend(retention(desired, db, &address, now));
        health
            .findings
            .extend(integrity(db, newest.copied(), &address));
    }
    health
}

fn freshness(
    desired: &DesiredDumps,
    db: &Observed,
    newest: Option<&SetEntry>,
    address: &Address,
    now: i64,
) -> Option<Finding> {
    let threshold = desired.max_age.as_secs() as i64;
    let message = match newest {
        None => format!(
            "no complete dump of `{}` in `{}` (threshold {})",
            db.database,
            desired.destination.describe(),
            short(desired.max_age)
        ),
        Some(set) if now - set.at > threshold => format!(
            "the newest complete dump of `{}` is {} old (threshold {}): `{}`",
            db.database,
            short(Duration::from_secs((now - set.at).max(0) as u64)),
            short(desired.max_age),
            set.location
        ),
        Some(_) => return None,
    };
    let mut finding = Finding::new(
        "dumps.health.stale",
        FindingClass::Health,
        address.clone(),
        message,
    )
    .detail("threshold_seconds", threshold);
    if let Some(set) = newest {
        finding = finding
            .detail("age_seconds", (now - set.at).max(0))
            .detail("object", set.location.clone());
    }
    Some(finding.detail(
        "hint",
        "run `dbops dump` (see docs/backup.md for a cron line or a sidecar)",
    ))
}

fn incomplete(db: &Observed, address: &Address, now: i64) -> Option<Finding> {
    let failed: Vec<&SetEntry> = db
        .sets
        .iter()
        .filter(|s| {
            let last = s.modified.map_or(s.at, unix);
            !s.complete && now - last.max(s.at) > INCOMPLETE_GRACE
        })
        .collect();
    let newest = failed.last()?;
    Some(
        Finding::new(
            "dumps.health.incomplete",
            FindingClass::Health,
            address.clone(),
            format!(
                "{} dump set(s) of `{}` have no manifest an hour on (a dump that failed or was killed), the newest `{}`; they never count as backups",
                failed.len(),
                db.database,
                newest.location
            ),
        )
        .detail("sets", failed.len())
        .detail("object", newest.location.clone()),
    )
}

fn retention(desired: &DesiredDumps, db: &Observed, address: &Address, now: i64) -> Vec<Finding> {
    let mut out = Vec::new();
    let dated: Vec<Dated> = db
        .sets
        .iter()
        .map(|s| Dated {
            at: s.at,
            complete: s.complete,
        })
        .collect();
    let kept = keep(&dated, desired.retention, now);
    let outside: Vec<&SetEntry> = db
        .sets
        .iter()
        .zip(&kept)
        .filter(|(_, k)| !**k)
        .map(|(s, _)| s)
        .collect();
    if let Some(oldest) = outside.first() {
        let enforcer = match desired.destination {
            Destination::Directory(_) => "`dbops dump` prunes them after its next success",
            Destination::Bucket { .. } => "the bucket's lifecycle rules do not expire them: apply the rules `dbops plan` shows",
        };
        out.push(
            Finding::new(
                "dumps.health.retention",
                FindingClass::Health,
                address.clone(),
                format!(
                    "{} set(s) of `{}` are outside the retention windows, the oldest `{}`; {enforcer}",
                    outside.len(),
                    db.database,
                    oldest.location
                ),
            )
            .detail("sets", outside.len())
            .detail("object", oldest.location.clone()),
        );
    }
    // Gaps: a whole day inside the daily window, after the first dump,
    // without a complete set (when dumps run at least daily).
    let first = db.sets.iter().find(|s| s.complete).map(|s| s.at);
    if let (Some(first), true) = (first, desired.interval <= Duration::from_secs(86_400)) {
        let today = now.div_euclid(86_400);
        let mut gaps = Vec::new();
        for day in (today - desired.retention.daily_days() as i64 + 1)
            .max(first.div_euclid(86_400) + 1)..today
        {
            if !db
                .sets
                .iter()
                .any(|s| s.complete && s.at.div_euclid(86_400) == day)
            {
                gaps.push(super::layout::stamp(day * 86_400)[..10].to_string());
            }
        }
        if !gaps.is_empty() {
            out.push(
                Finding::new(
                    "dumps.health.retention",
                    FindingClass::Health,
                    address.clone(),
                    format!(
                        "no complete dump of `{}` on {} day(s) inside the daily window: {}",
                        db.database,
                        gaps.len(),
                        gaps.join(", ")
                    ),
                )
                .detail("gaps", gaps.len()),
            );
        }
    }
    out
}

fn integrity(db: &Observed, newest: Option<&SetEntry>, address: &Address) -> Option<Finding> {
    let newest = newest?;
    let message = match (&db.manifest, &db.recomputed) {
        (Some(Err(why)), _) => format!("the newest manifest of `{}` cannot be read: {why}", db.database),
        (Some(Ok(manifest)), _) if manifest.bytes != newest.dump_bytes => format!(
            "the newest dump of `{}` holds {} bytes where its manifest says {}: `{}`",
            db.database, newest.dump_bytes, manifest.bytes, newest.location
        ),
        (Some(Ok(manifest)), Some(Ok((_, sha256)))) if *sha256 != manifest.sha256 => format!(
            "the newest dump of `{}` does not match its manifest's SHA-256 (read back: {sha256}, manifest: {}): `{}`",
            db.database, manifest.sha256, newest.location
        ),
        (_, Some(Err(why))) => format!("the newest dump of `{}` cannot be read back: {why}", db.database),
        _ => return None,
    };
    Some(
        Finding::new(
            "dumps.health.digest",
            FindingClass::Health,
            address.clone(),
            message,
        )
        .detail("object", newest.location.clone()),
    )
}
