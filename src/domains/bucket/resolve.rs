//! `[bucket.NAME]` resolved: the name checked, endpoint and credentials from
//! references, lifecycle rules normalized and checked. No message quotes an
//! endpoint that came from a secret, or a credential.

use secrecy::ExposeSecret;

use super::raw::{PlainOrSecret, RawBucket};
use crate::diagnostics::Resolver;
use crate::error::Result;
use crate::s3::bucket::{BucketSpec, Encryption};
use crate::s3::lifecycle::{Rule, TransitionClass};

pub(crate) fn resolve(name: &str, raw: &RawBucket, r: &Resolver<'_>) -> Result<BucketSpec> {
    let key = |keys: &[&str]| {
        let mut path = vec!["bucket", name];
        path.extend_from_slice(keys);
        r.key(&path)
    };
    if name.len() < 3
        || name.len() > 63
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
    {
        return Err(key(&[]).error(format!(
            "`{name}` is not a valid bucket name: 3 to 63 lowercase letters, digits, `-` and `.`"
        )));
    }
    let endpoint = match &raw.endpoint {
        None => None,
        Some(PlainOrSecret::Plain(text)) => Some(text.clone()),
        Some(PlainOrSecret::Secret(reference)) => Some(
            key(&["endpoint"])
                .secret(reference)?
                .expose_secret()
                .to_string(),
        ),
    };
    if let Some(endpoint) = &endpoint {
        let ok = url::Url::parse(endpoint)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !ok {
            return Err(key(&["endpoint"]).error("not an http(s) URL").hint(
                "write e.g. `https://s3.eu-central-1.amazonaws.com` or `http://minio:9000`",
            ));
        }
    }
    let credentials = match (&raw.access_key_id, &raw.secret_access_key) {
        (Some(id), Some(secret)) => Some((
            key(&["access_key_id"]).secret(id)?,
            key(&["secret_access_key"]).secret(secret)?,
        )),
        (None, None) => None,
        _ => {
            return Err(key(&[])
                .error(format!(
                    "bucket `{name}` sets only one of `access_key_id` and `secret_access_key`"
                ))
                .hint("set both, or neither to use the standard AWS credential chain"))
        }
    };
    let encryption = match &raw.encryption {
        None => None,
        Some(text) if text.trim().is_empty() || text.chars().any(char::is_control) => {
            return Err(key(&["encryption"])
                .error("is not `AES256` or a KMS key id")
                .hint("write `AES256` or a KMS key id"))
        }
        Some(text) => Some(Encryption::parse(text.trim())),
    };
    let region = raw
        .region
        .clone()
        .unwrap_or_else(|| "us-east-1".to_string());
    if region.is_empty()
        || !region
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(key(&["region"])
            .error("is not a region name")
            .hint("write e.g. `us-east-1` or `eu-central-1`"));
    }
    let lifecycle = match &raw.lifecycle {
        None => None,
        Some(rules) => {
            let mut out: Vec<Rule> = Vec::new();
            for (index, rule) in rules.iter().enumerate() {
                let i = index.to_string();
                let rule_key = |k: &str| key(&["lifecycle", &i, k]);
                if rule.id.trim().is_empty() {
                    return Err(rule_key("id").error("a rule needs an id"));
                }
                if out.iter().any(|r| r.id == rule.id) {
                    return Err(rule_key("id").error(format!(
                        "lifecycle rule id `{}` is used twice; ids identify rules",
                        rule.id
                    )));
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
                            return Err(rule_key(field)
                                .error(format!("{days} is not a number of days"))
                                .hint("use a whole number of days, 0 or more"));
                        }
                    }
                }
                let transition = match (rule.transition_after_days, rule.transition_storage_class) {
                    (Some(days), Some(class)) => Some((days, TransitionClass::Known(class))),
                    (None, None) => None,
                    _ => {
                        return Err(rule_key("id").error(format!(
                            "lifecycle rule `{}` needs both `transition_after_days` and `transition_storage_class`",
                            rule.id
                        )))
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
                    return Err(rule_key("id")
                        .error(format!("lifecycle rule `{}` has no action", rule.id))
                        .hint("add an expiry, a transition or `abort_incomplete_multipart_after_days`"));
                }
                out.push(normalized);
            }
            out.sort_by(|a, b| a.id.cmp(&b.id));
            Some(out)
        }
    };
    let ca_pem = match &raw.ca_file {
        None => None,
        Some(file) => {
            let key = key(&["ca_file"]);
            let pem = std::fs::read(file).map_err(|e| {
                key.error(format!(
                    "`{file}` cannot be read: {}",
                    crate::util::files::io_reason(&e)
                ))
                .hint("point `ca_file` at a PEM file of CA certificates")
            })?;
            if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
                return Err(key
                    .error(format!("`{file}` holds no PEM certificate"))
                    .hint("expected `-----BEGIN CERTIFICATE-----` blocks, as `openssl x509 -outform PEM` writes them"));
            }
            if !endpoint
                .as_deref()
                .is_some_and(|e| e.starts_with("https://"))
            {
                return Err(key
                    .error("`ca_file` needs an `https://` endpoint")
                    .hint("set `endpoint = \"https://...\"`, or remove `ca_file`"));
            }
            Some(pem)
        }
    };
    Ok(BucketSpec {
        ca_pem,
        name: name.to_string(),
        path_style: raw.path_style.unwrap_or(endpoint.is_some()),
        endpoint,
        region,
        credentials,
        create: raw.create,
        versioning: raw.versioning,
        encryption,
        block_public_access: raw.block_public_access,
        lifecycle,
        prune_lifecycle: raw.prune_lifecycle,
    })
}
