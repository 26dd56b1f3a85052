//! Lifecycle rules in one normalized form, so a rule reads the same whether
//! the endpoint returns the legacy top-level `Prefix` or `Filter { Prefix }`,
//! and whatever fields a provider adds on its own (MinIO and Ceph add
//! `x-amz-transition-default-minimum-object-size`; dbops neither sends nor
//! compares it). Pure: no I/O.

use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter, NoncurrentVersionExpiration, Transition, TransitionStorageClass,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Storage classes a lifecycle transition may name.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
pub(crate) enum StorageClass {
    #[serde(rename = "STANDARD_IA")]
    StandardIa,
    #[serde(rename = "ONEZONE_IA")]
    OnezoneIa,
    #[serde(rename = "INTELLIGENT_TIERING")]
    IntelligentTiering,
    #[serde(rename = "GLACIER")]
    Glacier,
    #[serde(rename = "GLACIER_IR")]
    GlacierIr,
    #[serde(rename = "DEEP_ARCHIVE")]
    DeepArchive,
}

impl StorageClass {
    pub(crate) const ALL: [StorageClass; 6] = [
        StorageClass::StandardIa,
        StorageClass::OnezoneIa,
        StorageClass::IntelligentTiering,
        StorageClass::Glacier,
        StorageClass::GlacierIr,
        StorageClass::DeepArchive,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            StorageClass::StandardIa => "STANDARD_IA",
            StorageClass::OnezoneIa => "ONEZONE_IA",
            StorageClass::IntelligentTiering => "INTELLIGENT_TIERING",
            StorageClass::Glacier => "GLACIER",
            StorageClass::GlacierIr => "GLACIER_IR",
            StorageClass::DeepArchive => "DEEP_ARCHIVE",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// Objects in this class cannot be read without a restore request that takes hours.
    pub(crate) fn needs_restore_request(self) -> bool {
        matches!(self, StorageClass::Glacier | StorageClass::DeepArchive)
    }
}

/// A transition's class as the endpoint reported it: one dbops knows, or another name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub(crate) enum TransitionClass {
    Known(StorageClass),
    Other(String),
}

impl TransitionClass {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            TransitionClass::Known(class) => class.as_str(),
            TransitionClass::Other(name) => name,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Rule {
    pub(crate) id: String,
    /// Empty: the whole bucket.
    pub(crate) prefix: String,
    pub(crate) enabled: bool,
    pub(crate) expire_after_days: Option<i64>,
    pub(crate) noncurrent_expire_after_days: Option<i64>,
    /// (days, storage class)
    pub(crate) transition: Option<(i64, TransitionClass)>,
    pub(crate) abort_incomplete_multipart_after_days: Option<i64>,
}

impl Rule {
    /// The rule as the endpoint returned it, normalized.
    pub(crate) fn from_sdk(rule: &LifecycleRule) -> Self {
        #[expect(
            deprecated,
            reason = "S3 still returns the legacy `Prefix` element; it is read to normalize it"
        )]
        let legacy_prefix = rule.prefix();
        let filter_prefix = rule
            .filter()
            .and_then(|f| f.prefix().or_else(|| f.and().and_then(|a| a.prefix())));
        Self {
            id: rule.id().unwrap_or_default().to_string(),
            prefix: filter_prefix
                .or(legacy_prefix)
                .unwrap_or_default()
                .to_string(),
            enabled: *rule.status() == ExpirationStatus::Enabled,
            expire_after_days: rule.expiration().and_then(|e| e.days()).map(i64::from),
            noncurrent_expire_after_days: rule
                .noncurrent_version_expiration()
                .and_then(|e| e.noncurrent_days())
                .map(i64::from),
            transition: rule.transitions().first().and_then(|t| {
                let class = t.storage_class()?.as_str();
                let class = StorageClass::parse(class)
                    .map(TransitionClass::Known)
                    .unwrap_or_else(|| TransitionClass::Other(class.to_string()));
                Some((i64::from(t.days()?), class))
            }),
            abort_incomplete_multipart_after_days: rule
                .abort_incomplete_multipart_upload()
                .and_then(|a| a.days_after_initiation())
                .map(i64::from),
        }
    }

    pub(crate) fn to_sdk(&self) -> LifecycleRule {
        let days = |d: i64| i32::try_from(d).unwrap_or(i32::MAX);
        let mut rule = LifecycleRule::builder()
            .id(&self.id)
            .filter(LifecycleRuleFilter::builder().prefix(&self.prefix).build())
            .status(if self.enabled {
                ExpirationStatus::Enabled
            } else {
                ExpirationStatus::Disabled
            });
        if let Some(d) = self.expire_after_days {
            rule = rule.expiration(LifecycleExpiration::builder().days(days(d)).build());
        }
        if let Some(d) = self.noncurrent_expire_after_days {
            rule = rule.noncurrent_version_expiration(
                NoncurrentVersionExpiration::builder()
                    .noncurrent_days(days(d))
                    .build(),
            );
        }
        if let Some((d, class)) = &self.transition {
            rule = rule.transitions(
                Transition::builder()
                    .days(days(*d))
                    .storage_class(TransitionStorageClass::from(class.as_str()))
                    .build(),
            );
        }
        if let Some(d) = self.abort_incomplete_multipart_after_days {
            rule = rule.abort_incomplete_multipart_upload(
                AbortIncompleteMultipartUpload::builder()
                    .days_after_initiation(days(d))
                    .build(),
            );
        }
        rule.build().expect("a lifecycle rule has a status")
    }

    /// One line per rule, for plans: `prefix "prod/wal_005/", expire 30d`.
    pub(crate) fn summary(&self) -> String {
        let mut parts = vec![if self.prefix.is_empty() {
            "whole bucket".to_string()
        } else {
            format!("prefix {}", serde_json::Value::String(self.prefix.clone()))
        }];
        if !self.enabled {
            parts.push("disabled".into());
        }
        if let Some(d) = self.expire_after_days {
            parts.push(format!("expire {d}d"));
        }
        if let Some(d) = self.noncurrent_expire_after_days {
            parts.push(format!("noncurrent expire {d}d"));
        }
        if let Some((d, class)) = &self.transition {
            parts.push(format!("to {} after {d}d", class.as_str()));
        }
        if let Some(d) = self.abort_incomplete_multipart_after_days {
            parts.push(format!("abort multipart after {d}d"));
        }
        parts.join(", ")
    }

    /// Whether this rule applies to keys under `prefix`.
    pub(crate) fn covers(&self, prefix: &str) -> bool {
        self.enabled && prefix.starts_with(&self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> Rule {
        Rule {
            id: "expire-wal".into(),
            prefix: "prod/wal_005/".into(),
            enabled: true,
            expire_after_days: Some(30),
            noncurrent_expire_after_days: Some(7),
            transition: Some((14, TransitionClass::Known(StorageClass::Glacier))),
            abort_incomplete_multipart_after_days: Some(3),
        }
    }

    #[test]
    fn round_trips_through_the_sdk_form() {
        assert_eq!(Rule::from_sdk(&rule().to_sdk()), rule());
    }

    #[test]
    fn legacy_prefix_and_filter_prefix_are_the_same_rule() {
        #[expect(
            deprecated,
            reason = "the test builds a rule with the legacy `Prefix` element, as old buckets hold"
        )]
        let legacy = LifecycleRule::builder()
            .id("expire-wal")
            .prefix("prod/wal_005/")
            .status(ExpirationStatus::Enabled)
            .expiration(LifecycleExpiration::builder().days(30).build())
            .build()
            .unwrap();
        let filtered = LifecycleRule::builder()
            .id("expire-wal")
            .filter(
                LifecycleRuleFilter::builder()
                    .prefix("prod/wal_005/")
                    .build(),
            )
            .status(ExpirationStatus::Enabled)
            .expiration(LifecycleExpiration::builder().days(30).build())
            .build()
            .unwrap();
        assert_eq!(Rule::from_sdk(&legacy), Rule::from_sdk(&filtered));
    }

    #[test]
    fn provider_added_fields_do_not_matter() {
        let with_size = LifecycleRule::builder()
            .id("r")
            .filter(
                LifecycleRuleFilter::builder()
                    .prefix("p/")
                    .object_size_greater_than(128 * 1024)
                    .build(),
            )
            .status(ExpirationStatus::Enabled)
            .build()
            .unwrap();
        let plain = LifecycleRule::builder()
            .id("r")
            .filter(LifecycleRuleFilter::builder().prefix("p/").build())
            .status(ExpirationStatus::Enabled)
            .build()
            .unwrap();
        assert_eq!(Rule::from_sdk(&with_size), Rule::from_sdk(&plain));
    }

    #[test]
    fn summaries_read_well() {
        assert_eq!(
            rule().summary(),
            "prefix \"prod/wal_005/\", expire 30d, noncurrent expire 7d, to GLACIER after 14d, abort multipart after 3d"
        );
    }
}
