//! `[bucket.NAME]` exactly as written.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::s3::lifecycle::StorageClass;
use crate::secret::SecretRef;

/// A plain value, or a secret reference for values that should not sit in the file.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum PlainOrSecret {
    Plain(String),
    Secret(SecretRef),
}

/// `[bucket.NAME]`: one S3-compatible bucket. Only declared properties are read or changed.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBucket {
    /// Endpoint URL (`http://minio:9000`), plain or a secret reference. Default: AWS S3.
    pub endpoint: Option<PlainOrSecret>,
    /// Region. Default: `us-east-1`.
    pub region: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`). Default: true with a custom endpoint.
    pub path_style: Option<bool>,
    /// PEM file of the CA certificates dbops trusts for an `https` endpoint
    /// (a private CA, e.g. a self-hosted MinIO); only these are trusted then.
    /// Default: the platform's roots.
    pub ca_file: Option<String>,
    /// Access key id; without both keys, the standard AWS credential chain is used.
    pub access_key_id: Option<SecretRef>,
    pub secret_access_key: Option<SecretRef>,
    /// Create the bucket when it does not exist. Default: false.
    #[serde(default)]
    pub create: bool,
    /// Object versioning: true (Enabled) or false (Suspended).
    pub versioning: Option<bool>,
    /// Default encryption: `AES256`, or a KMS key id (`aws:kms` with that key).
    pub encryption: Option<String>,
    /// Block all public access (all four settings).
    pub block_public_access: Option<bool>,
    /// Remove lifecycle rules the file does not declare. Default: false (they are kept).
    #[serde(default)]
    pub prune_lifecycle: bool,
    /// Lifecycle rules, compared by `id`.
    pub lifecycle: Option<Vec<RawLifecycleRule>>,
}

/// `[[bucket.NAME.lifecycle]]`: one lifecycle rule.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLifecycleRule {
    pub id: String,
    /// Key prefix the rule applies to; absent for the whole bucket.
    pub prefix: Option<String>,
    /// Default: true.
    pub enabled: Option<bool>,
    pub expire_after_days: Option<i64>,
    pub noncurrent_expire_after_days: Option<i64>,
    pub transition_after_days: Option<i64>,
    pub transition_storage_class: Option<StorageClass>,
    pub abort_incomplete_multipart_after_days: Option<i64>,
}
