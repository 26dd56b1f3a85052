//! Pure judgement of what observe read: findings (each saying how to make
//! room), notes for what could not be read, samples for the metrics file.

use super::{DesiredCapacity, LiveCapacity};
use crate::contract::Health;
use crate::metrics::{catalogue as m, Sample};
use crate::plan::{Finding, FindingClass};
use crate::util::sizes::human;

pub(crate) fn check(desired: &DesiredCapacity, live: &LiveCapacity) -> Health {
    let mut health = Health::default();
    match (live.wal_bytes, desired.wal_size_limit) {
        (Some(bytes), limit) => {
            health.samples.push(Sample::new(&m::WAL_SIZE, bytes as f64));
            if let Some(limit) = limit {
                health
                    .samples
                    .push(Sample::new(&m::WAL_SIZE_LIMIT, limit as f64));
                if bytes > limit {
                    health.findings.push(
                        Finding::new(
                            "capacity.wal_size",
                            FindingClass::Health,
                            super::ID.address().word("wal"),
                            format!(
                                "`pg_wal` holds {}, more than `capacity.wal_size_limit` ({}): WAL is kept for a failing archiver, a replication slot or a high `wal_keep_size`/`max_wal_size`; check `pg_stat_archiver` and `pg_replication_slots`",
                                human(bytes),
                                human(limit)
                            ),
                        )
                        .detail("bytes", bytes)
                        .detail("limit_bytes", limit),
                    );
                }
            }
        }
        (None, Some(_)) => health.notes.push(
            "`pg_wal`'s size was not read: the admin role needs `pg_monitor` (or superuser) for `pg_ls_waldir()`".into(),
        ),
        (None, None) => {}
    }
    match &live.filesystem {
        Some(fs) => {
            health
                .samples
                .push(Sample::new(&m::DATA_FILESYSTEM_SIZE, fs.size_bytes as f64));
            health.samples.push(Sample::new(
                &m::DATA_FILESYSTEM_FREE,
                fs.available_bytes as f64,
            ));
            let used = fs.used_percent();
            if used > u64::from(desired.disk_usage_percent) {
                let directory = live.data_directory.clone().unwrap_or_default();
                health.findings.push(
                    Finding::new(
                        "capacity.disk_usage",
                        FindingClass::Health,
                        super::ID.address().word("data_directory"),
                        format!(
                            "the filesystem of the data directory `{directory}` is {used}% full ({} free of {}), above `capacity.disk_usage_percent` ({}%); PostgreSQL stops when it cannot write WAL",
                            human(fs.available_bytes),
                            human(fs.size_bytes),
                            desired.disk_usage_percent
                        ),
                    )
                    .detail("used_percent", used)
                    .detail("threshold_percent", desired.disk_usage_percent)
                    .detail("available_bytes", fs.available_bytes)
                    .detail("size_bytes", fs.size_bytes),
                );
            }
        }
        None => {
            if let Some(why) = &live.filesystem_skipped {
                health.notes.push(format!("disk usage not checked: {why}"));
            }
        }
    }
    health
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domains::capacity::Filesystem;

    fn desired(limit: Option<u64>, percent: u8) -> DesiredCapacity {
        DesiredCapacity {
            wal_size_limit: limit,
            disk_usage_percent: percent,
        }
    }

    #[test]
    fn each_limit_is_a_finding_only_past_it_and_unknowns_are_notes() {
        let live = LiveCapacity {
            wal_bytes: Some(64 << 20),
            filesystem: Some(Filesystem {
                size_bytes: 100 << 30,
                available_bytes: 15 << 30,
                used_bytes: 85 << 30,
            }),
            filesystem_skipped: None,
            data_directory: Some("/data".into()),
        };
        let ids = |h: &Health| h.findings.iter().map(|f| f.id).collect::<Vec<_>>();
        let full = check(&desired(Some(32 << 20), 80), &live);
        assert_eq!(ids(&full), ["capacity.wal_size", "capacity.disk_usage"]);
        assert!(
            full.findings[1]
                .message
                .contains("85% full (15.0 GB free of 100 GB)"),
            "{}",
            full.findings[1].message
        );
        assert_eq!(full.samples.len(), 4);
        let fine = check(&desired(Some(1 << 30), 90), &live);
        assert!(fine.findings.is_empty());
        let unknown = check(
            &desired(Some(1 << 30), 80),
            &LiveCapacity {
                filesystem_skipped: Some("the data directory is not on this machine".into()),
                ..LiveCapacity::default()
            },
        );
        assert!(unknown.findings.is_empty() && unknown.samples.is_empty());
        assert_eq!(unknown.notes.len(), 2, "{:?}", unknown.notes);
    }
}
