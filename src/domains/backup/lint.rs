//! Cross-checks between the backup declaration and its bucket, that no peer
//! tool makes: retention the bucket would cut short, and a bucket that costs
//! or exposes more than it should. Reported by `validate` and `plan`. Pure.

use super::desired::{BackupTool, DesiredBackup, Retention};
use crate::s3::lifecycle::TransitionClass;
use crate::s3::BucketSpec;
use crate::util::durations::short;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lint {
    pub(crate) error: bool,
    pub(crate) message: String,
}

pub(crate) fn lint(backup: &DesiredBackup, bucket: &BucketSpec) -> Vec<Lint> {
    let mut lints = Vec::new();
    let mut error = |message: String| {
        lints.push(Lint {
            error: true,
            message,
        })
    };
    let policy = backup.retention;
    // The oldest full backup lives until the next one is taken and the old
    // one pruned: the policy's span plus one interval (one failed nightly
    // backup must not cost the oldest backup its WAL).
    let backup_days = i64::from(policy.keep_days()) + i64::from(policy.interval_days());
    // WAL-G keeps no copy of the WAL a backup needs inside the backup (that is
    // pgBackRest's `archive-copy`, which dbops turns on): that WAL must live
    // as long as the backup.
    let wal_needed = match backup.tool {
        BackupTool::WalG => i64::from(policy.wal_days).max(backup_days),
        BackupTool::PgBackRest => i64::from(policy.wal_days),
    };
    let wal = backup.wal_prefix();
    let base = backup.base_prefix();
    let evidence = backup.restore_tests_prefix();
    let rules = bucket.lifecycle.as_deref().unwrap_or_default();
    for rule in rules.iter().filter(|r| r.enabled) {
        if let Some(days) = rule.expire_after_days {
            if rule.covers(&wal) && days < wal_needed {
                let why = if wal_needed > i64::from(policy.wal_days) {
                    format!("full backups are kept up to {backup_days}d ({}, `wal_days = {}`, plus one backup interval) and WAL-G needs their WAL to restore them", describe(&policy), policy.wal_days)
                } else {
                    format!(
                        "`wal_days = {}` promises point-in-time recovery that far back",
                        policy.wal_days
                    )
                };
                error(format!(
                    "lifecycle rule `{}` expires WAL after {days}d, but {why}",
                    rule.id
                ));
            }
            if rule.covers(&base) && days < backup_days {
                error(format!(
                    "lifecycle rule `{}` expires full backups after {days}d, but the retention ({}) keeps the oldest for {backup_days}d (its span or `wal_days`, plus one backup interval)",
                    rule.id,
                    describe(&policy)
                ));
            }
            if let Some(max_age) = backup.restore_test_max_age {
                let max_days = max_age.as_secs().div_ceil(86_400) as i64;
                if rule.covers(&evidence) && days < max_days {
                    error(format!(
                        "lifecycle rule `{}` expires restore-test evidence after {days}d, sooner than `restore_test_max_age` ({}): drift would find no evidence between drills",
                        rule.id,
                        short(max_age)
                    ));
                }
            }
        }
        if let Some((days, class)) = &rule.transition {
            if let TransitionClass::Known(known) = class {
                if known.needs_restore_request() {
                    for (what, prefix) in [("WAL", &wal), ("full backups", &base)] {
                        if rule.covers(prefix) {
                            error(format!(
                                "lifecycle rule `{}` moves {what} to `{}` after {days}d: neither backup tool can read it without a restore request that takes hours, so the RTO cannot hold",
                                rule.id,
                                class.as_str()
                            ));
                        }
                    }
                }
            }
        }
    }
    lints.extend(warnings(backup, bucket));
    lints
}

/// What the bucket leaves to chance: public access, old versions, WAL no one expires.
fn warnings(backup: &DesiredBackup, bucket: &BucketSpec) -> Vec<Lint> {
    let mut lints = Vec::new();
    let rules = bucket.lifecycle.as_deref().unwrap_or_default();
    let wal = backup.wal_prefix();
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
    // pgBackRest expires its own WAL (`repo1-retention-archive`, rendered
    // from the policy); WAL-G's `wal-g delete` runs only if the sidecar runs
    // it, so a rule is the safety net.
    let expires_own_wal = backup.tool == BackupTool::PgBackRest;
    if !expires_own_wal
        && !rules
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

/// `7 daily + 4 weekly`, for messages.
pub(crate) fn describe(policy: &Retention) -> String {
    let parts: Vec<String> = [
        (policy.daily, "daily"),
        (policy.weekly, "weekly"),
        (policy.monthly, "monthly"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    parts.join(" + ")
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::s3::lifecycle::{Rule, StorageClass};

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

    fn bucket(rules: Vec<Rule>, versioning: bool, block: bool) -> BucketSpec {
        BucketSpec {
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
            vec![rule("wal", "prod/wal_005/", Some(35), Some(7))],
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
        assert_eq!(
            lint(&backup(), &short_wal)[0].message,
            "lifecycle rule `wal` expires WAL after 3d, but full backups are kept up to 31d (7 daily + 4 weekly, `wal_days = 30`, plus one backup interval) and WAL-G needs their WAL to restore them"
        );
        // Exactly the span leaves no margin for one failed nightly backup.
        let no_margin = bucket(
            vec![rule("wal", "prod/wal_005/", Some(30), Some(7))],
            true,
            true,
        );
        assert!(lint(&backup(), &no_margin)[0].error);
        // pgBackRest copies each backup's WAL into it: `wal_days` alone counts.
        let pgbackrest = DesiredBackup {
            tool: BackupTool::PgBackRest,
            ..DesiredBackup::example()
        };
        let archive = bucket(
            vec![
                rule("wal", "prod/archive/main/", Some(30), Some(7)),
                rule("base", "prod/backup/main/", Some(31), None),
            ],
            true,
            true,
        );
        assert_eq!(lint(&pgbackrest, &archive), vec![]);
        let mut wal_days_short = archive.clone();
        wal_days_short.lifecycle.as_mut().unwrap()[0].expire_after_days = Some(10);
        assert_eq!(
            lint(&pgbackrest, &wal_days_short)[0].message,
            "lifecycle rule `wal` expires WAL after 10d, but `wal_days = 30` promises point-in-time recovery that far back"
        );
        // Archive classes that need a restore request defeat the RTO; GLACIER_IR does not.
        let mut glacier = rule("cold", "prod/", Some(400), Some(7));
        glacier.transition = Some((1, TransitionClass::Known(StorageClass::Glacier)));
        let mut instant = rule("warm", "prod/", Some(400), Some(7));
        instant.transition = Some((1, TransitionClass::Known(StorageClass::GlacierIr)));
        let cold = lint(&backup(), &bucket(vec![glacier], true, true));
        assert_eq!(cold.iter().filter(|l| l.error).count(), 2, "{cold:?}");
        assert!(cold[0].message.contains("moves WAL to `GLACIER` after 1d"));
        assert!(cold[1].message.contains("moves full backups to `GLACIER`"));
        assert_eq!(lint(&backup(), &bucket(vec![instant], true, true)), vec![]);
    }

    #[test]
    fn evidence_base_backups_and_the_bucket_are_checked() {
        // Evidence must outlive the age drift accepts.
        let drilled = DesiredBackup {
            restore_test_max_age: Some(std::time::Duration::from_secs(35 * 86_400)),
            ..DesiredBackup::example()
        };
        let evidence = lint(
            &drilled,
            &bucket(
                vec![
                    rule("wal", "prod/wal_005/", Some(35), Some(7)),
                    rule("tests", "prod/restore-tests/", Some(20), None),
                ],
                true,
                true,
            ),
        );
        assert!(evidence[0].message.contains(
            "expires restore-test evidence after 20d, sooner than `restore_test_max_age` (35d)"
        ));
        let short_base = bucket(
            vec![
                rule("wal", "prod/wal_005/", Some(35), Some(7)),
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
                vec![rule("wal", "prod/wal_005/", Some(35), Some(7))],
                true,
                false,
            ),
        );
        assert!(!open[0].error && open[0].message.contains("block_public_access"));
        let versions = lint(
            &backup(),
            &bucket(
                vec![rule("wal", "prod/wal_005/", Some(35), None)],
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

    #[test]
    fn pgbackrest_expires_its_own_wal_so_no_rule_is_asked_for() {
        let pgbackrest = DesiredBackup {
            tool: BackupTool::PgBackRest,
            ..DesiredBackup::example()
        };
        let none = lint(&pgbackrest, &bucket(vec![], false, true));
        assert!(
            none.iter().all(|l| !l.message.contains("accumulates")),
            "{none:?}"
        );
        let walg = lint(&backup(), &bucket(vec![], false, true));
        assert!(walg
            .iter()
            .any(|l| l.message.contains("WAL accumulates forever")));
    }
}
