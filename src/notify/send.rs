//! Delivery: one HTTP POST per webhook, each attempt bounded by the
//! timeout, retried after 1s, 2s, 4s... on a connection error, a timeout,
//! `408`, `429` or a `5xx`; another `4xx` is final (the URL or the payload
//! is wrong, and asking again will not help). Reasons never quote the URL.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use secrecy::{ExposeSecret, SecretString};

/// How a delivery ended: `Ok(attempts)` or `Err((attempts, why))`.
pub(crate) type Delivered = Result<u32, (u32, String)>;

/// POSTs `body` (JSON) to `url`, at most `1 + retries` times.
pub(crate) async fn deliver(
    url: &SecretString,
    body: &[u8],
    timeout: Duration,
    retries: u32,
) -> Delivered {
    let client = match client() {
        Ok(client) => client,
        Err(why) => return Err((0, why)),
    };
    let mut pause = Duration::from_secs(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let outcome = tokio::time::timeout(timeout, once(&client, url, body)).await;
        let (why, again) = match outcome {
            Ok(Ok(status)) if (200..300).contains(&status) => return Ok(attempt),
            Ok(Ok(status)) => (
                format!("the receiver answered HTTP {status}"),
                status == 408 || status == 429 || status >= 500,
            ),
            Ok(Err(why)) => (redact(&why, url), true),
            Err(_) => (
                format!(
                    "no answer within {}",
                    crate::util::durations::short(timeout)
                ),
                true,
            ),
        };
        if !again || attempt > retries {
            return Err((attempt, why));
        }
        tokio::time::sleep(pause).await;
        pause *= 2;
    }
}

type Client = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
>;

fn client() -> Result<Client, String> {
    // Native roots when the machine has them; a machine without any can
    // still reach `http://` receivers.
    let mut roots = rustls::RootCertStore::empty();
    for certificate in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(certificate);
    }
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("cannot set up TLS: {e}"))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    Ok(
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(connector),
    )
}

/// One attempt: the status code, or why there is none.
async fn once(client: &Client, url: &SecretString, body: &[u8]) -> Result<u16, String> {
    let request = hyper::Request::post(url.expose_secret())
        .header("content-type", "application/json")
        .header("user-agent", concat!("dbops/", env!("CARGO_PKG_VERSION")))
        .body(Full::new(Bytes::copy_from_slice(body)))
        .map_err(|_| "the URL is not a valid request target".to_string())?;
    let response = client.request(request).await.map_err(|e| chain(&e))?;
    let status = response.status().as_u16();
    // Read (and drop) the answer so the connection closes cleanly; bounded
    // by the caller's timeout.
    let _ = response.into_body().collect().await;
    Ok(status)
}

fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Removes the URL, its host and its path from a message, in case a
/// library quoted one of them.
fn redact(message: &str, url: &SecretString) -> String {
    let mut out = message.to_string();
    let text = url.expose_secret();
    let mut parts = vec![text.to_string()];
    if let Ok(parsed) = url::Url::parse(text) {
        if let Some(host) = parsed.host_str() {
            parts.push(host.to_string());
        }
        if parsed.path().len() > 1 {
            parts.push(parsed.path().to_string());
        }
        if let Some(query) = parsed.query() {
            parts.push(query.to_string());
        }
    }
    for part in parts {
        if !part.is_empty() {
            out = out.replace(&part, "[webhook]");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_quoting_the_url_is_redacted() {
        let url = SecretString::from("https://hooks.example.com/services/T0/XYZ?token=abc");
        let said = redact(
            "dns error for hooks.example.com at /services/T0/XYZ (token=abc)",
            &url,
        );
        assert!(
            !said.contains("example") && !said.contains("XYZ") && !said.contains("abc"),
            "{said}"
        );
    }
}
