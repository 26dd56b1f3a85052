//! `[bucket.NAME]` resolved: the name checked, endpoint and credentials from
//! references, lifecycle rules normalized and checked. No message quotes an
//! endpoint that came from a secret, or a credential.

use secrecy::{ExposeSecret, SecretString};

use super::raw::{PlainOrSecret, RawBucket, RawLifecycleRule};
use crate::diagnostics::{Key, Resolver};
use crate::error::Result;
use crate::s3::bucket::{BucketSpec, Encryption};
use crate::s3::lifecycle::{Rule, TransitionClass};

/// A key under `[bucket.NAME]`.
fn key<'a>(r: &'a Resolver<'_>, name: &str, keys: &[&str]) -> Key<'a> {
    let mut path = vec!["bucket", name];
    path.extend_from_slice(keys);
    r.key(&path)
}

/// Resolves `[bucket.NAME]`, each rule a `check_*` reporting into `r`, so
/// `validate` lists every problem of the table; `None` after any.
pub(crate) fn resolve(name: &str, raw: &RawBucket, r: &mut Resolver<'_>) -> Option<BucketSpec> {
    let named = r.check(check_name(name, r));
    let endpoint = r.check(check_endpoint(name, raw, r));
    let credentials = r.check(check_credentials(name, raw, r));
    let encryption = r.check(check_encryption(name, raw, r));
    let region = r.check(check_region(name, raw, r));
    let lifecycle = check_lifecycle(name, raw, r);
    let ca_pem = match &endpoint {
        Some(endpoint) => r.check(check_ca_file(name, raw, endpoint.as_deref(), r)),
        None => None,
    };
    named?;
    let endpoint = endpoint?;
    Some(BucketSpec {
        ca_pem: ca_pem?,
        name: name.to_string(),
        path_style: raw.path_style.unwrap_or(endpoint.is_some()),
        endpoint,
        region: region?,
        credentials: credentials?,
        create: raw.create,
        versioning: raw.versioning,
        encryption: encryption?,
        block_public_access: raw.block_public_access,
        lifecycle: lifecycle?,
        prune_lifecycle: raw.prune_lifecycle,
    })
}

fn check_name(name: &str, r: &Resolver<'_>) -> Result<()> {
    if name.len() < 3
        || name.len() > 63
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
    {
        return Err(key(r, name, &[]).error(format!(
            "`{name}` is not a valid bucket name: 3 to 63 lowercase letters, digits, `-` and `.`"
        )));
    }
    Ok(())
}

/// An http(s) URL, written or from a secret reference.
fn check_endpoint(name: &str, raw: &RawBucket, r: &Resolver<'_>) -> Result<Option<String>> {
    let key = key(r, name, &["endpoint"]);
    let endpoint = match &raw.endpoint {
        None => return Ok(None),
        Some(PlainOrSecret::Plain(text)) => text.clone(),
        Some(PlainOrSecret::Secret(reference)) => {
            key.secret(reference)?.expose_secret().to_string()
        }
    };
    let ok = url::Url::parse(&endpoint)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if !ok {
        return Err(key
            .error("not an http(s) URL")
            .hint("write e.g. `https://s3.eu-central-1.amazonaws.com` or `http://minio:9000`"));
    }
    Ok(Some(endpoint))
}

/// Both keys, or neither (the AWS credential chain).
fn check_credentials(
    name: &str,
    raw: &RawBucket,
    r: &Resolver<'_>,
) -> Result<Option<(SecretString, SecretString)>> {
    match (&raw.access_key_id, &raw.secret_access_key) {
        (Some(id), Some(secret)) => Ok(Some((
            key(r, name, &["access_key_id"]).secret(id)?,
            key(r, name, &["secret_access_key"]).secret(secret)?,
        ))),
        (None, None) => Ok(None),
        _ => Err(key(r, name, &[])
            .error(format!(
                "bucket `{name}` sets only one of `access_key_id` and `secret_access_key`"
            ))
            .hint("set both, or neither to use the standard AWS credential chain")),
    }
}

fn check_encryption(name: &str, raw: &RawBucket, r: &Resolver<'_>) -> Result<Option<Encryption>> {
    match &raw.encryption {
        None => Ok(None),
        Some(text) if text.trim().is_empty() || text.chars().any(char::is_control) => {
            Err(key(r, name, &["encryption"])
                .error("is not `AES256` or a KMS key id")
                .hint("write `AES256` or a KMS key id"))
        }
        Some(text) => Ok(Some(Encryption::parse(text.trim()))),
    }
}

fn check_region(name: &str, raw: &RawBucket, r: &Resolver<'_>) -> Result<String> {
    let region = raw
        .region
        .clone()
        .unwrap_or_else(|| "us-east-1".to_string());
    if region.is_empty()
        || !region
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(key(r, name, &["region"])
            .error("is not a region name")
            .hint("write e.g. `us-east-1` or `eu-central-1`"));
    }
    Ok(region)
}

/// The declared rules, normalized and sorted by id; every bad rule is
/// reported. `Some(None)`: lifecycle not managed.
fn check_lifecycle(name: &str, raw: &RawBucket, r: &mut Resolver<'_>) -> Option<Option<Vec<Rule>>> {
    let Some(rules) = &raw.lifecycle else {
        return Some(None);
    };
    let mut out: Vec<Rule> = Vec::new();
    let mut failed = false;
    for (index, rule) in rules.iter().enumerate() {
        let checked = check_rule(name, index, rule, &out, r);
        match r.check(checked) {
            Some(normalized) => out.push(normalized),
            None => failed = true,
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    (!failed).then_some(Some(out))
}

fn check_rule(
    name: &str,
    index: usize,
    rule: &RawLifecycleRule,
    earlier: &[Rule],
    r: &Resolver<'_>,
) -> Result<Rule> {
    let i = index.to_string();
    let rule_key = |k: &str| key(r, name, &["lifecycle", &i, k]);
    if rule.id.trim().is_empty() {
        return Err(rule_key("id").error("a rule needs an id"));
    }
    if earlier.iter().any(|r| r.id == rule.id) {
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
        if let Some(days) = value.filter(|d| *d < 0 || *d > i64::from(i32::MAX)) {
            return Err(rule_key(field)
                .error(format!("{days} is not a number of days"))
                .hint("use a whole number of days, 0 or more"));
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
        abort_incomplete_multipart_after_days: rule.abort_incomplete_multipart_after_days,
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
    Ok(normalized)
}

/// A PEM file of CA certificates, for an `https://` endpoint.
fn check_ca_file(
    name: &str,
    raw: &RawBucket,
    endpoint: Option<&str>,
    r: &Resolver<'_>,
) -> Result<Option<Vec<u8>>> {
    let Some(file) = &raw.ca_file else {
        return Ok(None);
    };
    let key = key(r, name, &["ca_file"]);
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
    if !endpoint.is_some_and(|e| e.starts_with("https://")) {
        return Err(key
            .error("`ca_file` needs an `https://` endpoint")
            .hint("set `endpoint = \"https://...\"`, or remove `ca_file`"));
    }
    Ok(Some(pem))
}
