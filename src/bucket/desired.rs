//! The bucket domain's desired state: each declared bucket, its endpoint and
//! credentials (resolved secrets), and only the properties the file declares.

use secrecy::SecretString;

use super::rule::Rule;

#[derive(Debug, Clone)]
pub struct DesiredBucket {
    pub name: String,
    pub endpoint: Option<String>,
    pub region: String,
    pub path_style: bool,
    /// (access key id, secret access key); `None` uses the AWS credential chain.
    pub credentials: Option<(SecretString, SecretString)>,
    pub create: bool,
    pub versioning: Option<bool>,
    pub encryption: Option<String>,
    pub block_public_access: Option<bool>,
    /// `None`: lifecycle not managed.
    pub lifecycle: Option<Vec<Rule>>,
    pub prune_lifecycle: bool,
}

impl DesiredBucket {
    /// The endpoint for messages (never holds credentials).
    pub fn endpoint_name(&self) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| format!("AWS S3 ({})", self.region))
    }
}
