//! The bucket diff: pure. Declared properties only. Lifecycle rules compare as
//! a set keyed by id; because S3 replaces the whole configuration, the rules
//! dbops writes are the declared ones plus, unless `prune_lifecycle`, the
//! undeclared ones it found, and the plan says which rules would go.

use std::collections::BTreeMap;

use super::live::LiveBucket;
use super::operation::Operation;
use crate::error::Error;
use crate::plan::{Action, Address, AttributeChange, Change, DomainDiff, Value};
use crate::s3::bucket::BucketSpec;
use crate::s3::lifecycle::Rule;
use crate::util::text_diff::unified;

fn address(bucket: &str, property: Option<&'static str>) -> Address {
    let address = super::ID.address().name(bucket);
    match property {
        None => address,
        Some(p) => address.word(p),
    }
}

fn text(value: &str) -> Value {
    Value::Text(value.to_string())
}

pub(crate) fn diff(
    desired: &BucketSpec,
    live: &LiveBucket,
) -> Result<DomainDiff<Operation>, Error> {
    let name = &desired.name;
    let mut out = DomainDiff::default();
    if !live.exists {
        if !desired.create {
            return Err(Error::new(format!(
                "bucket `{name}` does not exist at {}",
                desired.endpoint_name()
            ))
            .kind(crate::error::ErrorKind::Storage)
            .hint("create it, or set `create = true` in its table"));
        }
        out.push(
            Change::new(address(name, None), Action::Create)
                .attribute(AttributeChange::new(
                    "region",
                    None,
                    Some(text(&desired.region)),
                ))
                .with(Operation::Create {
                    bucket: name.clone(),
                }),
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
            out.push(
                Change::new(address(name, Some("versioning")), action(current.is_some()))
                    .attribute(AttributeChange::new(
                        "status",
                        current.map(text),
                        Some(text(wanted)),
                    ))
                    .with(Operation::Versioning {
                        bucket: name.clone(),
                        enabled,
                    }),
            );
        }
    }
    if let Some(wanted) = &desired.encryption {
        if live.encryption.as_ref() != Some(wanted) {
            out.push(
                Change::new(
                    address(name, Some("encryption")),
                    action(live.encryption.is_some()),
                )
                .attribute(AttributeChange::new(
                    "default",
                    live.encryption.as_ref().map(|e| text(e.as_str())),
                    Some(text(wanted.as_str())),
                ))
                .with(Operation::Encryption {
                    bucket: name.clone(),
                    value: wanted.clone(),
                }),
            );
        }
    }
    if let Some(block) = desired.block_public_access {
        let current = live.block_public_access.unwrap_or(false);
        if current != block {
            let action = if block {
                Action::Create
            } else {
                Action::Delete
            };
            out.push(
                Change::new(address(name, Some("public_access_block")), action)
                    .attribute(AttributeChange::new(
                        "block_all",
                        Some(Value::Bool(current)),
                        Some(Value::Bool(block)),
                    ))
                    .with(Operation::PublicAccessBlock {
                        bucket: name.clone(),
                        block,
                    }),
            );
        }
    }
    if let Some(rules) = &desired.lifecycle {
        lifecycle(desired, rules, live, &mut out);
    }
    Ok(out)
}

fn lifecycle(
    desired: &BucketSpec,
    declared: &[Rule],
    live: &LiveBucket,
    out: &mut DomainDiff<Operation>,
) {
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
    out.push(change.with(Operation::Lifecycle {
        bucket: name.clone(),
        rules: target.values().map(|r| (*r).clone()).collect(),
    }));
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
