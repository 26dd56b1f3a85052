//! Cross-checks between the backup declaration and its bucket, that no peer
//! tool makes: retention the bucket would cut short, and a bucket that costs
//! or exposes more than it should. Reported by `validate` and `plan`. Pure.

use super::desired::DesiredBackup;
use crate::domains::bucket::desired::DesiredBucket;
use crate::util::durations::short;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lint {
    pub error: bool,
    pub message: String,
}

pub fn lint(backup: &DesiredBackup, bucket: &DesiredBucket) -> Vec<Lint> {
    let mut lints = Vec::new();
    let mut error = |message: String| {
        lints.push(Lint {
            error: true,
            message,
        })
    };
    let keep_days = backup.oldest_full_backup_days() as i64;
    let wal = backup.wal_prefix();
    let base = backup.base_prefix();
    let rules = bucket.lifecycle.as_deref().unwrap_or_default();
    for rule in rules.iter().filter(|r| r.enabled) {
        if let Some(days) = rule.expire_after_days {
            if rule.covers(&wal) && days < keep_days {
                error(format!(
                    "lifecycle rule `{}` expires WAL after {days}d, but the oldest full backup kept ({} x {}) is {keep_days}d old: point-in-time recovery from it would break",
                    rule.id,
                    backup.full_backups,
                    short(backup.full_backup_interval)
                ));
            }
            if rule.covers(&base) && days < keep_days {
                error(format!(
                    "lifecycle rule `{}` expires full backups after {days}d, before the declared retention of {} full backups ({keep_days}d)",
                    rule.id, backup.full_backups
                ));
            }
        }
    }
    if let Some(days) = backup.wal_days {
        if i64::from(days) < keep_days {
            error(format!(
                "`backup.wal_days = {days}` keeps less WAL than the oldest full backup kept needs ({keep_days}d)"
            ));
        }
    }
    let mut warn = |message: String| {
        lints.push(Lint {
            error: false,
            message,
        })
    };
    if bucket.block_public_access != Some(true) {
        warn(format!(
            "bucket `{}` holds backups but does not set `block_public_access = true`",
            bucket.name
        ));
    }
    if bucket.versioning == Some(true)
        && !rules
            .iter()
            .any(|r| r.enabled && r.noncurrent_expire_after_days.is_some())
    {
        warn(format!(
            "bucket `{}` has versioning on but no rule with `noncurrent_expire_after_days`: old versions are kept, and paid for, forever",
            bucket.name
        ));
    }
    if !rules
        .iter()
        .any(|r| r.covers(&wal) && r.expire_after_days.is_some())
    {
        warn(format!(
            "no lifecycle rule of bucket `{}` expires the archive prefix `{wal}`: WAL accumulates forever",
            bucket.name
        ));
    }
    lints
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::domains::bucket::rule::Rule;

    fn backup() -> DesiredBackup {
        DesiredBackup::example()
    }

    fn rule(id: &str, prefix: &str, expire: Option<i64>, noncurrent: Option<i64>) -> Rule {
        Rule {
            id: id.into(),
            prefix: prefix.into(),
            enabled: true,
            expire_after_days: expire,
            noncurrent_expire_after_days: noncurrent,
            transition: None,
            abort_incomplete_multipart_after_days: None,
        }
    }

    fn bucket(rules: Vec<Rule>, versioning: bool, block: bool) -> DesiredBucket {
        DesiredBucket {
            ca_pem: None,
            name: "b".into(),
            endpoint: None,
            region: "us-east-1".into(),
            path_style: false,
            credentials: None,
            create: false,
            versioning: Some(versioning),
            encryption: None,
            block_public_access: Some(block),
            lifecycle: Some(rules),
            prune_lifecycle: false,
        }
    }

    #[test]
    fn a_sound_bucket_passes() {
        let good = bucket(
            vec![rule("wal", "prod/wal_005/", Some(30), Some(7))],
            true,
            true,
        );
        assert_eq!(lint(&backup(), &good), vec![]);
    }

    #[test]
    fn each_cross_check_fires() {
        let short_wal = bucket(
            vec![rule("wal", "prod/wal_005/", Some(3), Some(7))],
            true,
            true,
        );
        assert!(lint(&backup(), &short_wal)[0]
            .message
            .contains("expires WAL after 3d, but the oldest full backup kept (7 x 1d) is 7d old"));
        let short_base = bucket(
            vec![
                rule("wal", "prod/wal_005/", Some(30), Some(7)),
                rule("base", "prod/basebackups_005/", Some(2), None),
            ],
            true,
            true,
        );
        assert!(lint(&backup(), &short_base)[0]
            .message
            .contains("expires full backups after 2d"));
        let whole_bucket = bucket(vec![rule("all", "", Some(1), Some(1))], true, true);
        assert_eq!(
            lint(&backup(), &whole_bucket)
                .iter()
                .filter(|l| l.error)
                .count(),
            2
        );
        let open = lint(
            &backup(),
            &bucket(
                vec![rule("wal", "prod/wal_005/", Some(30), Some(7))],
                true,
                false,
            ),
        );
        assert!(!open[0].error && open[0].message.contains("block_public_access"));
        let versions = lint(
            &backup(),
            &bucket(
                vec![rule("wal", "prod/wal_005/", Some(30), None)],
                true,
                true,
            ),
        );
        assert!(versions[0].message.contains("noncurrent_expire_after_days"));
        let uncovered = lint(&backup(), &bucket(vec![], false, true));
        assert!(uncovered[0].message.contains(
            "no lifecycle rule of bucket `b` expires the archive prefix `prod/wal_005/`"
        ));
    }
}
