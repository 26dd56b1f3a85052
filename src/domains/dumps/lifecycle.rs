//! Retention in a bucket is the bucket's own lifecycle rules, one per
//! class prefix, so the dump writer needs only `PutObject` (no delete, no
//! tagging) and S3 enforces the policy. A set is kept for its class's window
//! or the daily one, whichever is longer (every set is a daily set too),
//! counted as S3 counts: from the object's creation, rounded up to midnight
//! UTC. Noncurrent versions (an overwrite under versioning) go 7 days
//! later; an upload that died is aborted after a day. Lints: a declared
//! rule that would expire dumps before the policy does, and a bucket
//! without versioning.

use super::desired::Retention;
use super::layout::Class;
use crate::error::Error;
use crate::s3::lifecycle::Rule;
use crate::s3::BucketSpec;

/// How long noncurrent versions of a set stay.
const NONCURRENT_DAYS: i64 = 7;

/// The id of the rule for a class.
pub(crate) fn rule_id(class: Class) -> String {
    format!("dbops-dumps-{}", class.word())
}

/// The days a set of `class` is kept.
pub(crate) fn keep_days(class: Class, retention: Retention) -> i64 {
    let days = match class {
        Class::Daily => retention.daily_days(),
        Class::Weekly => retention.weekly_days(),
        Class::Monthly => retention.monthly_days(),
    };
    days.max(retention.daily_days()).max(1) as i64
}

/// The rules the dumps need under `prefix`.
pub(crate) fn rules(prefix: &str, retention: Retention) -> Vec<Rule> {
    let mut out: Vec<Rule> = Class::ALL
        .iter()
        .map(|class| Rule {
            id: rule_id(*class),
            prefix: format!("{prefix}/{}/", class.word()),
            enabled: true,
            expire_after_days: Some(keep_days(*class, retention)),
            noncurrent_expire_after_days: Some(NONCURRENT_DAYS),
            transition: None,
            abort_incomplete_multipart_after_days: None,
        })
        .collect();
    out.push(Rule {
        id: "dbops-dumps-uploads".into(),
        prefix: format!("{prefix}/"),
        enabled: true,
        expire_after_days: None,
        noncurrent_expire_after_days: None,
        transition: None,
        abort_incomplete_multipart_after_days: Some(1),
    });
    out
}

/// What the bucket's declared rules and settings break: errors (a rule
/// expiring dumps too soon) and warnings (no versioning).
pub(crate) fn lint(
    bucket: &BucketSpec,
    prefix: &str,
    retention: Retention,
) -> (Vec<Error>, Vec<String>) {
    let mut errors = Vec::new();
    for rule in bucket.lifecycle.iter().flatten() {
        if rule.id.starts_with("dbops-dumps-") {
            continue;
        }
        for class in Class::ALL {
            let class_prefix = format!("{prefix}/{}/", class.word());
            let reaches = rule.enabled
                && (class_prefix.starts_with(&rule.prefix)
                    || rule.prefix.starts_with(&class_prefix));
            if !reaches {
                continue;
            }
            if let Some(days) = rule.expire_after_days {
                if days < keep_days(class, retention) {
                    errors.push(Error::config(format!(
                        "lifecycle rule `{}` of bucket `{}` expires `{class_prefix}` after {days} day(s), sooner than `[dumps.retention]` keeps {} dumps ({} days)",
                        rule.id,
                        bucket.name,
                        class.word(),
                        keep_days(class, retention)
                    ))
                    .hint(format!("narrow the rule's prefix so it does not reach `{prefix}/`; dbops adds the rules the dumps need (`dbops-dumps-*`)")));
                }
            }
        }
    }
    let mut warnings = Vec::new();
    if bucket.versioning != Some(true) {
        warnings.push(format!(
            "bucket `{}` holds dumps without `versioning = true`: an overwrite or a delete by a leaked writer key destroys a set for good",
            bucket.name
        ));
    }
    (errors, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_class_keeps_its_window_or_the_daily_one() {
        let policy = Retention {
            daily: 7,
            weekly: 4,
            monthly: 3,
        };
        let days: Vec<(String, Option<i64>)> = rules("dumps", policy)
            .into_iter()
            .map(|r| (r.prefix, r.expire_after_days))
            .collect();
        assert_eq!(
            days,
            [
                ("dumps/daily/".to_string(), Some(7)),
                ("dumps/weekly/".to_string(), Some(28)),
                ("dumps/monthly/".to_string(), Some(90)),
                ("dumps/".to_string(), None),
            ]
        );
        let no_weekly = Retention {
            daily: 10,
            weekly: 0,
            monthly: 0,
        };
        assert_eq!(keep_days(Class::Weekly, no_weekly), 10);
    }
}
