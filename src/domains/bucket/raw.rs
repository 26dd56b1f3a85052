//! `[bucket.NAME]` exactly as written.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::s3::lifecycle::StorageClass;
use crate::secret::SecretRef;

/// A plain value, or a secret reference for values that should not sit in the file.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum PlainOrSecret {
    Plain(String),
    Secret(SecretRef),
}

/// `[bucket.NAME]`: one S3-compatible bucket. Only declared properties are read or changed.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBucket {
    /// Endpoint URL (`http://minio:9000`), plain or a secret reference. Default: AWS S3.
    pub(crate) endpoint: Option<PlainOrSecret>,
    /// Region. Default: `us-east-1`.
    pub(crate) region: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`). Default: true with a custom endpoint.
    pub(crate) path_style: Option<bool>,
    /// PEM file of the CA certificates dbops trusts for an `https` endpoint
    /// (a private CA, e.g. a self-hosted MinIO); only these are trusted then.
    /// Default: the platform's roots.
    pub(crate) ca_file: Option<String>,
    /// Access key id; without both keys, the standard AWS credential chain is used.
    pub(crate) access_key_id: Option<SecretRef>,
    pub(crate) secret_access_key: Option<SecretRef>,
    /// Create the bucket when it does not exist. Default: false.
    #[serde(default)]
    pub(crate) create: bool,
    /// Object versioning: true (Enabled) or false (Suspended).
    pub(crate) versioning: Option<bool>,
    /// Default encryption: `AES256`, or a KMS key id (`aws:kms` with that key).
    pub(crate) encryption: Option<String>,
    /// Block all public access (all four settings).
    pub(crate) block_public_access: Option<bool>,
    /// Remove lifecycle rules the file does not declare. Default: false (they are kept).
    #[serde(default)]
    pub(crate) prune_lifecycle: bool,
    /// Lifecycle rules, compared by `id`.
    pub(crate) lifecycle: Option<Vec<RawLifecycleRule>>,
}

/// `[[bucket.NAME.lifecycle]]`: one lifecycle rule.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLifecycleRule {
    pub(crate) id: String,
    /// Key prefix the rule applies to; absent for the whole bucket.
    pub(crate) prefix: Option<String>,
    /// Default: true.
    pub(crate) enabled: Option<bool>,
    pub(crate) expire_after_days: Option<i64>,
    pub(crate) noncurrent_expire_after_days: Option<i64>,
    pub(crate) transition_after_days: Option<i64>,
    pub(crate) transition_storage_class: Option<StorageClass>,
    pub(crate) abort_incomplete_multipart_after_days: Option<i64>,
}
