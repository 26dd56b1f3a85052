//! S3 clients for a declared bucket: custom endpoint, region, path-style
//! addressing, static credentials from secret references (or the AWS chain),
//! bounded timeouts and retries; and turning SDK errors into clear messages
//! that name the API and the endpoint, never a credential.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::Client;
use secrecy::ExposeSecret;

use super::desired::DesiredBucket;
use crate::error::Error;

pub async fn client(bucket: &DesiredBucket, timeout: Duration) -> Client {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(bucket.region.clone()))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(timeout)
                .operation_timeout(timeout * 3)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(2));
    if let Some((id, secret)) = &bucket.credentials {
        loader = loader.credentials_provider(Credentials::new(
            id.expose_secret(),
            secret.expose_secret(),
            None,
            None,
            "dbops.toml",
        ));
    }
    if let Some(endpoint) = &bucket.endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    let shared = loader.load().await;
    let config = aws_sdk_s3::config::Builder::from(&shared)
        .force_path_style(bucket.path_style)
        .build();
    Client::from_conf(config)
}

/// How an S3 call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// An error code meaning "nothing configured" or "no such bucket".
    Missing(String),
    NotImplemented,
    Denied(String),
    Other(String),
}

pub fn classify<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    error: &SdkError<E, R>,
) -> Failure {
    let status = match error {
        SdkError::ServiceError(e) => format!("{:?}", e.raw()),
        _ => String::new(),
    };
    let code = error.code().unwrap_or_default().to_string();
    match code.as_str() {
        "NotImplemented" => Failure::NotImplemented,
        "AccessDenied"
        | "InvalidAccessKeyId"
        | "SignatureDoesNotMatch"
        | "Forbidden"
        | "InvalidToken" => Failure::Denied(error.message().unwrap_or(&code).to_string()),
        "NoSuchBucket"
        | "NoSuchLifecycleConfiguration"
        | "ServerSideEncryptionConfigurationNotFoundError"
        | "NoSuchPublicAccessBlockConfiguration"
        | "NotFound" => Failure::Missing(code),
        _ if status.contains("StatusCode(501)") || status.contains("status: 501") => {
            Failure::NotImplemented
        }
        _ if status.contains("StatusCode(403)") || status.contains("status: 403") => {
            Failure::Denied(error.message().unwrap_or("403 Forbidden").to_string())
        }
        _ => Failure::Other(
            error
                .message()
                .map(str::to_string)
                .unwrap_or_else(|| DisplayErrorContext(error).to_string()),
        ),
    }
}

/// A failure as the message a person reads.
pub fn failure_error(
    bucket: &DesiredBucket,
    api: &str,
    property: Option<&str>,
    failure: Failure,
) -> Error {
    let endpoint = bucket.endpoint_name();
    match failure {
        Failure::NotImplemented => Error::new(format!(
            "the endpoint {endpoint} does not implement `{api}`, which `bucket.{}{}` needs",
            bucket.name,
            property.map(|p| format!(".{p}")).unwrap_or_default()
        ))
        .hint("remove the property from the file (some providers, such as R2 and B2, lack some APIs), or use an endpoint that has it"),
        Failure::Denied(message) => Error::new(format!(
            "`{api}` on bucket `{}` at {endpoint} was denied: {message}",
            bucket.name
        ))
        .hint("check `access_key_id` and `secret_access_key`, and that the key may manage this bucket"),
        Failure::Missing(code) => Error::new(format!("`{api}` on bucket `{}` at {endpoint}: {code}", bucket.name)),
        Failure::Other(message) => Error::new(format!(
            "`{api}` on bucket `{}` at {endpoint} failed: {}",
            bucket.name,
            message.to_lowercase()
        ))
        .hint("check that the endpoint is reachable; timeouts are bounded by `--connect-timeout`"),
    }
}
