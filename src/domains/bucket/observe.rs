//! Reading a bucket: `HeadBucket`, then one call per declared property.
//! "Not configured" answers (`NoSuchLifecycleConfiguration`, ...) are state,
//! not errors; `NotImplemented` for a declared property is an error that names
//! the API and the endpoint.

use std::time::Duration;

use super::live::LiveBucket;
use crate::error::Result;
use crate::s3::bucket::{BucketSpec, Encryption};
use crate::s3::client::{classify, client, failure_error, Failure};
use crate::s3::lifecycle::Rule;

pub(crate) async fn observe(bucket: &BucketSpec, timeout: Duration) -> Result<LiveBucket> {
    let s3 = client(bucket, timeout).await;
    let mut live = LiveBucket::default();
    match s3.head_bucket().bucket(&bucket.name).send().await {
        Ok(_) => live.exists = true,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => return Ok(live),
        Err(e) => match classify(&e) {
            Failure::Missing(_) => return Ok(live),
            failure => return Err(failure_error(bucket, "HeadBucket", None, failure)),
        },
    }
    if bucket.versioning.is_some() {
        let out = s3
            .get_bucket_versioning()
            .bucket(&bucket.name)
            .send()
            .await
            .map_err(|e| {
                failure_error(
                    bucket,
                    "GetBucketVersioning",
                    Some("versioning"),
                    classify(&e),
                )
            })?;
        live.versioning = out.status().map(|s| s.as_str().to_string());
    }
    if bucket.encryption.is_some() {
        live.encryption = match s3.get_bucket_encryption().bucket(&bucket.name).send().await {
            Ok(out) => out
                .server_side_encryption_configuration()
                .and_then(|c| c.rules().first())
                .and_then(|r| r.apply_server_side_encryption_by_default())
                .map(|d| match d.kms_master_key_id() {
                    Some(key) => Encryption::Kms(key.to_string()),
                    None => Encryption::parse(d.sse_algorithm().as_str()),
                }),
            Err(e) => missing_is_none(bucket, "GetBucketEncryption", "encryption", classify(&e))?,
        };
    }
    if bucket.block_public_access.is_some() {
        let block = match s3
            .get_public_access_block()
            .bucket(&bucket.name)
            .send()
            .await
        {
            Ok(out) => Some(out.public_access_block_configuration().is_some_and(|c| {
                c.block_public_acls() == Some(true)
                    && c.ignore_public_acls() == Some(true)
                    && c.block_public_policy() == Some(true)
                    && c.restrict_public_buckets() == Some(true)
            })),
            Err(e) => missing_is_none(
                bucket,
                "GetPublicAccessBlock",
                "block_public_access",
                classify(&e),
            )?,
        };
        live.block_public_access = Some(block.unwrap_or(false));
    }
    if bucket.lifecycle.is_some() {
        let rules = match s3
            .get_bucket_lifecycle_configuration()
            .bucket(&bucket.name)
            .send()
            .await
        {
            Ok(out) => Some(out.rules().iter().map(Rule::from_sdk).collect::<Vec<_>>()),
            Err(e) => missing_is_none(
                bucket,
                "GetBucketLifecycleConfiguration",
                "lifecycle",
                classify(&e),
            )?,
        };
        live.lifecycle = rules.unwrap_or_default();
        live.lifecycle.sort_by(|a, b| a.id.cmp(&b.id));
    }
    Ok(live)
}

/// A call that fails because nothing is configured reads as `None`.
fn missing_is_none<T>(
    bucket: &BucketSpec,
    api: &'static str,
    property: &'static str,
    failure: Failure,
) -> Result<Option<T>> {
    match failure {
        Failure::Missing(_) => Ok(None),
        failure => Err(failure_error(bucket, api, Some(property), failure)),
    }
}
