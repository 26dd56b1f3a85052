//! `[bucket.NAME]`: endpoint, credentials and normalized lifecycle rules.

use super::*;

pub(super) fn resolve_bucket(
    name: &str,
    raw: &RawBucket,
    source: &SourceFile,
) -> Result<DesiredBucket> {
    let at = |keys: &[&str]| {
        let mut path = vec!["bucket", name];
        path.extend_from_slice(keys);
        source.locate(&path)
    };
    if name.len() < 3
        || name.len() > 63
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
    {
        return Err(Error::new(format!(
            "`{name}` is not a valid bucket name: 3 to 63 lowercase letters, digits, `-` and `.`"
        ))
        .at(at(&[])));
    }
    let endpoint = match &raw.endpoint {
        None => None,
        Some(PlainOrSecret::Plain(text)) => Some(text.clone()),
        Some(PlainOrSecret::Secret(reference)) => Some(
            secret(reference, source, &["bucket", name, "endpoint"])?
                .expose_secret()
                .to_string(),
        ),
    };
    if let Some(endpoint) = &endpoint {
        let ok = url::Url::parse(endpoint)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !ok {
            return Err(
                Error::new(format!("key `bucket.{name}.endpoint`: not an http(s) URL"))
                    .at(at(&["endpoint"]))
                    .hint(
                        "write e.g. `https://s3.eu-central-1.amazonaws.com` or `http://minio:9000`",
                    ),
            );
        }
    }
    let credentials = match (&raw.access_key_id, &raw.secret_access_key) {
        (Some(id), Some(key)) => Some((
            secret(id, source, &["bucket", name, "access_key_id"])?,
            secret(key, source, &["bucket", name, "secret_access_key"])?,
        )),
        (None, None) => None,
        _ => {
            return Err(Error::new(format!(
                "bucket `{name}` sets only one of `access_key_id` and `secret_access_key`"
            ))
            .at(at(&[]))
            .hint("set both, or neither to use the standard AWS credential chain"))
        }
    };
    if let Some(encryption) = &raw.encryption {
        if encryption.trim().is_empty() {
            return Err(
                Error::new(format!("key `bucket.{name}.encryption` is empty"))
                    .at(at(&["encryption"]))
                    .hint("write `AES256` or a KMS key id"),
            );
        }
    }
    let lifecycle = match &raw.lifecycle {
        None => None,
        Some(rules) => {
            let mut out: Vec<Rule> = Vec::new();
            for (index, rule) in rules.iter().enumerate() {
                let i = index.to_string();
                let key = |k: &str| format!("key `bucket.{name}.lifecycle[{index}].{k}`");
                let rule_at = |k: &str| at(&["lifecycle", &i, k]);
                if rule.id.trim().is_empty() {
                    return Err(
                        Error::new(format!("{}: a rule needs an id", key("id"))).at(rule_at("id"))
                    );
                }
                if out.iter().any(|r| r.id == rule.id) {
                    return Err(Error::new(format!(
                        "{}: lifecycle rule id `{}` is used twice; ids identify rules",
                        key("id"),
                        rule.id
                    ))
                    .at(rule_at("id")));
                }
                for (field, value) in [
                    ("expire_after_days", rule.expire_after_days),
                    (
                        "noncurrent_expire_after_days",
                        rule.noncurrent_expire_after_days,
                    ),
                    ("transition_after_days", rule.transition_after_days),
                    (
                        "abort_incomplete_multipart_after_days",
                        rule.abort_incomplete_multipart_after_days,
                    ),
                ] {
                    if let Some(days) = value {
                        if days < 0 || days > i64::from(i32::MAX) {
                            return Err(Error::new(format!(
                                "{}: {days} is not a number of days",
                                key(field)
                            ))
                            .at(rule_at(field))
                            .hint("use a whole number of days, 0 or more"));
                        }
                    }
                }
                let transition = match (rule.transition_after_days, &rule.transition_storage_class) {
                    (Some(days), Some(class)) => {
                        if !STORAGE_CLASSES.contains(&class.as_str()) {
                            return Err(Error::new(format!(
                                "{}: `{class}` is not a storage class; valid: {}",
                                key("transition_storage_class"),
                                STORAGE_CLASSES.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
                            ))
                            .at(rule_at("transition_storage_class")));
                        }
                        Some((days, class.clone()))
                    }
                    (None, None) => None,
                    _ => {
                        return Err(Error::new(format!(
                            "lifecycle rule `{}` needs both `transition_after_days` and `transition_storage_class`",
                            rule.id
                        ))
                        .at(rule_at("id")))
                    }
                };
                let normalized = Rule {
                    id: rule.id.clone(),
                    prefix: rule.prefix.clone().unwrap_or_default(),
                    enabled: rule.enabled.unwrap_or(true),
                    expire_after_days: rule.expire_after_days,
                    noncurrent_expire_after_days: rule.noncurrent_expire_after_days,
                    transition,
                    abort_incomplete_multipart_after_days: rule
                        .abort_incomplete_multipart_after_days,
                };
                if normalized.expire_after_days.is_none()
                    && normalized.noncurrent_expire_after_days.is_none()
                    && normalized.transition.is_none()
                    && normalized.abort_incomplete_multipart_after_days.is_none()
                {
                    return Err(Error::new(format!("lifecycle rule `{}` has no action", rule.id))
                        .at(rule_at("id"))
                        .hint("add an expiry, a transition or `abort_incomplete_multipart_after_days`"));
                }
                out.push(normalized);
            }
            out.sort_by(|a, b| a.id.cmp(&b.id));
            Some(out)
        }
    };
    Ok(DesiredBucket {
        name: name.to_string(),
        path_style: raw.path_style.unwrap_or(endpoint.is_some()),
        endpoint,
        region: raw
            .region
            .clone()
            .unwrap_or_else(|| "us-east-1".to_string()),
        credentials,
        create: raw.create,
        versioning: raw.versioning,
        encryption: raw.encryption.clone(),
        block_public_access: raw.block_public_access,
        lifecycle,
        prune_lifecycle: raw.prune_lifecycle,
    })
}
