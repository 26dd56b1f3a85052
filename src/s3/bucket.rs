//! The bucket domain's desired state: each declared bucket, its endpoint and
//! credentials (resolved secrets), and only the properties the file declares.

use secrecy::SecretString;
use serde::Serialize;

use super::lifecycle::Rule;

/// A bucket's default encryption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) enum Encryption {
    /// SSE-S3 (`AES256`).
    Aes256,
    /// SSE-KMS with this key id.
    Kms(String),
}

impl Encryption {
    /// `AES256` or the KMS key id, as the file writes it.
    pub(crate) fn parse(text: &str) -> Self {
        if text == "AES256" {
            Encryption::Aes256
        } else {
            Encryption::Kms(text.to_string())
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            Encryption::Aes256 => "AES256",
            Encryption::Kms(key) => key,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct BucketSpec {
    pub(crate) name: String,
    pub(crate) endpoint: Option<String>,
    pub(crate) region: String,
    pub(crate) path_style: bool,
    /// PEM certificates trusted for the endpoint instead of the platform's roots.
    pub(crate) ca_pem: Option<Vec<u8>>,
    /// (access key id, secret access key); `None` uses the AWS credential chain.
    pub(crate) credentials: Option<(SecretString, SecretString)>,
    pub(crate) create: bool,
    pub(crate) versioning: Option<bool>,
    pub(crate) encryption: Option<Encryption>,
    pub(crate) block_public_access: Option<bool>,
    /// `None`: lifecycle not managed.
    pub(crate) lifecycle: Option<Vec<Rule>>,
    pub(crate) prune_lifecycle: bool,
}

impl BucketSpec {
    /// The endpoint for messages: without any user or password it may carry.
    pub(crate) fn endpoint_name(&self) -> String {
        match &self.endpoint {
            None => format!("AWS S3 ({})", self.region),
            Some(endpoint) => match url::Url::parse(endpoint) {
                Ok(mut url) => {
                    let _ = url.set_username("");
                    let _ = url.set_password(None);
                    url.as_str().trim_end_matches('/').to_string()
                }
                Err(_) => "the declared endpoint".to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::BucketSpec;

    #[test]
    fn endpoint_names_drop_credentials() {
        let bucket = BucketSpec {
            name: "b".into(),
            endpoint: Some("https://key:hunter2@minio.internal:9000".into()),
            region: "us-east-1".into(),
            path_style: true,
            ca_pem: None,
            credentials: None,
            create: false,
            versioning: None,
            encryption: None,
            block_public_access: None,
            lifecycle: None,
            prune_lifecycle: false,
        };
        assert_eq!(bucket.endpoint_name(), "https://minio.internal:9000");
    }
}
