//! S3 clients for a declared bucket: custom endpoint, region, path-style
//! addressing, static credentials from secret references (or the AWS chain),
//! bounded timeouts and retries; and turning SDK errors into clear messages
//! that name the API and the endpoint, never a credential.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::Client;
use secrecy::ExposeSecret;

use super::bucket::BucketSpec;
use crate::error::{Error, ErrorKind};

pub(crate) async fn client(bucket: &BucketSpec, timeout: Duration) -> Client {
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
    if let Some(pem) = &bucket.ca_pem {
        // Only the declared CA is trusted for this endpoint. The PEM was
        // checked when the file was resolved; a bad certificate in it fails
        // the first call with a TLS error that names the endpoint.
        use aws_smithy_http_client::tls;
        // A file that does not parse trusts nothing: every call then fails.
        let context = tls::TlsContext::builder()
            .with_trust_store(tls::TrustStore::empty().with_pem_certificate(pem.clone()))
            .build()
            .or_else(|_| {
                tls::TlsContext::builder()
                    .with_trust_store(tls::TrustStore::empty())
                    .build()
            })
            .expect("an empty trust store builds");
        loader = loader.http_client(
            aws_smithy_http_client::Builder::new()
                .tls_provider(tls::Provider::Rustls(
                    tls::rustls_provider::CryptoMode::AwsLc,
                ))
                .tls_context(context)
                .build_https(),
        );
    }
    let shared = loader.load().await;
    let config = aws_sdk_s3::config::Builder::from(&shared)
        .force_path_style(bucket.path_style)
        .build();
    Client::from_conf(config)
}

/// How an S3 call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// An error code meaning "nothing configured" or "no such bucket".
    Missing(String),
    NotImplemented,
    /// Refused: (error code, message).
    Denied(String, String),
    /// The endpoint could not be reached or did not answer in time.
    Unreachable(String),
    /// The service answered with another error: (error code, message).
    Other(String, String),
}

/// The innermost cause of an error chain, in one lowercase line.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    crate::util::files::io_reason(&std::io::Error::other(current.to_string()))
}

pub(crate) fn classify<
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
>(
    error: &SdkError<E, R>,
) -> Failure {
    let status = match error {
        SdkError::ServiceError(e) => format!("{:?}", e.raw()),
        _ => String::new(),
    };
    match error {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            return Failure::Unreachable(root_cause(error));
        }
        SdkError::ConstructionFailure(_) => {
            return Failure::Other("RequestInvalid".into(), root_cause(error))
        }
        _ => {}
    }
    let code = error.code().unwrap_or_default().to_string();
    let message = || error.message().unwrap_or(&code).to_string();
    match code.as_str() {
        "NotImplemented" => Failure::NotImplemented,
        "AccessDenied"
        | "InvalidAccessKeyId"
        | "SignatureDoesNotMatch"
        | "Forbidden"
        | "InvalidToken" => Failure::Denied(code.clone(), message()),
        "NoSuchBucket"
        | "NoSuchKey"
        | "NoSuchLifecycleConfiguration"
        | "ServerSideEncryptionConfigurationNotFoundError"
        | "NoSuchPublicAccessBlockConfiguration"
        | "NotFound" => Failure::Missing(code),
        _ if status.contains("StatusCode(501)") || status.contains("status: 501") => {
            Failure::NotImplemented
        }
        _ if status.contains("StatusCode(403)") || status.contains("status: 403") => {
            Failure::Denied(
                "Forbidden".into(),
                error.message().unwrap_or("403 Forbidden").to_string(),
            )
        }
        "" => Failure::Other(
            "Unknown".into(),
            error
                .message()
                .map(str::to_string)
                .unwrap_or_else(|| root_cause(error)),
        ),
        _ => Failure::Other(code.clone(), message()),
    }
}

/// A failure as the message a person reads.
pub(crate) fn failure_error(
    bucket: &BucketSpec,
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
        .kind(ErrorKind::Storage)
        .hint("remove the property from the file (some providers, such as R2 and B2, lack some APIs), or use an endpoint that has it"),
        Failure::Denied(code, message) => Error::new(format!(
            "`{api}` on bucket `{}` at {endpoint} was denied: {code}: {}",
            bucket.name,
            one_line(&message)
        ))
        .kind(ErrorKind::Permission)
        .hint("check `access_key_id` and `secret_access_key`, and that the key may manage this bucket"),
        Failure::Missing(code) => Error::new(format!("`{api}` on bucket `{}` at {endpoint}: {code}", bucket.name))
            .kind(ErrorKind::Storage),
        Failure::Unreachable(why) => {
            let error = Error::new(format!(
                "`{api}` on bucket `{}`: cannot reach {endpoint}: {why}",
                bucket.name
            ))
            .kind(ErrorKind::Connection);
            if why.contains("certificate") {
                error.hint(format!("the endpoint's TLS certificate is not trusted: set `ca_file` in `[bucket.{}]` to the PEM of the CA that signed it", bucket.name))
            } else {
                error.hint("check that the endpoint is reachable from here; timeouts are bounded by `--connect-timeout`")
            }
        }
        Failure::Other(code, message) => Error::new(format!(
            "`{api}` on bucket `{}` at {endpoint} failed: {code}: {}",
            bucket.name,
            one_line(&message)
        ))
        .kind(ErrorKind::Storage),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
