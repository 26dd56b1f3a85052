//! Backup health, for `dbops drift`: are backups actually happening? Reads
//! object listings only (keys and LastModified; nothing is downloaded) in the
//! tool's layout, and compares the newest WAL, the newest full backup and,
//! when asked, the newest restore-test evidence with their thresholds.
//!
//! WAL-G's `wal_005/` is flat, so it is listed page by page (1,000 keys a
//! request: a month of one-minute segments is about 44 requests). pgBackRest's
//! archive is a tree whose names sort by time, so only its last branch is
//! listed. Full backups: WAL-G's `*_backup_stop_sentinel.json` at the top of
//! `basebackups_005/` (one delimiter listing); pgBackRest's `backup.info`,
//! rewritten when a backup completes.

use std::time::{Duration, SystemTime};

use aws_sdk_s3::Client;

use super::desired::{BackupTool, DesiredBackup};
use crate::domains::bucket::client::{classify, client, failure_error};
use crate::domains::bucket::desired::DesiredBucket;
use crate::error::Result;
use crate::plan::{Address, Finding};
use crate::util::durations::short;

/// What findings of this module are grouped under.
pub const CHECK: &str = "backup health";

/// What the listings found: the newest object of each kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    pub newest_wal: Option<SystemTime>,
    pub newest_base_backup: Option<SystemTime>,
    /// The newest `restore-tests/YYYY-MM-DD/` folder's date.
    pub newest_restore_test: Option<SystemTime>,
    pub requests: usize,
}

fn to_system_time(t: &aws_sdk_s3::primitives::DateTime) -> Option<SystemTime> {
    SystemTime::try_from(*t).ok()
}

struct Lister<'a> {
    s3: Client,
    bucket: &'a DesiredBucket,
    requests: usize,
}

impl Lister<'_> {
    /// Newest LastModified under `prefix`, paginating, keys filtered by `keep`.
    async fn newest(
        &mut self,
        prefix: &str,
        keep: impl Fn(&str) -> bool,
    ) -> Result<Option<SystemTime>> {
        let mut newest = None;
        let mut token = None;
        loop {
            let out = self
                .s3
                .list_objects_v2()
                .bucket(&self.bucket.name)
                .prefix(prefix)
                .max_keys(1000)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| failure_error(self.bucket, "ListObjectsV2", None, classify(&e)))?;
            self.requests += 1;
            for object in out.contents() {
                if object.key().is_some_and(&keep) {
                    newest = newest.max(object.last_modified().and_then(to_system_time));
                }
            }
            match out.next_continuation_token() {
                Some(next) if out.is_truncated() == Some(true) => token = Some(next.to_string()),
                _ => return Ok(newest),
            }
        }
    }

    /// One delimiter listing: (objects as (key, time), sub-prefixes), first 1,000 of each.
    async fn level(
        &mut self,
        prefix: &str,
    ) -> Result<(Vec<(String, Option<SystemTime>)>, Vec<String>)> {
        let out = self
            .s3
            .list_objects_v2()
            .bucket(&self.bucket.name)
            .prefix(prefix)
            .delimiter("/")
            .send()
            .await
            .map_err(|e| failure_error(self.bucket, "ListObjectsV2", None, classify(&e)))?;
        self.requests += 1;
        let objects = out
            .contents()
            .iter()
            .map(|o| {
                (
                    o.key().unwrap_or_default().to_string(),
                    o.last_modified().and_then(to_system_time),
                )
            })
            .collect();
        let prefixes = out
            .common_prefixes()
            .iter()
            .filter_map(|p| p.prefix().map(str::to_string))
            .collect();
        Ok((objects, prefixes))
    }
}

pub async fn observe(
    backup: &DesiredBackup,
    bucket: &DesiredBucket,
    timeout: Duration,
) -> Result<Observed> {
    let mut lister = Lister {
        s3: client(bucket, timeout).await,
        bucket,
        requests: 0,
    };
    let mut observed = Observed::default();
    match backup.tool {
        BackupTool::WalG => {
            observed.newest_wal = lister.newest(&backup.wal_prefix(), |_| true).await?;
            let (objects, _) = lister.level(&backup.base_prefix()).await?;
            observed.newest_base_backup = objects
                .iter()
                .filter(|(key, _)| key.ends_with("_backup_stop_sentinel.json"))
                .filter_map(|(_, t)| *t)
                .max();
        }
        BackupTool::PgBackRest => {
            // archive/<stanza>/<version>-<n>/<timeline+high>/<segment>: follow the last branch.
            let mut prefix = backup.wal_prefix();
            for _ in 0..2 {
                let (_, prefixes) = lister.level(&prefix).await?;
                match prefixes.into_iter().max() {
                    Some(last) => prefix = last,
                    None => break,
                }
            }
            observed.newest_wal = lister
                .newest(&prefix, |key| {
                    !key.ends_with("archive.info") && !key.ends_with("archive.info.copy")
                })
                .await?;
            let (objects, _) = lister.level(&backup.base_prefix()).await?;
            observed.newest_base_backup = objects
                .iter()
                .filter(|(key, _)| key.ends_with("/backup.info"))
                .filter_map(|(_, t)| *t)
                .max();
        }
    }
    if backup.restore_test_max_age.is_some() {
        let (_, prefixes) = lister.level(&backup.restore_tests_prefix()).await?;
        observed.newest_restore_test = prefixes
            .iter()
            .filter_map(|p| {
                let date = p.trim_end_matches('/').rsplit('/').next()?;
                humantime::parse_rfc3339(&format!("{date}T00:00:00Z")).ok()
            })
            .max();
    }
    observed.requests = lister.requests;
    Ok(observed)
}

/// Compares what was observed with the thresholds, as of `now`. Pure.
pub fn check(backup: &DesiredBackup, observed: &Observed, now: SystemTime) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut check_one = |name: &'static str,
                         what: &str,
                         newest: Option<SystemTime>,
                         threshold: Duration,
                         where_: String| {
        let address = Address::new("backup").word("health").word(name);
        let threshold_text = short(threshold);
        match newest {
            None => findings.push(
                Finding::new(
                    address,
                    CHECK,
                    format!("no {what} found under `{where_}` (threshold {threshold_text})"),
                )
                .detail("prefix", where_)
                .detail("threshold_seconds", threshold.as_secs()),
            ),
            Some(t) => {
                let age = now.duration_since(t).unwrap_or_default();
                if age > threshold {
                    findings.push(
                        Finding::new(
                            address,
                            CHECK,
                            format!(
                                "newest {what} is {} old, older than the threshold of {threshold_text}",
                                short(age)
                            ),
                        )
                        .detail("prefix", where_)
                        .detail("age_seconds", age.as_secs())
                        .detail("threshold_seconds", threshold.as_secs()),
                    );
                }
            }
        }
    };
    check_one(
        "wal",
        "archived WAL",
        observed.newest_wal,
        backup.max_wal_age,
        backup.wal_prefix(),
    );
    check_one(
        "base_backup",
        "full backup",
        observed.newest_base_backup,
        backup.max_base_backup_age,
        backup.base_prefix(),
    );
    if let Some(threshold) = backup.restore_test_max_age {
        check_one(
            "restore_test",
            "restore-test evidence",
            observed.newest_restore_test,
            threshold,
            backup.restore_tests_prefix(),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backup() -> DesiredBackup {
        DesiredBackup {
            restore_test_max_age: Some(Duration::from_secs(35 * 86_400)),
            ..DesiredBackup::example()
        }
    }

    #[test]
    fn fresh_backups_pass_and_stale_ones_are_named_with_age_and_threshold() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(100 * 86_400);
        let ago = |s: u64| Some(now - Duration::from_secs(s));
        let fresh = Observed {
            newest_wal: ago(60),
            newest_base_backup: ago(3600),
            newest_restore_test: ago(10 * 86_400),
            requests: 3,
        };
        assert!(check(&backup(), &fresh, now).is_empty());
        let stale = Observed {
            newest_wal: ago(3 * 3600),
            newest_base_backup: None,
            newest_restore_test: ago(40 * 86_400),
            requests: 3,
        };
        let findings = check(&backup(), &stale, now);
        assert_eq!(findings.len(), 3);
        assert_eq!(findings[0].address.to_string(), "backup.health.wal");
        assert_eq!(findings[0].details["age_seconds"], 3 * 3600);
        assert_eq!(
            findings[0].message,
            "newest archived WAL is 3h old, older than the threshold of 10m"
        );
        assert_eq!(
            findings[1].message,
            "no full backup found under `prod/basebackups_005/` (threshold 1d 2h)"
        );
        assert_eq!(
            findings[2].message,
            "newest restore-test evidence is 40d old, older than the threshold of 35d"
        );
    }
}
