//! The bucket diff: pure. Declared properties only. Lifecycle rules compare as
//! a set keyed by id; because S3 replaces the whole configuration, the rules
//! dbops writes are the declared ones plus, unless `prune_lifecycle`, the
//! undeclared ones it found, and the plan says which rules would go.

use std::collections::BTreeMap;

use super::desired::DesiredBucket;
use super::live::LiveBucket;
use super::rule::Rule;
use crate::error::{Error, Result};
use crate::plan::{
    address_segment as seg, Action, AttributeChange, Change, Operation as PlanOperation, Value,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    Create {
        bucket: String,
    },
    Versioning {
        bucket: String,
        enabled: bool,
    },
    Encryption {
        bucket: String,
        value: String,
    },
    PublicAccessBlock {
        bucket: String,
        block: bool,
    },
    /// The whole configuration: S3 has no per-rule API.
    Lifecycle {
        bucket: String,
        rules: Vec<Rule>,
    },
}

impl Operation {
    pub fn bucket(&self) -> &str {
        match self {
            Operation::Create { bucket }
            | Operation::Versioning { bucket, .. }
            | Operation::Encryption { bucket, .. }
            | Operation::PublicAccessBlock { bucket, .. }
            | Operation::Lifecycle { bucket, .. } => bucket,
        }
    }
}

/// Changes and notes for one bucket.
#[derive(Debug, Default)]
pub struct BucketDiff {
    pub changes: Vec<Change>,
    pub notes: Vec<String>,
}

fn address(bucket: &str, property: Option<&str>) -> String {
    match property {
        None => format!("bucket.{}", seg(bucket)),
        Some(p) => format!("bucket.{}.{p}", seg(bucket)),
    }
}

fn text(value: &str) -> Value {
    Value::Text(value.to_string())
}

pub fn diff(desired: &DesiredBucket, live: &LiveBucket) -> Result<BucketDiff> {
    let name = &desired.name;
    let mut out = BucketDiff::default();
    let op = |operation: Operation| PlanOperation::Bucket(operation);
    if !live.exists {
        if !desired.create {
            return Err(Error::new(format!(
                "bucket `{name}` does not exist at {}",
                desired.endpoint_name()
            ))
            .hint("create it, or set `create = true` in its table"));
        }
        out.changes.push(
            Change::new(
                address(name, None),
                Action::Create,
                op(Operation::Create {
                    bucket: name.clone(),
                }),
            )
            .attribute(AttributeChange::new(
                "region",
                None,
                Some(text(&desired.region)),
            )),
        );
    }
    let action = |before: bool| {
        if before {
            Action::Update
        } else {
            Action::Create
        }
    };

    if let Some(enabled) = desired.versioning {
        let current = live.versioning.as_deref();
        let wanted = if enabled { "Enabled" } else { "Suspended" };
        let differs = match (enabled, current) {
            (true, Some("Enabled")) => false,
            (true, _) => true,
            (false, Some("Enabled")) => true,
            (false, _) => false,
        };
        if differs {
            out.changes.push(
                Change::new(
                    address(name, Some("versioning")),
                    action(current.is_some()),
                    op(Operation::Versioning {
                        bucket: name.clone(),
                        enabled,
                    }),
                )
                .attribute(AttributeChange::new(
                    "status",
                    current.map(text),
                    Some(text(wanted)),
                )),
            );
        }
    }
    if let Some(wanted) = &desired.encryption {
        if live.encryption.as_deref() != Some(wanted.as_str()) {
            out.changes.push(
                Change::new(
                    address(name, Some("encryption")),
                    action(live.encryption.is_some()),
                    op(Operation::Encryption {
                        bucket: name.clone(),
                        value: wanted.clone(),
                    }),
                )
                .attribute(AttributeChange::new(
                    "default",
                    live.encryption.as_deref().map(text),
                    Some(text(wanted)),
                )),
            );
        }
    }
    if let Some(block) = desired.block_public_access {
        let current = live.block_public_access.unwrap_or(false);
        if current != block {
            out.changes.push(
                Change::new(
                    address(name, Some("public_access_block")),
                    if block {
                        Action::Create
                    } else {
                        Action::Delete
                    },
                    op(Operation::PublicAccessBlock {
                        bucket: name.clone(),
                        block,
                    }),
                )
                .attribute(AttributeChange::new(
                    "block_all",
                    Some(Value::Bool(current)),
                    Some(Value::Bool(block)),
                )),
            );
        }
    }
    if let Some(rules) = &desired.lifecycle {
        lifecycle(desired, rules, live, &mut out);
    }
    Ok(out)
}

fn lifecycle(desired: &DesiredBucket, declared: &[Rule], live: &LiveBucket, out: &mut BucketDiff) {
    let name = &desired.name;
    let current: BTreeMap<&str, &Rule> =
        live.lifecycle.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut target: BTreeMap<&str, &Rule> = declared.iter().map(|r| (r.id.as_str(), r)).collect();
    let undeclared: Vec<&Rule> = live
        .lifecycle
        .iter()
        .filter(|r| !target.contains_key(r.id.as_str()))
        .collect();
    if !desired.prune_lifecycle {
        for rule in &undeclared {
            target.insert(&rule.id, rule);
        }
        if !undeclared.is_empty() {
            let ids: Vec<String> = undeclared.iter().map(|r| format!("`{}`", r.id)).collect();
            out.notes.push(format!(
                "bucket `{name}` has lifecycle rules the file does not declare: {}; kept (`prune_lifecycle = true` removes them)",
                ids.join(", ")
            ));
        }
    }
    if target == current {
        return;
    }
    let mut change = Change::new(
        address(name, Some("lifecycle")),
        if current.is_empty() {
            Action::Create
        } else {
            Action::Update
        },
        PlanOperation::Bucket(Operation::Lifecycle {
            bucket: name.clone(),
            rules: target.values().map(|r| (*r).clone()).collect(),
        }),
    );
    let ids: std::collections::BTreeSet<&str> =
        current.keys().chain(target.keys()).copied().collect();
    for id in ids {
        let before = current.get(id).map(|r| r.summary());
        let after = target.get(id).map(|r| r.summary());
        if before != after {
            change = change.attribute(AttributeChange::new(
                &format!("rule {}", serde_json::Value::String(id.to_string())),
                before.map(Value::Text),
                after.map(Value::Text),
            ));
        }
    }
    let removed: Vec<String> = current
        .keys()
        .filter(|id| !target.contains_key(*id))
        .map(|id| format!("`{id}`"))
        .collect();
    if !removed.is_empty() {
        change = change.reason(format!(
            "S3 replaces the whole lifecycle configuration: {} will be removed (`prune_lifecycle = true`)",
            removed.join(", ")
        ));
    }
    let render = |rules: &BTreeMap<&str, &Rule>| -> String {
        rules
            .iter()
            .map(|(id, r)| format!("{id}: {}\n", r.summary()))
            .collect()
    };
    change.diff = Some(unified(&render(&current), &render(&target)));
    out.changes.push(change);
}

/// A unified diff of two texts, without headers.
pub fn unified(before: &str, after: &str) -> String {
    let diff = similar::TextDiff::from_lines(before, after);
    let mut out = String::new();
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => "-",
            similar::ChangeTag::Insert => "+",
            similar::ChangeTag::Equal => " ",
        };
        out.push_str(sign);
        out.push_str(change.value());
        if !change.value().ends_with('\n') {
            out.push('\n');
        }
    }
    out
}
