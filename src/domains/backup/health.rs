//! Backup health, for `dbops drift`: is archiving working, are full backups
//! taken and kept as the policy says, and has a restore test passed lately?
//!
//! WAL freshness is judged from the server's point of view
//! (`pg_stat_archiver`, the archive status directory, the current WAL
//! position): WAL is stale only when it was written and not archived within
//! the threshold, so an idle server with nothing to archive is healthy. The
//! bucket is then asked only whether the newest segment the server archived
//! is there (one or two requests, whatever the history kept). Full backups
//! come from one listing of the tool's backup prefix; restore-test evidence is
//! read and must parse and say it passed. Observing reads; [`check`] is pure.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use tokio_postgres::Client;

use super::chain_state;
use super::desired::{BackupTool, DesiredBackup};
use super::listing::Capped;
use super::listing::{is_segment, Lister};
use crate::drill::evidence::{read_back, CopyCatalogue, Evidence, Judge, MAX_EVIDENCE_BYTES};
use crate::drill::settings::Verify;
use crate::error::{Error, Result};
use crate::metrics::{catalogue as m, Sample};
use crate::plan::{Finding, FindingClass};
use crate::s3::client::client;
use crate::s3::BucketSpec;
use crate::util::durations::short;

/// The server's archiver, as `pg_stat_archiver` and the WAL position show it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Archiver {
    pub(crate) in_recovery: bool,
    pub(crate) archived_count: i64,
    pub(crate) last_archived_wal: Option<String>,
    /// Seconds since the last success, by the server's clock.
    pub(crate) last_archived_age: Option<f64>,
    pub(crate) failed_count: i64,
    pub(crate) last_failed_wal: Option<String>,
    pub(crate) last_failed_age: Option<f64>,
    /// Seconds since the server started (archiving starts with it).
    pub(crate) uptime: f64,
    /// Segments waiting in `archive_status/*.ready`, and the oldest's age;
    /// `None` when the role may not read the directory.
    pub(crate) ready: Option<(i64, Option<f64>)>,
    /// More than one WAL page was written after the end of the last archived
    /// segment (a quiet server's own records stay below it).
    pub(crate) written_since_archive: bool,
    /// `data_checksums`: whether the cluster's pages carry checksums.
    pub(crate) data_checksums: bool,
    /// The segment being written now (not in recovery).
    pub(crate) current_segment: Option<String>,
    /// `pg_control_system()`'s system identifier.
    pub(crate) system_identifier: String,
    pub(crate) segment_size: u64,
    /// The current timeline's history file, read from `pg_wal` (`drift
    /// --deep` on a timeline after the first); `None` when unreadable.
    pub(crate) history: Option<String>,
}

/// What drift saw: the server's archiver and the bucket.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Observed {
    pub(crate) archiver: Option<Archiver>,
    /// Whether the bucket holds the newest segment the server archived, and
    /// where it looked; `None` when there was nothing to look for.
    pub(crate) archived_segment_found: Option<(bool, String)>,
    /// Full backups that completed (name, completion), oldest first.
    pub(crate) full_backups: Vec<(String, SystemTime)>,
    /// Backups started and never completed (name, last written).
    pub(crate) incomplete_backups: Vec<(String, SystemTime)>,
    /// The newest evidence that parsed and passed: (key, when the test ran).
    pub(crate) newest_passing_evidence: Option<(String, SystemTime)>,
    /// The newest passing evidence of a drill that replayed the whole
    /// window: the oldest retained full backup (or one expired since)
    /// restored to the `latest` target, as `--pick oldest` does.
    pub(crate) newest_window_evidence: Option<(String, SystemTime)>,
    /// The newest evidence of all, when it failed: (key, when, why).
    pub(crate) newest_failed_evidence: Option<(String, SystemTime, String)>,
    /// Evidence folders dated after today, ignored.
    pub(crate) future_evidence: Vec<String>,
    /// Evidence objects that did not count, newest first: (key, why).
    pub(crate) rejected_evidence: Vec<(String, String)>,
    /// Evidence counted without a key to prove it (no `evidence_key`).
    pub(crate) unauthenticated_evidence: bool,
    /// `drift --deep`: the WAL chain from the oldest retained full backup
    /// to the server's present.
    pub(crate) chain: Option<Chain>,
    /// S3 requests made for the chain check alone.
    pub(crate) chain_requests: usize,
    /// S3 requests made for the WAL check alone, and in all.
    pub(crate) wal_requests: usize,
    pub(crate) requests: usize,
    /// Repositories 2, 3... (`[[backup.repositories]]`).
    pub(crate) copies: Vec<super::copies::Copy>,
    /// The newest passing evidence of a drill from each repository, by
    /// number (1 for evidence that names none).
    pub(crate) evidence_by_repository: std::collections::BTreeMap<u32, (String, SystemTime)>,
}

/// WAL a quiet server writes by itself after the last archived segment: the
/// next segment's page header, the shutdown checkpoint of a restart (whose
/// segment switch archived the one before), a running-transactions record.
/// Measured: 160 to 216 bytes after a restart. One WAL page (8 kB) more is
/// "written"; less is a quiet server.
const UNIMPORTANT_WAL: u64 = 8192;

/// Parses `X/Y` into a 64-bit LSN.
pub(crate) fn parse_lsn(text: &str) -> Option<u64> {
    let (high, low) = text.split_once('/')?;
    Some((u64::from_str_radix(high, 16).ok()? << 32) | u64::from_str_radix(low, 16).ok()?)
}

/// The LSN just past the end of segment `name` (24 hex digits).
pub(crate) fn segment_end(name: &str, segment_size: u64) -> Option<u64> {
    let name = name.get(..24)?;
    if !is_segment(name) || segment_size == 0 {
        return None;
    }
    let log = u64::from_str_radix(&name[8..16], 16).ok()?;
    let seg = u64::from_str_radix(&name[16..24], 16).ok()?;
    let per_log = 0x1_0000_0000 / segment_size;
    Some((log * per_log + seg + 1) * segment_size)
}

/// What drift measured, for `--metrics-file`: points in time as
/// timestamps (0 for "never"), counts as they are. Pure.
pub(crate) fn samples(observed: &Observed, now: SystemTime) -> Vec<Sample> {
    let ago = |seconds: Option<f64>| {
        seconds
            .filter(|s| s.is_finite() && *s >= 0.0)
            .and_then(|s| now.checked_sub(Duration::from_secs_f64(s)))
    };
    let at = |metric: &'static crate::metrics::Metric, when: Option<SystemTime>| match when {
        Some(when) => Sample::timestamp(metric, when),
        None => Sample::new(metric, 0.0),
    };
    let mut out = vec![
        at(
            &m::BACKUP_NEWEST_FULL,
            observed.full_backups.last().map(|(_, t)| *t),
        ),
        Sample::new(&m::BACKUP_FULL_COUNT, observed.full_backups.len() as f64),
        at(
            &m::RESTORE_TEST_LAST_SUCCESS,
            observed.newest_passing_evidence.as_ref().map(|(_, t)| *t),
        ),
    ];
    if let Some(a) = &observed.archiver {
        out.push(at(&m::WAL_LAST_ARCHIVED, ago(a.last_archived_age)));
        out.push(Sample::new(&m::ARCHIVER_FAILED, a.failed_count as f64));
        out.push(at(&m::ARCHIVER_LAST_FAILED, ago(a.last_failed_age)));
        if let Some((ready, _)) = a.ready {
            out.push(Sample::new(&m::ARCHIVER_READY, ready as f64));
        }
    }
    if let Some(chain) = observed.chain.as_ref().filter(|c| c.unknown.is_none()) {
        out.push(Sample::new(&m::WAL_CHAIN_MISSING, chain.missing as f64));
    }
    out
}

/// What the chain check found.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Chain {
    /// The oldest retained full backup and its first segment, when known.
    pub(crate) from: Option<(String, String)>,
    /// Segments needed, in all.
    pub(crate) needed: u64,
    /// Missing runs: (timeline, first, last) as segment names, and the
    /// full backups each cuts off (those that started before it).
    pub(crate) gaps: Vec<(String, String, Vec<String>)>,
    /// Segments missing, in all.
    pub(crate) missing: u64,
    /// Timelines crossed whose `.history` file the archive lacks.
    pub(crate) missing_history: Vec<String>,
    /// The repository's system identifier, when it is not the server's.
    pub(crate) foreign: Option<String>,
    /// Why the chain could not be followed, when it could not.
    pub(crate) unknown: Option<String>,
    /// Verified from here on only (the watermark of an earlier run).
    pub(crate) after: Option<String>,
    /// The last segment of an unbroken chain: the next watermark.
    pub(crate) verified_through: Option<String>,
}

/// The chain from the oldest retained full backup to the server's current
/// segment, against the archive's listing. Pure.
pub(crate) fn chain(
    archiver: &Archiver,
    starts: &[(String, String)],
    full: &[(String, SystemTime)],
    names: &[String],
    repository_system: Option<&str>,
    after: Option<&str>,
) -> Chain {
    use super::chain::{gaps, name, needed, parse, parse_history};
    let size = archiver.segment_size;
    let mut out = Chain {
        foreign: repository_system
            .filter(|id| *id != archiver.system_identifier)
            .map(str::to_string),
        ..Chain::default()
    };
    let Some(end) = archiver
        .current_segment
        .as_deref()
        .and_then(|s| parse(s, size))
    else {
        out.unknown = Some("the server is in recovery: its present is the primary's".into());
        return out;
    };
    // The oldest retained full backup (by completion) and its start.
    let Some((oldest, start)) = full.iter().find_map(|(name, _)| {
        let start = starts.iter().find(|(n, _)| n == name)?;
        Some((name.clone(), parse(&start.1, size)?))
    }) else {
        return out;
    };
    out.from = Some((oldest, name(start, size)));
    let history = if end.0 == 1 {
        Vec::new()
    } else {
        match archiver.history.as_deref().and_then(parse_history) {
            Some(history) => history,
            None => {
                out.unknown = Some(format!(
                    "the history of timeline {} could not be read from the server's `pg_wal` (grant `pg_read_server_files`)",
                    end.0
                ));
                return out;
            }
        }
    };
    // After a watermark on the server's timeline: only what follows it.
    let after = after.and_then(|a| parse(a, size)).filter(|a| a.0 == end.0);
    let start = match after {
        Some(after) if after.1 >= start.1 => {
            out.after = Some(name(after, size));
            (after.0, after.1 + 1)
        }
        _ => start,
    };
    let present: BTreeSet<(u32, u64)> = names.iter().filter_map(|n| parse(n, size)).collect();
    let need = needed(start, end, &history, size);
    out.needed = need.iter().map(|(_, from, to)| to - from + 1).sum();
    let starts_at: Vec<(String, (u32, u64))> = starts
        .iter()
        .filter(|(n, _)| full.iter().any(|(f, _)| f == n))
        .filter_map(|(n, s)| Some((n.clone(), parse(s, size)?)))
        .collect();
    let holes = gaps(&need, &present);
    out.missing = holes.iter().map(|(_, first, last)| last - first + 1).sum();
    for (timeline, first, last) in holes {
        let cut: Vec<String> = starts_at
            .iter()
            .filter(|(_, s)| s.1 <= first)
            .map(|(n, _)| n.clone())
            .collect();
        out.gaps.push((
            name((timeline, first), size),
            name((timeline, last), size),
            cut,
        ));
    }
    // The watermark moves only through an unbroken chain.
    out.verified_through = match (out.gaps.is_empty(), need.last()) {
        (true, Some((tl, _, to))) => Some(name((*tl, *to), size)),
        _ => out.after.clone(),
    };
    // A history file sorts before its timeline's segments: one crossed
    // before the watermark was checked when the watermark passed it.
    let checked_from = after.map_or(2, |a| a.0 + 1).max(2);
    for timeline in need
        .iter()
        .map(|(tl, _, _)| *tl)
        .filter(|tl| *tl >= checked_from)
    {
        let file = format!("{timeline:08X}.history");
        if !names.iter().any(|n| n.starts_with(&file)) && !out.missing_history.contains(&file) {
            out.missing_history.push(file);
        }
    }
    out
}

/// The segment being written: the timeline of `pg_walfile_name()` and the
/// segment holding the LSN. `pg_walfile_name()` alone names the segment
/// *before* an LSN on a segment boundary (as right after `pg_switch_wal()`),
/// which is already archived.
fn current_segment(walfile: Option<&str>, lsn: Option<&str>, size: u64) -> Option<String> {
    let timeline = u32::from_str_radix(walfile?.get(..8)?, 16).ok()?;
    let lsn = parse_lsn(lsn?)?;
    (size > 0).then(|| super::chain::name((timeline, lsn / size), size))
}

/// Reads the archiver's state. Needs `pg_monitor` (or superuser) for the
/// archive status directory; without it the backlog is unknown, not healthy.
pub(crate) async fn observe_server(pg: &Client) -> Result<Archiver> {
    let row = pg
        .query_one(
            "SELECT a.archived_count, a.last_archived_wal, \
                    extract(epoch FROM now() - a.last_archived_time)::float8, \
                    a.failed_count, a.last_failed_wal, \
                    extract(epoch FROM now() - a.last_failed_time)::float8, \
                    extract(epoch FROM now() - pg_postmaster_start_time())::float8, \
                    pg_is_in_recovery(), \
                    CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END, \
                    (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size'), \
                    current_setting('data_checksums') = 'on', \
                    CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_walfile_name(pg_current_wal_lsn()) END, \
                    (SELECT system_identifier::text FROM pg_control_system()) \
             FROM pg_stat_archiver a",
            &[],
        )
        .await
        .map_err(|e| {
            Error::new(format!(
                "cannot read `pg_stat_archiver`: {}",
                crate::pg::connect::describe(&e)
            ))
        })?;
    let last_archived_wal: Option<String> = row.get(1);
    let current: Option<String> = row.get(8);
    let segment_size: i64 = row.get(9);
    let written_since_archive = match (&current, &last_archived_wal) {
        (Some(current), Some(last)) => {
            match (parse_lsn(current), segment_end(last, segment_size as u64)) {
                (Some(at), Some(end)) => at > end + UNIMPORTANT_WAL,
                // A history or backup-label file: judge by time alone.
                _ => true,
            }
        }
        // Nothing archived since the statistics began: the failure and
        // backlog checks judge (the first full backup archives a segment).
        _ => false,
    };
    let ready = match pg
        .query_one(
            "SELECT count(*), extract(epoch FROM now() - min(modification))::float8 \
             FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'",
            &[],
        )
        .await
    {
        Ok(row) => Some((row.get::<_, i64>(0), row.get::<_, Option<f64>>(1))),
        Err(_) => None,
    };
    Ok(Archiver {
        in_recovery: row.get(7),
        archived_count: row.get(0),
        last_archived_wal,
        last_archived_age: row.get(2),
        failed_count: row.get(3),
        last_failed_wal: row.get(4),
        last_failed_age: row.get(5),
        uptime: row.get(6),
        ready,
        written_since_archive,
        data_checksums: row.get(10),
        current_segment: current_segment(
            row.get::<_, Option<String>>(11).as_deref(),
            row.get::<_, Option<String>>(8).as_deref(),
            segment_size as u64,
        ),
        system_identifier: row.get(12),
        segment_size: segment_size as u64,
        history: None,
    })
}

/// The current timeline's history file, for the chain check (`drift
/// --deep`): read from the server's own `pg_wal` (superuser or
/// `pg_read_server_files`); `None` on timeline 1 or when it cannot be read.
pub(crate) async fn observe_history(pg: &Client, archiver: &mut Archiver) {
    let Some(timeline) = archiver.current_segment.as_deref().and_then(|s| s.get(..8)) else {
        return;
    };
    if timeline == "00000001" {
        return;
    }
    let path = format!("pg_wal/{timeline}.history");
    archiver.history = pg
        .query_one("SELECT pg_read_file($1)", &[&path])
        .await
        .ok()
        .map(|row| row.get(0));
}

/// How many evidence date folders are read at most, newest first.
const EVIDENCE_FOLDERS: usize = 10;

pub(crate) async fn observe(
    backup: &DesiredBackup,
    bucket: &BucketSpec,
    archiver: Option<Archiver>,
    timeout: Duration,
    deep: bool,
    now: SystemTime,
) -> Result<Observed> {
    let mut lister = Lister::new(client(bucket, timeout).await, bucket);
    let mut observed = Observed::default();
    if let Some(segment) = archiver
        .as_ref()
        .and_then(|a| a.last_archived_wal.clone())
        .filter(|name| is_segment(name))
    {
        let found = lister.segment(backup, &segment).await?;
        observed.archived_segment_found = Some((found.is_some(), segment));
    }
    observed.wal_requests = lister.requests;
    observed.archiver = archiver;
    let backups = lister.backups(backup).await?;
    if let (true, Some(archiver)) = (deep || backup.wal_chain_state.is_some(), &observed.archiver) {
        let before = lister.requests;
        let repository = format!("s3://{}/{}", bucket.name, backup.wal_prefix());
        let state = backup.wal_chain_state.as_deref();
        let found = observe_chain(
            &mut lister,
            backup,
            (&backups, archiver),
            (&repository, state),
            deep,
        )
        .await?;
        observed.chain_requests = lister.requests - before;
        observed.chain = Some(found);
    }
    for repository in &backup.repositories {
        observed.copies.push(
            super::copies::observe(
                backup,
                repository,
                observed.archiver.as_ref(),
                timeout,
                deep,
            )
            .await,
        );
    }
    let catalogue = backups.known;
    let key = backup
        .restore_test
        .evidence_key
        .as_ref()
        .map(|k| k.expose_secret().as_bytes().to_vec());
    let copies: Vec<CopyCatalogue> = observed
        .copies
        .iter()
        .map(|c| CopyCatalogue {
            number: c.number,
            catalogue: c.known.clone(),
            oldest_kept: c.full_backups.first().map(|(_, t)| *t),
        })
        .collect();
    let judge = Judge {
        key: key.as_deref(),
        catalogue: &catalogue,
        oldest_kept: backups.complete.first().map(|(_, t)| *t),
        copies: &copies,
    };
    observed.full_backups = backups.complete;
    observed.incomplete_backups = backups.incomplete;
    if backup.restore_test_max_age.is_some() {
        read_evidence(&mut lister, backup, &judge, &mut observed, now).await?;
    }
    observed.requests = lister.requests;
    Ok(observed)
}

/// The WAL chain of one repository: from the watermark in `state` (for
/// `repository`, this cluster), or whole with `deep` or without one; the
/// watermark moves on when the chain is unbroken.
pub(crate) async fn observe_chain(
    lister: &mut Lister<'_>,
    backup: &DesiredBackup,
    (backups, archiver): (&super::listing::Backups, &Archiver),
    (repository, state): (&str, Option<&std::path::Path>),
    deep: bool,
) -> Result<Chain> {
    let after = match (deep, state) {
        (false, Some(path)) => chain_state::read(path, repository, &archiver.system_identifier),
        _ => None,
    };
    let (names, system) = lister.archive(backup, after.as_deref()).await?;
    let found = chain(
        archiver,
        &backups.starts,
        &backups.complete,
        &names,
        system.as_deref(),
        after.as_deref(),
    );
    if let (Some(path), Some(through)) = (state, &found.verified_through) {
        chain_state::write(path, repository, &archiver.system_identifier, through)?;
    }
    Ok(found)
}

/// Whether passing evidence replayed the whole recovery window: the
/// `latest` target from the oldest retained full backup, or from one the
/// retention expired since (judged evidence names no other unknown one).
fn whole_window(evidence: &Evidence, full: &[(String, SystemTime)], catalogue: &[String]) -> bool {
    let Some(backup) = &evidence.backup else {
        return false;
    };
    evidence.target == "latest"
        && (full
            .first()
            .is_some_and(|(oldest, _)| *oldest == backup.name)
            || !catalogue.contains(&backup.name))
}

/// The newest evidence folders (at most [`EVIDENCE_FOLDERS`]), newest
/// first: the newest passing drill, the newest whole-window one, the newest
/// failure before any pass, and what does not count.
async fn read_evidence(
    lister: &mut Lister<'_>,
    backup: &DesiredBackup,
    judge: &Judge<'_>,
    observed: &mut Observed,
    now: SystemTime,
) -> Result<()> {
    let today = humantime::format_rfc3339_seconds(now).to_string()[..10].to_string();
    let (_, mut folders) = lister.level(&backup.restore_tests_prefix()).await?;
    folders.sort();
    folders.reverse();
    let mut read = 0;
    'folders: for folder in folders {
        let date = folder
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_string();
        if date.as_str() > today.as_str() {
            observed.future_evidence.push(folder);
            continue;
        }
        if read == EVIDENCE_FOLDERS {
            break;
        }
        read += 1;
        let mut keys: Vec<String> = lister
            .all(&folder)
            .await?
            .into_iter()
            .map(|(key, _)| key)
            .filter(|key| key.ends_with("/evidence.json"))
            .collect();
        keys.sort();
        for key in keys.into_iter().rev() {
            match judged(lister, &key, judge, &date, now).await {
                Ok(Some(evidence)) => {
                    let ran = evidence.0;
                    if judge.key.is_none() {
                        observed.unauthenticated_evidence = true;
                    }
                    if evidence.1.passed {
                        let repository = evidence.1.repository.unwrap_or(1);
                        observed
                            .evidence_by_repository
                            .entry(repository)
                            .or_insert((key.clone(), ran));
                        if repository == 1
                            && whole_window(&evidence.1, &observed.full_backups, judge.catalogue)
                        {
                            observed.newest_window_evidence = Some((key.clone(), ran));
                        }
                        observed.newest_passing_evidence.get_or_insert((key, ran));
                        let every_copy = backup
                            .repositories
                            .iter()
                            .all(|r| observed.evidence_by_repository.contains_key(&r.number));
                        if observed.newest_window_evidence.is_some() && every_copy {
                            break 'folders;
                        }
                        continue;
                    }
                    if observed.newest_failed_evidence.is_none()
                        && observed.newest_passing_evidence.is_none()
                    {
                        let why = evidence
                            .1
                            .failure
                            .clone()
                            .unwrap_or_else(|| "it did not pass".into());
                        observed.newest_failed_evidence = Some((key, ran, why));
                    }
                }
                // Not dated where it lies, or in the future: not evidence.
                Ok(None) => {}
                // Past the newest pass only a whole-window pass is sought.
                Err(why) if observed.newest_passing_evidence.is_none() => {
                    observed.rejected_evidence.push((key, why));
                }
                Err(_) => {}
            }
        }
    }
    Ok(())
}

/// One evidence object read and judged: `Ok(None)` when it is not dated
/// in its folder's day or is in the future, `Err(why)` when it does not
/// count. A read that fails or an object over the size cap is a reason,
/// never an error that would hide older evidence.
async fn judged(
    lister: &mut Lister<'_>,
    key: &str,
    judge: &Judge<'_>,
    date: &str,
    now: SystemTime,
) -> std::result::Result<Option<(SystemTime, Evidence)>, String> {
    let bytes = match lister.read_capped(key, MAX_EVIDENCE_BYTES).await {
        Err(error) => return Err(format!("it could not be read: {}", error.message())),
        Ok(Capped::TooLarge(size)) => {
            return Err(format!(
                "it is {size} bytes, more than the {MAX_EVIDENCE_BYTES} evidence may be; not read"
            ))
        }
        Ok(Capped::Body(bytes)) => bytes,
    };
    read_back(&bytes, "physical", judge, date, now)
}

/// Each backup health check: its finding id, and the last word of its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Archiver,
    Wal,
    BaseBackup,
    Retention,
    RestoreTest,
    IncompleteBackup,
    Verify,
    WalChain,
}

impl Check {
    fn id(self) -> &'static str {
        match self {
            Check::Archiver => "backup.health.archiver",
            Check::Wal => "backup.health.wal",
            Check::BaseBackup => "backup.health.base_backup",
            Check::Retention => "backup.health.retention",
            Check::RestoreTest => "backup.health.restore_test",
            Check::IncompleteBackup => "backup.health.incomplete_backup",
            Check::Verify => "backup.health.verify",
            Check::WalChain => "backup.health.wal_chain",
        }
    }

    fn word(self) -> &'static str {
        match self {
            Check::Archiver => "archiver",
            Check::Wal => "wal",
            Check::BaseBackup => "base_backup",
            Check::Retention => "retention",
            Check::RestoreTest => "restore_test",
            Check::IncompleteBackup => "incomplete_backup",
            Check::Verify => "verify",
            Check::WalChain => "wal_chain",
        }
    }
}

fn finding(check: Check, message: String) -> Finding {
    Finding::new(
        check.id(),
        FindingClass::Health,
        super::ID.address().word("health").word(check.word()),
        message,
    )
}

fn age_text(seconds: f64) -> String {
    short(Duration::from_secs_f64(seconds.max(0.0)))
}

/// Compares what was observed with the thresholds and the policy, as of `now`. Pure.
pub(crate) fn check(backup: &DesiredBackup, observed: &Observed, now: SystemTime) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(a) = observed.archiver.as_ref().filter(|a| !a.in_recovery) {
        findings.extend(check_archiver(backup, a));
    }
    if let Some(chain) = &observed.chain {
        findings.extend(check_chain(chain));
    }
    // `verify = ["checksums"]` on a cluster without them would prove nothing.
    let checksums = backup.restore_test.verify.contains(&Verify::Checksums);
    if checksums
        && observed
            .archiver
            .as_ref()
            .is_some_and(|a| !a.data_checksums)
    {
        findings.push(finding(
            Check::Verify,
            "`[restore_test] verify` asks for `checksums`, but the server has no data checksums (`data_checksums` is `off`), so a drill would have nothing to check; turn them on with `pg_checksums --enable` on the stopped server (or `initdb --data-checksums` for a new cluster), or leave `checksums` out".into(),
        ));
    }
    if let Some((false, segment)) = &observed.archived_segment_found {
        findings.push(
            finding(
                Check::Wal,
                format!(
                    "the server archived `{segment}`, but the bucket has no such segment under `{}`: `archive_command` writes somewhere else",
                    backup.wal_prefix()
                ),
            )
            .detail("segment", segment.clone())
            .detail("prefix", backup.wal_prefix()),
        );
    }
    findings.extend(check_full_backups(backup, &observed.full_backups, now));
    findings.extend(check_incomplete_backups(
        backup,
        &observed.incomplete_backups,
        now,
    ));
    if let Some(threshold) = backup.restore_test_max_age {
        findings.extend(check_restore_tests(backup, observed, threshold, now));
    }
    findings.extend(super::copies::check(backup, observed, now));
    // One finding per address: the first of each explains, the rest add to it.
    let mut merged: Vec<Finding> = Vec::new();
    for f in findings {
        match merged.iter_mut().find(|m| m.address == f.address) {
            Some(existing) => {
                existing.message = format!("{}; {}", existing.message, f.message);
                for (key, value) in f.details {
                    existing.details.entry(key).or_insert(value);
                }
            }
            None => merged.push(f),
        }
    }
    merged
}

/// The server's archiver: failing, backed up, or WAL written and not archived.
fn check_archiver(backup: &DesiredBackup, a: &Archiver) -> Vec<Finding> {
    let mut findings = Vec::new();
    let rpo = backup.rpo;
    // Archiving fails now: the newest failure is newer than the newest success.
    let failing = match (a.last_failed_age, a.last_archived_age) {
        (Some(failed), Some(archived)) => failed < archived,
        (Some(_), None) => true,
        _ => false,
    };
    let unarchived_age = a.last_archived_age.unwrap_or(a.uptime);
    if failing {
        let last_success = match (&a.last_archived_wal, a.last_archived_age) {
            (Some(wal), Some(age)) => {
                format!("the last success was `{wal}`, {} ago", age_text(age))
            }
            _ => "nothing was archived since the server started".into(),
        };
        findings.push(
            finding(
                Check::Archiver,
                format!(
                    "archiving is failing: `archive_command` failed {} times, last on `{}` {} ago; {last_success}",
                    a.failed_count,
                    a.last_failed_wal.as_deref().unwrap_or("?"),
                    age_text(a.last_failed_age.unwrap_or(0.0)),
                ),
            )
            .detail("failed_count", a.failed_count)
            .detail("segment", a.last_failed_wal.clone().unwrap_or_default())
            .detail("age_seconds", unarchived_age.round() as u64)
            .detail("threshold_seconds", rpo.as_secs()),
        );
    } else if let Some((count, Some(oldest))) = a.ready {
        if count > 0 && oldest > rpo.as_secs_f64() {
            findings.push(
                finding(
                    Check::Archiver,
                    format!(
                        "{count} WAL segments wait to be archived, the oldest for {}, longer than `backup.rpo` ({})",
                        age_text(oldest),
                        short(rpo)
                    ),
                )
                .detail("segments", count)
                .detail("age_seconds", oldest.round() as u64)
                .detail("threshold_seconds", rpo.as_secs()),
            );
        }
    }
    if a.written_since_archive && unarchived_age > backup.max_wal_age.as_secs_f64() {
        let since = match &a.last_archived_wal {
            Some(wal) => format!(
                "segment `{wal}` was archived {} ago",
                age_text(unarchived_age)
            ),
            None => format!("the server started {} ago", age_text(unarchived_age)),
        };
        findings.push(
            finding(
                Check::Wal,
                format!(
                    "WAL written since {since} is not archived yet, longer than the threshold of {}",
                    short(backup.max_wal_age)
                ),
            )
            .detail("segment", a.last_archived_wal.clone().unwrap_or_default())
            .detail("age_seconds", unarchived_age.round() as u64)
            .detail("threshold_seconds", backup.max_wal_age.as_secs()),
        );
    }
    if a.ready.is_none() {
        findings.push(finding(
            Check::Archiver,
            "cannot read the archive status directory (`pg_ls_archive_statusdir()`): a backlog of unarchived WAL would go unseen".into(),
        ).detail("hint", "grant `pg_monitor` to the admin role"));
    }
    findings
}

/// Backups started and never completed, nothing written to them for longer
/// than the grace: a backup that keeps dying before it ends.
pub(crate) fn check_incomplete_backups(
    backup: &DesiredBackup,
    incomplete: &[(String, SystemTime)],
    now: SystemTime,
) -> Vec<Finding> {
    let grace = backup.incomplete_backup_grace;
    incomplete
        .iter()
        .filter_map(|(name, written)| {
            let idle = now.duration_since(*written).unwrap_or_default();
            (idle > grace).then(|| {
                finding(
                    Check::IncompleteBackup,
                    format!(
                        "backup `{name}` under `{}` was started and never completed: nothing written to it for {}, longer than {} (a backup that dies before it ends; look at the backup tool's log)",
                        backup.base_prefix(),
                        short(idle),
                        short(grace)
                    ),
                )
                .detail("object", name.clone())
                .detail("prefix", backup.base_prefix())
                .detail("age_seconds", idle.as_secs())
                .detail("threshold_seconds", grace.as_secs())
            })
        })
        .collect()
}

/// The newest passing drill is young enough (after the grace period).
fn check_restore_tests(
    backup: &DesiredBackup,
    observed: &Observed,
    threshold: Duration,
    now: SystemTime,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let first_backup = observed.full_backups.first().map(|(_, t)| *t);
    let address_detail = backup.restore_tests_prefix();
    // A failed drill newer than every pass stands until a later one passes.
    if let Some((key, ran, why)) = &observed.newest_failed_evidence {
        findings.push(
            finding(
                Check::RestoreTest,
                format!(
                    "the newest restore test failed ({} ago): {why}; it stands until a later test passes",
                    short(now.duration_since(*ran).unwrap_or_default())
                ),
            )
            .detail("object", key.clone()),
        );
    }
    match &observed.newest_passing_evidence {
        Some((key, ran)) => {
            let age = now.duration_since(*ran).unwrap_or_default();
            if age > threshold {
                findings.push(
                    finding(
                        Check::RestoreTest,
                        format!(
                            "the newest passing restore test is {} old, older than the threshold of {}",
                            short(age),
                            short(threshold)
                        ),
                    )
                    .detail("object", key.clone())
                    .detail("age_seconds", age.as_secs())
                    .detail("threshold_seconds", threshold.as_secs()),
                );
            } else {
                findings.extend(check_window(backup, observed, threshold, now));
            }
        }
        None => {
            let in_grace = match first_backup {
                None => true,
                Some(first) => {
                    now.duration_since(first).unwrap_or_default() < backup.restore_test_grace
                }
            };
            if !in_grace {
                findings.push(
                    finding(
                        Check::RestoreTest,
                        format!(
                            "no passing restore-test evidence under `{address_detail}`, and the first full backup is older than the grace period ({})",
                            short(backup.restore_test_grace)
                        ),
                    )
                    .detail("prefix", address_detail)
                    .detail("threshold_seconds", threshold.as_secs()),
                );
            }
        }
    }
    for folder in &observed.future_evidence {
        findings.push(
            finding(
                Check::RestoreTest,
                format!("evidence folder `{folder}` is dated in the future and does not count"),
            )
            .detail("prefix", folder.clone()),
        );
    }
    for (key, why) in observed.rejected_evidence.iter().take(REJECTED_SHOWN) {
        findings.push(
            finding(
                Check::RestoreTest,
                format!("restore-test evidence `{key}` does not count: {why}"),
            )
            .detail("object", key.clone()),
        );
    }
    findings
}

/// A recent pass that did not replay the whole window: no passing drill of
/// the oldest retained full backup within `threshold`, once the first backup
/// is past the grace.
fn check_window(
    backup: &DesiredBackup,
    observed: &Observed,
    threshold: Duration,
    now: SystemTime,
) -> Option<Finding> {
    let (oldest, first) = observed.full_backups.first()?;
    if now.duration_since(*first).unwrap_or_default() < backup.restore_test_grace {
        return None;
    }
    let window_age = observed
        .newest_window_evidence
        .as_ref()
        .map(|(_, ran)| now.duration_since(*ran).unwrap_or_default());
    if window_age.is_some_and(|age| age <= threshold) {
        return None;
    }
    Some(
        finding(
            Check::RestoreTest,
            format!(
                "no passing drill of the oldest retained full backup `{oldest}` within {}: the older end of the recovery window is unproven",
                short(threshold)
            ),
        )
        .detail("backup", oldest.clone())
        .detail("threshold_seconds", threshold.as_secs())
        .detail("hint", "run `dbops restore-test --pick oldest`"),
    )
}

/// `backup.health.wal_chain`: each gap with the backups it cuts off, each
/// missing history file, an archive of another cluster.
pub(crate) fn check_chain(chain: &Chain) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(system) = &chain.foreign {
        out.push(
            finding(
                Check::WalChain,
                format!("the archive belongs to another cluster: its system identifier is {system}, not the server's; a restore from it does not bring this server back"),
            )
            .detail("repository_system_identifier", system.clone()),
        );
    }
    for (first, last, cut) in &chain.gaps {
        let range = if first == last {
            format!("segment `{first}` is")
        } else {
            format!("segments `{first}` to `{last}` are")
        };
        let who = match cut.as_slice() {
            [] => String::new(),
            names => format!(
                ": full backup(s) {} cannot be restored past it, so no point after it is reachable from them",
                names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
            ),
        };
        out.push(
            finding(
                Check::WalChain,
                format!("{range} missing from the archive{who}"),
            )
            .detail("first_missing", first.clone())
            .detail("last_missing", last.clone())
            .detail("backups_cut_off", cut.clone()),
        );
    }
    for file in &chain.missing_history {
        out.push(
            finding(
                Check::WalChain,
                format!("the archive lacks `{file}`: a restore cannot follow the timeline switch it records"),
            )
            .detail("object", file.clone()),
        );
    }
    out
}

/// How many rejected evidence objects the finding names, newest first.
const REJECTED_SHOWN: usize = 3;

/// What drift says about backups that is not a finding.
pub(crate) fn notes(backup: &DesiredBackup, observed: &Observed) -> Vec<String> {
    let mut notes = Vec::new();
    if observed.unauthenticated_evidence && backup.restore_test.evidence_key.is_none() {
        notes.push(
            "restore-test evidence is unauthenticated: anyone who can write to the bucket can make it; set `[restore_test] evidence_key` (a secret only restore-test and drift hold) so drift counts only evidence restore-test signed".into(),
        );
    }
    match &observed.chain {
        Some(Chain {
            unknown: Some(why), ..
        }) => notes.push(format!("the WAL chain was not checked: {why}")),
        Some(Chain {
            from: Some((backup, segment)),
            needed,
            gaps,
            ..
        }) if gaps.is_empty() => notes.push(format!(
            "the WAL chain is whole: {needed} segment(s) from `{segment}`, where the oldest retained full backup `{backup}` starts, to the server's current segment"
        )),
        _ => {}
    }
    notes
}

/// The windows of the policy, after the first backup, that hold no full
/// backup: `(period in days, start, end)`.
fn retention_gaps(
    backup: &DesiredBackup,
    backups: &[(String, SystemTime)],
    now: SystemTime,
) -> Vec<(u32, SystemTime, SystemTime)> {
    let oldest = backups.first().map_or(now, |(_, t)| *t);
    let mut gaps = Vec::new();
    for (period_days, count) in backup.retention.series() {
        let period = Duration::from_secs(u64::from(period_days) * 86_400);
        for k in 0..count {
            // Window k: (now - (k+1)·period, now - k·period], with one
            // period of slack for the first (today's backup may be pending).
            let end = now
                .checked_sub(period * k)
                .unwrap_or(SystemTime::UNIX_EPOCH);
            let start = end.checked_sub(period).unwrap_or(SystemTime::UNIX_EPOCH);
            if start < oldest || k == 0 {
                continue;
            }
            if !backups.iter().any(|(_, t)| *t > start && *t <= end) {
                gaps.push((period_days, start, end));
            }
        }
    }
    gaps
}

/// The newest full backup is fresh, and the backups kept match the policy:
/// each daily, weekly and monthly window of the policy holds one, counting
/// only windows after the first backup (a young deployment is not short of
/// backups it could not have taken yet).
pub(crate) fn check_full_backups(
    backup: &DesiredBackup,
    backups: &[(String, SystemTime)],
    now: SystemTime,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let threshold = backup.max_base_backup_age;
    let Some((newest_name, newest)) = backups.last() else {
        findings.push(
            finding(
                Check::BaseBackup,
                format!(
                    "no full backup found under `{}` (threshold {})",
                    backup.base_prefix(),
                    short(threshold)
                ),
            )
            .detail("prefix", backup.base_prefix())
            .detail("threshold_seconds", threshold.as_secs()),
        );
        return findings;
    };
    let age = now.duration_since(*newest).unwrap_or_default();
    if age > threshold {
        findings.push(
            finding(
                Check::BaseBackup,
                format!(
                    "newest full backup is {} old, older than the threshold of {}",
                    short(age),
                    short(threshold)
                ),
            )
            .detail("object", newest_name.clone())
            .detail("prefix", backup.base_prefix())
            .detail("age_seconds", age.as_secs())
            .detail("threshold_seconds", threshold.as_secs()),
        );
    }
    let oldest = backups[0].1;
    let day = 86_400u64;
    let gaps = retention_gaps(backup, backups, now);
    if let Some((period, start, end)) = gaps.first() {
        let series = match period {
            1 => "daily",
            7 => "weekly",
            _ => "monthly",
        };
        findings.push(
            finding(
                Check::Retention,
                format!(
                    "{} gap(s) in the kept full backups; the first: no {series} backup between {} and {} ({} kept, policy {})",
                    gaps.len(),
                    humantime::format_rfc3339_seconds(*start),
                    humantime::format_rfc3339_seconds(*end),
                    backups.len(),
                    super::lint::describe(&backup.retention)
                ),
            )
            .detail("gaps", gaps.len())
            .detail("kept", backups.len()),
        );
    }
    // Kept well past the policy: pruning does not run.
    let keep = Duration::from_secs(
        (u64::from(backup.retention.keep_days()) + 2 * u64::from(backup.retention.interval_days()))
            * day,
    );
    if now.duration_since(oldest).unwrap_or_default() > keep {
        let stale = backups
            .iter()
            .filter(|(_, t)| now.duration_since(*t).unwrap_or_default() > keep)
            .count();
        findings.push(
            finding(
                Check::Retention,
                format!(
                    "{stale} full backup(s) are older than the policy keeps ({}d): pruning (`{}`) is not running",
                    backup.retention.keep_days(),
                    match backup.tool {
                        BackupTool::PgBackRest => "pgbackrest expire",
                        BackupTool::WalG => "wal-g delete",
                    }
                ),
            )
            .detail("object", backups[0].0.clone())
            .detail("age_seconds", now.duration_since(oldest).unwrap_or_default().as_secs())
            .detail("threshold_seconds", keep.as_secs()),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400;

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000 * DAY)
    }

    fn ago(seconds: u64) -> SystemTime {
        now() - Duration::from_secs(seconds)
    }

    fn healthy_archiver() -> Archiver {
        Archiver {
            archived_count: 10,
            last_archived_wal: Some("000000010000000000000009".into()),
            last_archived_age: Some(30.0),
            uptime: 86_400.0,
            ready: Some((0, None)),
            ..Archiver::default()
        }
    }

    fn addresses(findings: &[Finding]) -> Vec<String> {
        findings.iter().map(|f| f.address.to_string()).collect()
    }

    /// Daily backups at 02:00 for `days` days, oldest first.
    fn dailies(days: u64) -> Vec<(String, SystemTime)> {
        (0..days)
            .rev()
            .map(|d| (format!("b{d}"), ago(d * DAY + 3600)))
            .collect()
    }

    fn observed(archiver: Archiver, backups: Vec<(String, SystemTime)>) -> Observed {
        Observed {
            archiver: Some(archiver),
            archived_segment_found: Some((true, "000000010000000000000009".into())),
            full_backups: backups,
            ..Observed::default()
        }
    }

    #[test]
    fn segment_positions() {
        assert_eq!(parse_lsn("0/3000028"), Some(0x300_0028));
        assert_eq!(parse_lsn("1/0"), Some(1 << 32));
        assert_eq!(
            segment_end("000000010000000000000002", 16 << 20),
            Some(3 << 24)
        );
        assert_eq!(
            segment_end("000000010000000100000000", 16 << 20),
            Some((1 << 32) + (16 << 20))
        );
        assert_eq!(segment_end("00000002.history", 16 << 20), None);
    }

    #[test]
    fn an_idle_server_is_healthy_and_unarchived_writes_are_not() {
        let backup = DesiredBackup::example();
        let idle = Archiver {
            last_archived_age: Some(6.0 * 3600.0),
            ..healthy_archiver()
        };
        assert_eq!(
            check(&backup, &observed(idle.clone(), dailies(31)), now()),
            vec![]
        );
        let written = Archiver {
            written_since_archive: true,
            ..idle
        };
        let findings = check(&backup, &observed(written, dailies(31)), now());
        assert_eq!(addresses(&findings), ["backup.health.wal"]);
        assert_eq!(findings[0].details["age_seconds"], 21_600);
        assert_eq!(findings[0].details["threshold_seconds"], 600);
    }

    #[test]
    fn a_failure_newer_than_the_last_success_and_a_backlog_are_findings() {
        let backup = DesiredBackup::example();
        let failing = Archiver {
            failed_count: 3,
            last_failed_wal: Some("00000001000000000000000A".into()),
            last_failed_age: Some(10.0),
            ..healthy_archiver()
        };
        let findings = check(&backup, &observed(failing.clone(), dailies(31)), now());
        assert_eq!(addresses(&findings), ["backup.health.archiver"]);
        assert!(findings[0].message.starts_with(
            "archiving is failing: `archive_command` failed 3 times, last on `00000001000000000000000A` 10s ago"
        ));
        // An old failure followed by successes is history, not a finding.
        let recovered = Archiver {
            last_failed_age: Some(3600.0),
            ..failing
        };
        assert_eq!(
            check(&backup, &observed(recovered, dailies(31)), now()),
            vec![]
        );
        let backlog = Archiver {
            ready: Some((4, Some(900.0))),
            ..healthy_archiver()
        };
        let findings = check(&backup, &observed(backlog, dailies(31)), now());
        assert!(findings[0]
            .message
            .starts_with("4 WAL segments wait to be archived, the oldest for 15m"));
        let unreadable = Archiver {
            ready: None,
            ..healthy_archiver()
        };
        let findings = check(&backup, &observed(unreadable, dailies(31)), now());
        assert!(findings[0].message.contains("`pg_ls_archive_statusdir()`"));
    }

    #[test]
    fn kept_backups_are_checked_against_the_policy() {
        let backup = DesiredBackup::example(); // 7 daily + 4 weekly, 30 days
        let archiver = healthy_archiver();
        // A week-old deployment with its 7 dailies: not short of weeklies yet.
        assert_eq!(
            check(&backup, &observed(archiver.clone(), dailies(7)), now()),
            vec![]
        );
        // A missing day three days ago.
        let mut gap = dailies(20);
        gap.retain(|(name, _)| name != "b3");
        let findings = check(&backup, &observed(archiver.clone(), gap), now());
        assert_eq!(addresses(&findings), ["backup.health.retention"]);
        assert!(findings[0]
            .message
            .starts_with("1 gap(s) in the kept full backups; the first: no daily backup between"));
        // Kept far beyond the policy: pruning does not run.
        let findings = check(&backup, &observed(archiver.clone(), dailies(60)), now());
        assert!(findings[0]
            .message
            .contains("full backup(s) are older than the policy keeps (30d): pruning (`wal-g delete`) is not running"));
        // The newest one stale.
        let stale: Vec<_> = dailies(10)
            .into_iter()
            .map(|(n, t)| (n, t - Duration::from_secs(2 * DAY)))
            .collect();
        let findings = check(&backup, &observed(archiver, stale), now());
        assert!(findings[0]
            .message
            .starts_with("newest full backup is 2d 1h old"));
    }

    #[test]
    fn evidence_counts_after_the_grace_period_only_when_valid_and_fresh() {
        let backup = DesiredBackup {
            restore_test_max_age: Some(Duration::from_secs(35 * DAY)),
            ..DesiredBackup::example()
        };
        let young = observed(healthy_archiver(), dailies(3));
        assert_eq!(check(&backup, &young, now()), vec![]);
        let grown = observed(healthy_archiver(), dailies(20));
        let findings = check(&backup, &grown, now());
        assert_eq!(addresses(&findings), ["backup.health.restore_test"]);
        let drilled = Observed {
            newest_passing_evidence: Some(("k".into(), ago(10 * DAY))),
            newest_window_evidence: Some(("k".into(), ago(10 * DAY))),
            ..grown.clone()
        };
        assert_eq!(check(&backup, &drilled, now()), vec![]);
        // Only the newest backup drilled: the window's older end unproven,
        // until a drill of the oldest (`--pick oldest`) passes in time.
        let newest_only = Observed {
            newest_window_evidence: None,
            ..drilled.clone()
        };
        let findings = check(&backup, &newest_only, now());
        assert_eq!(addresses(&findings), ["backup.health.restore_test"]);
        assert!(
            findings[0]
                .message
                .contains("no passing drill of the oldest retained full backup `b19` within 35d"),
            "{}",
            findings[0].message
        );
        let window_stale = Observed {
            newest_window_evidence: Some(("w".into(), ago(36 * DAY))),
            ..drilled.clone()
        };
        assert_eq!(
            addresses(&check(&backup, &window_stale, now())),
            ["backup.health.restore_test"]
        );
        let old = Observed {
            newest_passing_evidence: Some(("k".into(), ago(40 * DAY))),
            ..grown
        };
        assert!(check(&backup, &old, now())[0]
            .message
            .contains("the newest passing restore test is 40d old"));
    }

    #[test]
    fn the_chain_names_each_gap_the_backups_it_cuts_off_and_a_foreign_archive() {
        let archiver = Archiver {
            current_segment: Some("000000010000000000000009".into()),
            system_identifier: "7".into(),
            segment_size: 16 << 20,
            ..healthy_archiver()
        };
        let starts = vec![
            ("b1".to_string(), "000000010000000000000002".to_string()),
            ("b2".to_string(), "000000010000000000000006".to_string()),
        ];
        let full = vec![
            ("b1".to_string(), ago(2 * DAY)),
            ("b2".to_string(), ago(DAY)),
        ];
        let names: Vec<String> = (2..9)
            .filter(|n| *n != 4)
            .map(|n| format!("0000000100000000000000{n:02X}-abcdef.gz"))
            .collect();
        let found = chain(&archiver, &starts, &full, &names, Some("7"), None);
        assert_eq!(found.needed, 7);
        assert_eq!(found.missing, 1);
        let observed = Observed {
            chain: Some(found.clone()),
            ..Observed::default()
        };
        let missing = samples(&observed, now())
            .into_iter()
            .find(|s| s.metric.name == "dbops_wal_chain_missing_segments")
            .unwrap();
        assert_eq!(missing.value, 1.0);
        assert_eq!(
            found.gaps,
            [(
                "000000010000000000000004".to_string(),
                "000000010000000000000004".to_string(),
                vec!["b1".to_string()]
            )]
        );
        let findings = check_chain(&found);
        assert_eq!(
            findings[0].message,
            "segment `000000010000000000000004` is missing from the archive: full backup(s) `b1` cannot be restored past it, so no point after it is reachable from them"
        );
        let foreign = chain(&archiver, &starts, &full, &names, Some("8"), None);
        assert!(check_chain(&foreign)[0]
            .message
            .contains("belongs to another cluster"));
        // On timeline 2 without its history: not checked, and said.
        let promoted = Archiver {
            current_segment: Some("000000020000000000000009".into()),
            ..archiver.clone()
        };
        let unknown = chain(&promoted, &starts, &full, &names, None, None);
        assert!(unknown.unknown.unwrap().contains("history of timeline 2"));
        // With it, the switch is followed and its history file required.
        let promoted = Archiver {
            history: Some("1\t0/8000000\tno recovery target specified\n".into()),
            ..promoted
        };
        let mut all: Vec<String> = (2..8)
            .map(|n| format!("0000000100000000000000{n:02X}"))
            .collect();
        all.push("000000020000000000000008".into());
        let followed = chain(&promoted, &starts, &full, &all, None, None);
        assert!(followed.gaps.is_empty(), "{followed:?}");
        assert_eq!(followed.missing_history, ["00000002.history"]);
        all.push("00000002.history".into());
        assert!(chain(&promoted, &starts, &full, &all, None, None)
            .missing_history
            .is_empty());
    }

    #[test]
    fn the_current_segment_after_a_switch_is_the_next_one() {
        let size = 16 << 20;
        assert_eq!(
            current_segment(Some("000000020000000000000005"), Some("0/6000000"), size).as_deref(),
            Some("000000020000000000000006")
        );
        assert_eq!(
            current_segment(Some("000000010000000000000006"), Some("0/60000A0"), size).as_deref(),
            Some("000000010000000000000006")
        );
        assert_eq!(current_segment(None, Some("0/6000000"), size), None);
    }

    #[test]
    fn verifying_checksums_of_a_cluster_without_them_is_said() {
        let mut backup = DesiredBackup::example();
        backup.restore_test.verify = vec![Verify::Checksums];
        let without = observed(healthy_archiver(), dailies(3));
        let findings = check(&backup, &without, now());
        assert_eq!(addresses(&findings), ["backup.health.verify"]);
        assert!(findings[0].message.contains("`pg_checksums --enable`"));
        let with = Observed {
            archiver: Some(Archiver {
                data_checksums: true,
                ..healthy_archiver()
            }),
            ..without.clone()
        };
        assert!(check(&backup, &with, now()).is_empty());
        backup.restore_test.verify = vec![Verify::Amcheck];
        assert!(check(&backup, &without, now()).is_empty());
    }

    #[test]
    fn a_backup_that_died_is_a_finding_once_idle_past_the_grace() {
        let backup = DesiredBackup::example();
        let running = Observed {
            incomplete_backups: vec![("base_00000001000000000000000C".into(), ago(600))],
            ..observed(healthy_archiver(), dailies(3))
        };
        assert!(check(&backup, &running, now()).is_empty());
        let dead = Observed {
            incomplete_backups: vec![("base_00000001000000000000000C".into(), ago(3 * 3600))],
            ..observed(healthy_archiver(), dailies(3))
        };
        let findings = check(&backup, &dead, now());
        assert_eq!(
            addresses(&findings),
            vec!["backup.health.incomplete_backup"]
        );
        assert_eq!(findings[0].id, "backup.health.incomplete_backup");
        assert!(
            findings[0].message.contains("nothing written to it for 3h"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn a_failed_newest_drill_stands_until_a_later_one_passes() {
        let backup = DesiredBackup {
            restore_test_max_age: Some(Duration::from_secs(35 * DAY)),
            ..DesiredBackup::example()
        };
        let failed = Observed {
            newest_passing_evidence: Some(("old".into(), ago(10 * DAY))),
            newest_window_evidence: Some(("old".into(), ago(10 * DAY))),
            newest_failed_evidence: Some(("new".into(), ago(DAY), "1 check(s) failed".into())),
            ..observed(healthy_archiver(), dailies(20))
        };
        let findings = check(&backup, &failed, now());
        assert_eq!(addresses(&findings), vec!["backup.health.restore_test"]);
        assert!(
            findings[0]
                .message
                .contains("the newest restore test failed (1d ago): 1 check(s) failed"),
            "{}",
            findings[0].message
        );
        let passed = Observed {
            newest_failed_evidence: None,
            ..failed
        };
        assert!(check(&backup, &passed, now()).is_empty());
    }
}
