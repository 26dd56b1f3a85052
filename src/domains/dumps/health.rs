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
use crate::drill::evidence::{read_back, Judge, MAX_EVIDENCE_BYTES};
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

/// What the drills from dumps left: read when `restore_test_max_age` is set.
#[derive(Debug, Clone, Default)]
pub(crate) struct Drills {
    /// The newest evidence that counts and passed: (where, when it ran).
    pub(crate) newest_passing: Option<(String, SystemTime)>,
    /// The newest evidence of all, when it failed: (where, when, why).
    pub(crate) newest_failed: Option<(String, SystemTime, String)>,
    /// Evidence that does not count, and why.
    pub(crate) rejected: Vec<(String, String)>,
    /// Evidence counted without a key to prove it.
    pub(crate) unauthenticated: bool,
    /// When the oldest complete set was dumped: a new deployment has one
    /// `restore_test_max_age` to run its first drill.
    pub(crate) first_set: Option<i64>,
    /// Where evidence is kept, for messages.
    pub(crate) root: String,
}

/// How many evidence files are read at most, newest first.
const EVIDENCE_READ: usize = 10;

/// How far back sets are listed: a bucket to a month past the longest
/// retention window (to see what outstayed it), one month prefix at a time;
/// a local directory whole.
pub(crate) fn listing_since(desired: &DesiredDumps, now: i64) -> i64 {
    let span = desired
        .retention
        .daily_days()
        .max(desired.retention.weekly_days())
        .max(desired.retention.monthly_days()) as i64;
    match desired.destination {
        Destination::Directory(_) => 0,
        Destination::Bucket { .. } => now - (span + 31) * 86_400,
    }
}

pub(crate) async fn observe(
    desired: &DesiredDumps,
    timeout: Duration,
    deep: bool,
    now: SystemTime,
) -> Result<(Vec<Observed>, Option<Drills>, usize)> {
    let store = Store::open(&desired.destination, timeout).await;
    let now = unix(now);
    let since = listing_since(desired, now);
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
    let drills = match desired.restore_test_max_age {
        Some(threshold) => Some(drills(desired, &store, &out, threshold, now).await?),
        None => None,
    };
    Ok((out, drills, store.requests()))
}

/// The newest drill evidence under `dump-tests/`, judged: only evidence of
/// a drill from dumps that names sets still kept (or expired since) and,
/// with `[restore_test] evidence_key`, carries its signature counts.
async fn drills(
    desired: &DesiredDumps,
    store: &Store,
    observed: &[Observed],
    threshold: Duration,
    now: i64,
) -> Result<Drills> {
    let complete: Vec<&SetEntry> = observed
        .iter()
        .flat_map(|o| o.sets.iter().filter(|s| s.complete))
        .collect();
    let catalogue: Vec<String> = complete.iter().map(|s| s.location.clone()).collect();
    let first = complete.iter().map(|s| s.at).min();
    let key = desired
        .restore_test
        .evidence_key
        .as_ref()
        .map(|k| k.expose_secret().as_bytes().to_vec());
    let judge = Judge {
        key: key.as_deref(),
        catalogue: &catalogue,
        oldest_kept: first.map(|t| SystemTime::UNIX_EPOCH + Duration::from_secs(t.max(0) as u64)),
        copies: &[],
    };
    let mut drills = Drills {
        first_set: first,
        root: store.evidence_root(),
        ..Drills::default()
    };
    // A day more than the threshold: an older pass is stale anyway.
    let since = now - threshold.as_secs() as i64 - 86_400;
    let now_time = SystemTime::UNIX_EPOCH + Duration::from_secs(now.max(0) as u64);
    for entry in store
        .evidence(since, now)
        .await?
        .into_iter()
        .take(EVIDENCE_READ)
    {
        let uri = store.uri(&entry.location, "evidence.json");
        let read = store
            .read_small(&entry.location, "evidence.json", MAX_EVIDENCE_BYTES)
            .await;
        let judged = match read {
            Err(e) => Err(format!("it could not be read: {}", e.message())),
            Ok(bytes) => read_back(&bytes, "dumps", &judge, &entry.date, now_time),
        };
        match judged {
            Ok(Some((ran, evidence))) => {
                if judge.key.is_none() {
                    drills.unauthenticated = true;
                }
                if evidence.passed {
                    drills.newest_passing = Some((uri, ran));
                    break;
                }
                if drills.newest_failed.is_none() {
                    let why = evidence.failure.unwrap_or_else(|| "it did not pass".into());
                    drills.newest_failed = Some((uri, ran, why));
                }
            }
            Ok(None) => {}
            Err(why) => drills.rejected.push((uri, why)),
        }
    }
    Ok(drills)
}

/// `dumps.health.restore_test`: the newest drill failed, the newest pass
/// is older than `restore_test_max_age`, none passed once the first set
/// is that old, or evidence that does not count.
fn restore_tests(threshold: Duration, drills: &Drills, now: i64) -> Vec<Finding> {
    let address = super::ID.address().name("restore_test");
    let finding = |message: String| {
        Finding::new(
            "dumps.health.restore_test",
            FindingClass::Health,
            address.clone(),
            message,
        )
    };
    let now_time = SystemTime::UNIX_EPOCH + Duration::from_secs(now.max(0) as u64);
    let mut out = Vec::new();
    if let Some((uri, ran, why)) = &drills.newest_failed {
        out.push(
            finding(format!(
                "the newest restore test from dumps failed ({} ago): {why}; it stands until a later test passes",
                short(now_time.duration_since(*ran).unwrap_or_default())
            ))
            .detail("object", uri.clone()),
        );
    }
    match &drills.newest_passing {
        Some((uri, ran)) => {
            let age = now_time.duration_since(*ran).unwrap_or_default();
            if age > threshold {
                out.push(
                    finding(format!(
                        "the newest passing restore test from dumps is {} old, older than the threshold of {}",
                        short(age),
                        short(threshold)
                    ))
                    .detail("object", uri.clone())
                    .detail("age_seconds", age.as_secs())
                    .detail("threshold_seconds", threshold.as_secs()),
                );
            }
        }
        None => {
            let due = drills
                .first_set
                .is_some_and(|first| now - first > threshold.as_secs() as i64);
            if due {
                out.push(
                    finding(format!(
                        "no passing restore test from dumps within {} under `{}`, and the first dump is older than that",
                        short(threshold),
                        drills.root
                    ))
                    .detail("prefix", drills.root.clone())
                    .detail("threshold_seconds", threshold.as_secs())
                    .detail("hint", "run `dbops restore-test --source dumps`"),
                );
            }
        }
    }
    for (uri, why) in drills.rejected.iter().take(3) {
        out.push(
            finding(format!(
                "restore-test evidence `{uri}` does not count: {why}"
            ))
            .detail("object", uri.clone()),
        );
    }
    out
}

/// Pure.
pub(crate) fn check(
    desired: &DesiredDumps,
    observed: &[Observed],
    drills: Option<&Drills>,
    now: SystemTime,
) -> Health {
    let now = unix(now);
    let mut health = Health::default();
    if let (Some(threshold), Some(drills)) = (desired.restore_test_max_age, drills) {
        health
            .findings
            .extend(restore_tests(threshold, drills, now));
        if drills.unauthenticated && desired.restore_test.evidence_key.is_none() {
            health.notes.push("restore-test evidence from dumps is unauthenticated: anyone who can write to the destination can make it; set `[restore_test] evidence_key` so drift counts only evidence restore-test signed".into());
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    fn at(seconds: i64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds as u64)
    }

    fn messages(drills: &Drills, now: i64) -> Vec<String> {
        restore_tests(Duration::from_secs(35 * DAY as u64), drills, now)
            .into_iter()
            .map(|f| f.message)
            .collect()
    }

    #[test]
    fn a_drill_from_dumps_is_due_once_the_first_set_is_older_than_the_threshold() {
        let now = 400 * DAY;
        let young = Drills {
            first_set: Some(now - 10 * DAY),
            ..Drills::default()
        };
        assert!(messages(&young, now).is_empty());
        let old = Drills {
            first_set: Some(now - 40 * DAY),
            root: "/var/backups/dbops/dump-tests".into(),
            ..Drills::default()
        };
        assert_eq!(
            messages(&old, now),
            ["no passing restore test from dumps within 35d under `/var/backups/dbops/dump-tests`, and the first dump is older than that"]
        );
        // No set at all: the stale-dump finding speaks; no drill is due.
        assert!(messages(&Drills::default(), now).is_empty());
    }

    #[test]
    fn a_stale_pass_and_a_newer_failure_are_findings_and_a_recent_pass_is_not() {
        let now = 400 * DAY;
        let recent = Drills {
            first_set: Some(0),
            newest_passing: Some(("e".into(), at(now - DAY))),
            ..Drills::default()
        };
        assert!(messages(&recent, now).is_empty());
        let stale = Drills {
            newest_passing: Some(("e".into(), at(now - 36 * DAY))),
            ..recent.clone()
        };
        assert_eq!(
            messages(&stale, now),
            ["the newest passing restore test from dumps is 36d old, older than the threshold of 35d"]
        );
        let failed = Drills {
            newest_failed: Some(("f".into(), at(now - 3600), "1 check(s) failed".into())),
            rejected: vec![("g".into(), "it is not evidence this dbops reads".into())],
            ..recent
        };
        assert_eq!(
            messages(&failed, now),
            [
                "the newest restore test from dumps failed (1h ago): 1 check(s) failed; it stands until a later test passes",
                "restore-test evidence `g` does not count: it is not evidence this dbops reads"
            ]
        );
    }
}
