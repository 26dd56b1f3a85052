//! The backups a tool reports (`pgbackrest info --output=json`, `wal-g
//! backup-list --json --detail`) in one form, and the choice of the one to
//! restore: the newest full backup that ended before the target. Pure.

use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::target::Target;
use crate::error::{Error, Result};

/// One full backup, as the evidence records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Backup {
    pub(crate) name: String,
    pub(crate) start: SystemTime,
    pub(crate) stop: SystemTime,
    pub(crate) start_lsn: String,
    pub(crate) stop_lsn: String,
    /// The restored data directory's size, for the disk-space check.
    pub(crate) size_bytes: u64,
}

/// What the tool's catalogue says: the full backups, oldest first, and the
/// newest WAL segment the archive holds (pgBackRest reports it; WAL-G's is
/// found by listing).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Catalog {
    pub(crate) backups: Vec<Backup>,
    pub(crate) newest_segment: Option<String>,
}

fn unreadable(tool: &str, why: impl std::fmt::Display) -> Error {
    Error::new(format!("cannot read {tool}'s backup list: {why}"))
}

fn epoch(seconds: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
}

/// `pgbackrest info --output=json` for one stanza.
pub(crate) fn from_pgbackrest(text: &str, stanza: &str) -> Result<Catalog> {
    let tool = "pgBackRest";
    let document: Value = serde_json::from_str(text).map_err(|e| unreadable(tool, e))?;
    let entry = document
        .as_array()
        .and_then(|stanzas| stanzas.iter().find(|s| s["name"] == stanza))
        .ok_or_else(|| unreadable(tool, format!("no stanza `{stanza}` in its answer")))?;
    // Status 2 ("no valid backups") is the empty catalogue, said below;
    // another status without a backup (a missing stanza path) is the cause.
    let no_backup = entry["backup"].as_array().is_none_or(Vec::is_empty);
    let code = entry["status"]["code"].as_i64().unwrap_or(0);
    if code != 0 && code != 2 && no_backup {
        return Err(Error::new(format!(
            "pgBackRest reports stanza `{stanza}`: {}",
            entry["status"]["message"]
                .as_str()
                .unwrap_or("an unknown status")
        ))
        .hint("run `pgbackrest stanza-create` and take a full backup first"));
    }
    let mut backups = Vec::new();
    for backup in entry["backup"].as_array().into_iter().flatten() {
        if backup["type"] != "full" || backup["error"] == true {
            continue;
        }
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        backups.push(Backup {
            name: text(&backup["label"]),
            start: epoch(backup["timestamp"]["start"].as_u64().unwrap_or(0)),
            stop: epoch(backup["timestamp"]["stop"].as_u64().unwrap_or(0)),
            start_lsn: text(&backup["lsn"]["start"]),
            stop_lsn: text(&backup["lsn"]["stop"]),
            size_bytes: backup["info"]["size"].as_u64().unwrap_or(0),
        });
    }
    backups.sort_by_key(|b| b.stop);
    // The archive of the newest database id is the one being written.
    let newest_segment = entry["archive"]
        .as_array()
        .and_then(|archives| archives.last())
        .and_then(|archive| archive["max"].as_str())
        .map(str::to_string);
    Ok(Catalog {
        backups,
        newest_segment,
    })
}

/// WAL-G's LSNs are numbers; PostgreSQL writes `X/Y`.
fn lsn_text(value: &Value) -> String {
    match value.as_u64() {
        Some(n) => format!("{:X}/{:X}", n >> 32, n & 0xFFFF_FFFF),
        None => value.as_str().unwrap_or_default().to_string(),
    }
}

/// `wal-g backup-list --json --detail`.
pub(crate) fn from_walg(text: &str) -> Result<Catalog> {
    let tool = "WAL-G";
    let document: Value = if text.trim().is_empty() {
        Value::Array(vec![])
    } else {
        serde_json::from_str(text).map_err(|e| unreadable(tool, e))?
    };
    let list = document
        .as_array()
        .ok_or_else(|| unreadable(tool, "not a JSON array"))?;
    let time = |v: &Value| {
        v.as_str()
            .and_then(|t| humantime::parse_rfc3339_weak(t.trim_end_matches('Z')).ok())
            .unwrap_or(SystemTime::UNIX_EPOCH)
    };
    let mut backups: Vec<Backup> = list
        .iter()
        .filter(|b| {
            b["backup_name"]
                .as_str()
                .is_some_and(|n| !n.contains("_D_"))
        })
        .map(|b| Backup {
            name: b["backup_name"].as_str().unwrap_or_default().to_string(),
            start: time(&b["start_time"]),
            stop: time(&b["finish_time"]),
            start_lsn: lsn_text(&b["start_lsn"]),
            stop_lsn: lsn_text(&b["finish_lsn"]),
            size_bytes: b["uncompressed_size"].as_u64().unwrap_or(0),
        })
        .collect();
    backups.sort_by_key(|b| b.stop);
    Ok(Catalog {
        backups,
        newest_segment: None,
    })
}

/// `--pick`: which retained full backup a drill restores, so drills can
/// sample the whole recovery window and not only its newest end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pick {
    Newest,
    /// The one that proves the whole window: every WAL segment after it is
    /// replayed (with the `latest` target).
    Oldest,
    /// One of the retained backups, drawn with the drill's seed.
    Random,
    /// The newest that ended at least this long before the drill.
    Age(Duration),
}

impl Pick {
    /// `newest`, `oldest`, `random` or `age=DURATION` (`age=7d`).
    pub(crate) fn parse(text: &str) -> Result<Self> {
        let refused = || {
            Error::new(format!("`--pick {text}` is not a choice of backup"))
                .hint("write `--pick newest`, `oldest`, `random` or `age=7d`")
        };
        match text {
            "newest" => Ok(Pick::Newest),
            "oldest" => Ok(Pick::Oldest),
            "random" => Ok(Pick::Random),
            other => {
                let age = other.strip_prefix("age=").ok_or_else(refused)?;
                crate::util::durations::parse(age, false)
                    .map(Pick::Age)
                    .map_err(|why| refused().hint(format!("`{age}`: {why}")))
            }
        }
    }

    /// As the evidence records it.
    pub(crate) fn describe(&self) -> String {
        match self {
            Pick::Newest => "newest".into(),
            Pick::Oldest => "oldest".into(),
            Pick::Random => "random".into(),
            Pick::Age(age) => format!("age={}", crate::util::durations::short(*age)),
        }
    }
}

/// The backup `pick` names among those that can reach `target` (ended
/// before a target time), drawn with `seed` for `random`; `now` for ages.
pub(crate) fn pick<'a>(
    catalog: &'a Catalog,
    target: &Target,
    pick: Pick,
    seed: u64,
    now: SystemTime,
) -> Result<&'a Backup> {
    let reachable: Vec<&Backup> = catalog
        .backups
        .iter()
        .filter(|b| match target {
            Target::Time(at) => b.stop <= *at,
            Target::Latest | Target::Immediate => true,
        })
        .collect();
    let (Some(oldest), Some(newest)) = (reachable.first(), reachable.last()) else {
        // The same answers as without a pick: no backup, or none before the time.
        return choose(catalog, target, None);
    };
    match pick {
        Pick::Newest => Ok(newest),
        Pick::Oldest => Ok(oldest),
        Pick::Random => {
            use rand::{Rng, SeedableRng};
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            Ok(reachable[rng.random_range(0..reachable.len())])
        }
        Pick::Age(age) => {
            let before = now.checked_sub(age).unwrap_or(SystemTime::UNIX_EPOCH);
            reachable
                .iter()
                .rev()
                .find(|b| b.stop <= before)
                .copied()
                .ok_or_else(|| {
                    Error::new(format!(
                        "`--pick age={}` reaches past the retained backups: the oldest ended at {}",
                        crate::util::durations::short(age),
                        humantime::format_rfc3339_seconds(oldest.stop)
                    ))
                    .hint("retention keeps nothing that old; pick a shorter age or `--pick oldest`")
                })
        }
    }
}

/// The backup to restore: `--backup NAME`, else the newest that ended
/// before the target time (any for `latest` and `immediate`).
pub(crate) fn choose<'a>(
    catalog: &'a Catalog,
    target: &Target,
    named: Option<&str>,
) -> Result<&'a Backup> {
    let Some(oldest) = catalog.backups.first() else {
        return Err(Error::new("the repository holds no full backup to restore")
            .hint("take one first (`pgbackrest backup`, `wal-g backup-push`); drift's `backup.health.base_backup` watches for it"));
    };
    if let Some(name) = named {
        let backup = catalog
            .backups
            .iter()
            .find(|b| b.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = catalog.backups.iter().map(|b| b.name.as_str()).collect();
                Error::new(format!("no full backup is named `{name}`"))
                    .hint(format!("the repository holds: {}", names.join(", ")))
            })?;
        if let Target::Time(at) = target {
            if backup.stop > *at {
                return Err(Error::new(format!(
                    "backup `{name}` ended at {}, after the target time {}",
                    humantime::format_rfc3339_seconds(backup.stop),
                    target.describe()
                ))
                .hint(
                    "a backup can only be rolled forward: pick one that ended before the target",
                ));
            }
        }
        return Ok(backup);
    }
    match target {
        Target::Time(at) => catalog
            .backups
            .iter()
            .rev()
            .find(|b| b.stop <= *at)
            .ok_or_else(|| {
                Error::new(format!(
                    "`--target-time {}` is before the oldest full backup, which ended at {}",
                    target.describe(),
                    humantime::format_rfc3339_seconds(oldest.stop)
                ))
                .hint("point-in-time recovery reaches back to the oldest full backup kept")
            }),
        Target::Latest | Target::Immediate => Ok(catalog.backups.last().unwrap_or(oldest)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    const PGBACKREST: &str = r#"[{"archive":[{"database":{"id":1,"repo-key":1},"id":"15-1","max":"000000010000000000000007","min":"000000010000000000000001"}],
      "backup":[
        {"archive":{"start":"000000010000000000000003","stop":"000000010000000000000003"},"backrest":{"format":5,"version":"2.45"},"database":{"id":1,"repo-key":1},"error":false,"info":{"delta":100,"repository":{"delta":10,"size":10},"size":23000000},"label":"20261120-020000F","lsn":{"start":"0/3000028","stop":"0/3000100"},"prior":null,"reference":null,"timestamp":{"start":1795140000,"stop":1795140010},"type":"full"},
        {"archive":{"start":"000000010000000000000005","stop":"000000010000000000000005"},"backrest":{"format":5,"version":"2.45"},"database":{"id":1,"repo-key":1},"error":false,"info":{"delta":100,"repository":{"delta":10,"size":10},"size":24000000},"label":"20261120-020000F_20261121-020000I","lsn":{"start":"0/5000028","stop":"0/5000100"},"prior":"20261120-020000F","reference":null,"timestamp":{"start":1795226400,"stop":1795226410},"type":"incr"},
        {"archive":{"start":"000000010000000000000006","stop":"000000010000000000000006"},"backrest":{"format":5,"version":"2.45"},"database":{"id":1,"repo-key":1},"error":false,"info":{"delta":100,"repository":{"delta":10,"size":10},"size":25000000},"label":"20261122-020000F","lsn":{"start":"0/6000028","stop":"0/6000100"},"prior":null,"reference":null,"timestamp":{"start":1795312800,"stop":1795312810},"type":"full"}],
      "cipher":"none","db":[{"id":1,"repo-key":1,"system-id":7000000000000000000,"version":"15"}],"name":"main","repo":[{"cipher":"none","key":1,"status":{"code":0,"message":"ok"}}],"status":{"code":0,"lock":{"backup":{"held":false}},"message":"ok"}}]"#;

    #[test]
    fn reads_pgbackrest_full_backups_and_the_archive_end() {
        let catalog = from_pgbackrest(PGBACKREST, "main").unwrap();
        let names: Vec<&str> = catalog.backups.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["20261120-020000F", "20261122-020000F"]);
        assert_eq!(catalog.backups[1].stop_lsn, "0/6000100");
        assert_eq!(catalog.backups[1].size_bytes, 25_000_000);
        assert_eq!(
            catalog.newest_segment.as_deref(),
            Some("000000010000000000000007")
        );
        assert!(from_pgbackrest(PGBACKREST, "other").is_err());
    }

    #[test]
    fn reads_walg_backups_with_numeric_lsns() {
        let text = r#"[{"backup_name":"base_000000010000000000000002","time":"2026-11-20T02:00:10Z","wal_file_name":"000000010000000000000002","start_time":"2026-11-20T02:00:00Z","finish_time":"2026-11-20T02:00:10Z","hostname":"db","data_dir":"/var/lib/postgresql/data","pg_version":150004,"start_lsn":33554472,"finish_lsn":33554720,"is_permanent":false,"system_identifier":7000000000000000000,"uncompressed_size":23000000,"compressed_size":3000000}]"#;
        let catalog = from_walg(text).unwrap();
        assert_eq!(catalog.backups[0].name, "base_000000010000000000000002");
        assert_eq!(catalog.backups[0].start_lsn, "0/2000028");
        assert_eq!(
            catalog.backups[0].stop,
            humantime::parse_rfc3339("2026-11-20T02:00:10Z").unwrap()
        );
        assert!(from_walg("").unwrap().backups.is_empty());
        assert!(from_walg("{").is_err());
    }

    #[test]
    fn a_pick_samples_the_retained_backups() {
        let catalog = from_pgbackrest(PGBACKREST, "main").unwrap();
        let now = epoch(1795312810 + 86_400);
        let name = |target: &Target, p: &str, seed: u64| {
            pick(&catalog, target, Pick::parse(p).unwrap(), seed, now).map(|b| b.name.clone())
        };
        assert_eq!(
            name(&Target::Latest, "newest", 0).unwrap(),
            "20261122-020000F"
        );
        assert_eq!(
            name(&Target::Latest, "oldest", 0).unwrap(),
            "20261120-020000F"
        );
        // One day old: the newest; two days: the one before.
        assert_eq!(
            name(&Target::Latest, "age=1d", 0).unwrap(),
            "20261122-020000F"
        );
        assert_eq!(
            name(&Target::Latest, "age=2d", 0).unwrap(),
            "20261120-020000F"
        );
        let far = name(&Target::Latest, "age=30d", 0).unwrap_err();
        assert!(
            far.message().contains("reaches past the retained backups"),
            "{}",
            far.message()
        );
        // A seed draws the same backup every time, and the seeds reach both.
        let drawn: BTreeSet<String> = (0..16)
            .map(|seed| name(&Target::Latest, "random", seed).unwrap())
            .collect();
        assert_eq!(drawn.len(), 2);
        assert_eq!(
            name(&Target::Latest, "random", 7).unwrap(),
            name(&Target::Latest, "random", 7).unwrap()
        );
        // Before a target time only the older one can reach it.
        let at = Target::Time(epoch(1795300000));
        assert_eq!(name(&at, "newest", 0).unwrap(), "20261120-020000F");
        assert!(Pick::parse("age=").is_err());
        assert!(Pick::parse("middle").unwrap_err().hints()[0].contains("age=7d"));
        assert_eq!(Pick::parse("age=7d").unwrap().describe(), "age=7d");
    }

    #[test]
    fn chooses_the_newest_backup_before_the_target() {
        let catalog = from_pgbackrest(PGBACKREST, "main").unwrap();
        let at = |s: u64| Target::Time(epoch(s));
        assert_eq!(
            choose(&catalog, &Target::Latest, None).unwrap().name,
            "20261122-020000F"
        );
        assert_eq!(
            choose(&catalog, &at(1795300000), None).unwrap().name,
            "20261120-020000F"
        );
        let early = choose(&catalog, &at(1795140005), None).unwrap_err();
        assert!(early.message().contains("is before the oldest full backup"));
        let named = choose(&catalog, &at(1795300000), Some("20261122-020000F")).unwrap_err();
        assert!(named.message().contains("after the target time"));
        assert!(choose(&catalog, &Target::Latest, Some("nope"))
            .unwrap_err()
            .hints()[0]
            .contains("20261120-020000F, 20261122-020000F"));
        let empty = choose(&Catalog::default(), &Target::Latest, None).unwrap_err();
        assert!(empty.message().contains("no full backup"));
    }
}
