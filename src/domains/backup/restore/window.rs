//! `--target-time random`: where a random recovery target may fall, and
//! the draw. The window runs from the restored backup's end to the newest
//! commit the archive holds: PostgreSQL stops at the first commit after the
//! target and refuses a target no archived commit follows ("recovery ended
//! before configured recovery target was reached"), so the newest commit is
//! read from the archived WAL itself (`pg_waldump` of the newest segments),
//! never guessed from upload times. The parsing and the draw are pure.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use super::tool;
use crate::domains::backup::desired::BackupTool;
use crate::drill::cluster::{self, Cluster, RestoreLog};
use crate::error::{Error, Result};

/// How many segments back from the newest the probe looks for a commit.
pub(crate) const PROBE_SEGMENTS: u64 = 16;

/// Commit and abort times in `pg_waldump` output run with `TZ=UTC`
/// (`desc: COMMIT 2026-12-02 15:27:01.096844 UTC`), in order.
pub(crate) fn commit_times(waldump: &str) -> Vec<SystemTime> {
    waldump
        .lines()
        .filter_map(|line| {
            let desc = line.split_once("desc: ")?.1;
            let rest = match desc.strip_prefix("COMMIT ") {
                Some(rest) => rest,
                // `COMMIT_PREPARED 5: 2026-...`: the time follows the xid.
                None => desc.strip_prefix("COMMIT_PREPARED ")?.split_once(": ")?.1,
            };
            let stamp = rest.get(..26)?;
            let zone = rest.get(26..30)?;
            (zone == " UTC")
                .then(|| humantime::parse_rfc3339_weak(stamp).ok())
                .flatten()
        })
        .collect()
}

/// The segment before `name` on its timeline, for 16 MB segments (names
/// count 256 segments per "log" number); `None` at the timeline's start.
pub(crate) fn previous_segment(name: &str, segment_size: u64) -> Option<String> {
    let timeline = name.get(..8)?;
    let log = u64::from_str_radix(name.get(8..16)?, 16).ok()?;
    let seg = u64::from_str_radix(name.get(16..24)?, 16).ok()?;
    let per_log = 0x1_0000_0000 / segment_size;
    let position = (log * per_log + seg).checked_sub(1)?;
    Some(format!(
        "{timeline}{:08X}{:08X}",
        position / per_log,
        position % per_log
    ))
}

/// A whole second in `[from, to]`, drawn with `seed`; an error when the
/// window holds no whole second.
pub(crate) fn draw(from: SystemTime, to: SystemTime, seed: u64) -> Result<SystemTime> {
    use rand::{Rng, SeedableRng};
    let secs = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64()
    };
    let (first, last) = (secs(from).ceil() as u64, secs(to).floor() as u64);
    if first > last {
        return Err(Error::new(format!(
            "`--target-time random` has no point to draw: the newest archived commit ({}) is not a whole second after the restored backup's end ({})",
            humantime::format_rfc3339_micros(to),
            humantime::format_rfc3339_micros(from)
        ))
        .hint("write to the database after the backup and let the segment be archived, or give `--target-time` a time"));
    }
    // A stream of its own: the same seed also picks the backup.
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x7461_7267_6574_0001);
    Ok(SystemTime::UNIX_EPOCH + Duration::from_secs(rng.random_range(first..=last)))
}

/// The newest commit in the archive, from `newest` back at most
/// [`PROBE_SEGMENTS`] segments; run after the backup was fetched.
pub(crate) async fn newest_commit(
    cluster: &Cluster,
    (tool_kind, stanza, repository): (BackupTool, &str, Option<u32>),
    newest: &str,
    deadline: Instant,
    log: &mut RestoreLog,
) -> Result<SystemTime> {
    let probe = cluster.layout.work.join("wal-probe");
    std::fs::create_dir_all(&probe)
        .map_err(|e| Error::new(format!("cannot create `{}`: {e}", probe.display())))?;
    cluster.run_as.own(&probe)?;
    let mut segment = newest.to_string();
    for _ in 0..PROBE_SEGMENTS {
        let file = probe.join(&segment);
        let fetch = tool::fetch_segment(
            tool_kind,
            &cluster.layout,
            stanza,
            repository,
            &segment,
            &file,
        );
        let what = format!("fetching segment `{segment}` to find the newest commit");
        cluster::run(&cluster.run_as, &fetch, &what, deadline, log).await?;
        let dump = read_commits(cluster, &file, deadline, log).await;
        let _ = std::fs::remove_file(&file);
        if let Some(newest) = dump?.into_iter().max() {
            let _ = std::fs::remove_dir(&probe);
            return Ok(newest);
        }
        match previous_segment(&segment, 16 * 1024 * 1024) {
            Some(previous) => segment = previous,
            None => break,
        }
    }
    let _ = std::fs::remove_dir(&probe);
    Err(Error::new(format!(
        "`--target-time random` found no commit in the newest {PROBE_SEGMENTS} archived segments (back from `{newest}`)"
    ))
    .hint("a random point needs a commit after it; give `--target-time` a time, or leave it out to replay everything"))
}

async fn read_commits(
    cluster: &Cluster,
    file: &Path,
    deadline: Instant,
    log: &mut RestoreLog,
) -> Result<Vec<SystemTime>> {
    let dump = tool::waldump(&cluster.bindir, file);
    let out = cluster::run(&cluster.run_as, &dump, "`pg_waldump`", deadline, log).await?;
    Ok(commit_times(&out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> SystemTime {
        humantime::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn commit_times_are_read_from_pg_waldump() {
        let out = "rmgr: Transaction len (rec/tot):     66/    66, tx:        723, lsn: 0/015006D0, prev 0/01500630, desc: COMMIT 2026-12-02 15:27:00.766433 UTC; inval msgs: snapshot 2396\n\
rmgr: Transaction len (rec/tot):     34/    34, tx:        724, lsn: 0/01500710, prev 0/015006D0, desc: ABORT 2026-12-02 15:27:01.000000 UTC\n\
rmgr: Transaction len (rec/tot):     66/    66, tx:        725, lsn: 0/01500750, prev 0/01500710, desc: COMMIT_PREPARED 725: 2026-12-02 15:27:02.500000 UTC\n\
rmgr: Transaction len (rec/tot):     66/    66, tx:        726, lsn: 0/01500790, prev 0/01500750, desc: COMMIT 2026-12-02 10:27:03.000000 EST\n";
        assert_eq!(
            commit_times(out),
            [
                at("2026-12-02T15:27:00.766433Z"),
                at("2026-12-02T15:27:02.5Z")
            ]
        );
    }

    #[test]
    fn the_segment_before_crosses_log_numbers_and_stops_at_the_start() {
        let size = 16 * 1024 * 1024;
        assert_eq!(
            previous_segment("000000020000000100000000", size).as_deref(),
            Some("0000000200000000000000FF")
        );
        assert_eq!(
            previous_segment("000000010000000000000005", size).as_deref(),
            Some("000000010000000000000004")
        );
        assert_eq!(previous_segment("000000010000000000000000", size), None);
    }

    #[test]
    fn a_draw_is_a_whole_second_inside_the_window_and_repeats_with_its_seed() {
        let from = at("2026-12-01T00:00:00.5Z");
        let to = at("2026-12-01T00:10:00.2Z");
        for seed in 0..200 {
            let t = draw(from, to, seed).unwrap();
            assert!(t >= from && t <= to, "{t:?}");
            assert_eq!(t, draw(from, to, seed).unwrap());
        }
        let narrow = draw(from, at("2026-12-01T00:00:00.9Z"), 1).unwrap_err();
        assert!(narrow.message().contains("has no point to draw"));
    }
}
