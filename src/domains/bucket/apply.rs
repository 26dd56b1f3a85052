//! Applying bucket changes in plan order (create first, then each property),
//! each event emitted once the endpoint accepted the call. Convergence is
//! checked by reading everything back afterwards (the engine re-observes), so
//! an endpoint that accepts a setting and silently drops it fails the apply,
//! naming the property.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLocationConstraint, BucketVersioningStatus,
    CreateBucketConfiguration, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    VersioningConfiguration,
};

use aws_sdk_s3::Client;

use super::operation::Operation;
use crate::error::{Error, Result};
use crate::events::{Event, EventName, EventSink};
use crate::plan::Planned;
use crate::s3::bucket::{BucketSpec, Encryption};
use crate::s3::client::{classify, client, failure_error, Failure};

/// S3's default region, where `CreateBucket` takes no location constraint.
const US_EAST_1: &str = "us-east-1";

pub(crate) async fn apply(
    buckets: &[BucketSpec],
    changes: &[&Planned<Operation>],
    timeout: Duration,
    sink: &dyn EventSink,
) -> Result<()> {
    // One client per bucket, made when its first change comes.
    let mut clients: BTreeMap<&str, Client> = BTreeMap::new();
    for planned in changes {
        let operation = &planned.operation;
        let bucket = buckets
            .iter()
            .find(|b| b.name == operation.bucket())
            .ok_or_else(|| {
                Error::internal(format!("bucket `{}` is not declared", operation.bucket()))
            })?;
        if !clients.contains_key(bucket.name.as_str()) {
            clients.insert(&bucket.name, client(bucket, timeout).await);
        }
        let s3 = &clients[bucket.name.as_str()];
        let (api, property, event) = describe(operation);
        call(s3, bucket, operation)
            .await
            .map_err(|failure| failure_error(bucket, api, property, failure))?;
        sink.emit(Event::new(event, &planned.change.address));
    }
    Ok(())
}

/// The S3 API an operation calls, the property it is about (for messages),
/// and its event.
fn describe(operation: &Operation) -> (&'static str, Option<&'static str>, EventName) {
    match operation {
        Operation::Create { .. } => ("CreateBucket", None, EventName::BucketCreated),
        Operation::Versioning { .. } => (
            "PutBucketVersioning",
            Some("versioning"),
            EventName::BucketVersioningChanged,
        ),
        Operation::Encryption { .. } => (
            "PutBucketEncryption",
            Some("encryption"),
            EventName::BucketEncryptionChanged,
        ),
        Operation::PublicAccessBlock { block: true, .. } => (
            "PutPublicAccessBlock",
            Some("block_public_access"),
            EventName::BucketPublicAccessBlockChanged,
        ),
        Operation::PublicAccessBlock { block: false, .. } => (
            "DeletePublicAccessBlock",
            Some("block_public_access"),
            EventName::BucketPublicAccessBlockChanged,
        ),
        Operation::Lifecycle { rules, .. } if rules.is_empty() => (
            "DeleteBucketLifecycle",
            Some("lifecycle"),
            EventName::BucketLifecycleChanged,
        ),
        Operation::Lifecycle { .. } => (
            "PutBucketLifecycleConfiguration",
            Some("lifecycle"),
            EventName::BucketLifecycleChanged,
        ),
    }
}

/// Makes the one call an operation needs; how it failed, if it did.
async fn call(s3: &Client, bucket: &BucketSpec, operation: &Operation) -> Result<(), Failure> {
    let name = &bucket.name;
    match operation {
        Operation::Create { .. } => {
            let mut request = s3.create_bucket().bucket(name);
            if bucket.region != US_EAST_1 {
                request = request.create_bucket_configuration(
                    CreateBucketConfiguration::builder()
                        .location_constraint(BucketLocationConstraint::from(bucket.region.as_str()))
                        .build(),
                );
            }
            request.send().await.map(drop).map_err(|e| classify(&e))
        }
        Operation::Versioning { enabled, .. } => {
            let status = if *enabled {
                BucketVersioningStatus::Enabled
            } else {
                BucketVersioningStatus::Suspended
            };
            s3.put_bucket_versioning()
                .bucket(name)
                .versioning_configuration(VersioningConfiguration::builder().status(status).build())
                .send()
                .await
                .map(drop)
                .map_err(|e| classify(&e))
        }
        Operation::Encryption { value, .. } => s3
            .put_bucket_encryption()
            .bucket(name)
            .server_side_encryption_configuration(encryption(value))
            .send()
            .await
            .map(drop)
            .map_err(|e| classify(&e)),
        Operation::PublicAccessBlock { block: true, .. } => s3
            .put_public_access_block()
            .bucket(name)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .map(drop)
            .map_err(|e| classify(&e)),
        Operation::PublicAccessBlock { block: false, .. } => s3
            .delete_public_access_block()
            .bucket(name)
            .send()
            .await
            .map(drop)
            .map_err(|e| classify(&e)),
        Operation::Lifecycle { rules, .. } if rules.is_empty() => s3
            .delete_bucket_lifecycle()
            .bucket(name)
            .send()
            .await
            .map(drop)
            .map_err(|e| classify(&e)),
        Operation::Lifecycle { rules, .. } => {
            let configuration = BucketLifecycleConfiguration::builder()
                .set_rules(Some(rules.iter().map(|r| r.to_sdk()).collect()))
                .build()
                .expect("rules are set");
            s3.put_bucket_lifecycle_configuration()
                .bucket(name)
                .lifecycle_configuration(configuration)
                .send()
                .await
                .map(drop)
                .map_err(|e| classify(&e))
        }
    }
}

/// SSE-S3 or SSE-KMS as the one default rule.
fn encryption(value: &Encryption) -> ServerSideEncryptionConfiguration {
    let default = match value {
        Encryption::Aes256 => {
            ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256)
        }
        Encryption::Kms(key) => ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::AwsKms)
            .kms_master_key_id(key),
    };
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(default.build().expect("an algorithm is set"))
        .build();
    ServerSideEncryptionConfiguration::builder()
        .rules(rule)
        .build()
        .expect("rules are set")
}
