//! Checks `[notify]`: an absolute state file when a webhook needs one, a
//! bounded timeout and retry count, each webhook's URL resolved and checked
//! to be `http(s)` without ever quoting it.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::ExposeSecret;

use super::raw::{RawNotify, RawOn};
use super::{Notify, Webhook, When};
use crate::diagnostics::Resolver;
use crate::util::durations;

/// `None` when the section is absent or has errors (reported to `resolver`).
pub(crate) fn resolve(raw: Option<&RawNotify>, resolver: &mut Resolver<'_>) -> Option<Notify> {
    let raw = raw?;
    let before = resolver.has_errors();
    let key = |path: &[&str]| {
        let mut full = vec!["notify"];
        full.extend_from_slice(path);
        resolver.key(&full)
    };
    let mut errors = Vec::new();
    let timeout = match raw.timeout.as_deref() {
        None => Duration::from_secs(10),
        Some(text) => match durations::parse(text, false) {
            Ok(d) if d <= Duration::from_secs(300) => d,
            Ok(_) => {
                errors.push(key(&["timeout"]).error(format!(
                    "`notify.timeout` `{text}` is longer than the 5 minutes a notification may wait"
                )));
                Duration::ZERO
            }
            Err(e) => {
                errors.push(key(&["timeout"]).error(e));
                Duration::ZERO
            }
        },
    };
    let retries = raw.retries.unwrap_or(2);
    if retries > 5 {
        errors.push(
            key(&["retries"])
                .error(format!("`notify.retries` is {retries}; at most 5 retries are allowed"))
                .hint("a webhook that fails six times in a row is down: the metrics file and the next run say so"),
        );
    }
    let mut webhooks = Vec::new();
    for (name, webhook) in &raw.webhooks {
        match resolve_webhook(name, webhook, resolver) {
            Ok(webhook) => webhooks.push(webhook),
            Err(error) => errors.push(error),
        }
    }
    let needs_state = raw.webhooks.values().any(|w| {
        w.on.as_deref()
            .is_none_or(|on| on.iter().any(|o| *o != RawOn::Always))
    });
    let state_file = match raw.state_file.as_deref() {
        Some(text) => {
            let path = PathBuf::from(text);
            if text.chars().any(char::is_control) {
                errors.push(
                    key(&["state_file"]).error("`notify.state_file` holds a control character"),
                );
            } else if !path.is_absolute() {
                errors.push(
                    key(&["state_file"])
                        .error(format!("`notify.state_file` `{text}` is not an absolute path"))
                        .hint("a scheduled run starts in a directory of its scheduler's choosing; write e.g. `/var/lib/dbops/notify-state.json`"),
                );
            }
            Some(path)
        }
        None if needs_state => {
            errors.push(
                key(&[])
                    .error("`[notify]` has webhooks called on failure or recovery but no `state_file`")
                    .hint("add `state_file = \"/var/lib/dbops/notify-state.json\"`: it remembers the last outcome so a repeated failure is not sent again"),
            );
            None
        }
        None => None,
    };
    let failed = !errors.is_empty();
    for error in errors {
        resolver.error(error);
    }
    (!failed && !before).then_some(Notify {
        state_file,
        timeout,
        retries,
        webhooks,
    })
}

fn resolve_webhook(
    name: &str,
    webhook: &super::raw::RawWebhook,
    resolver: &Resolver<'_>,
) -> Result<Webhook, crate::error::Error> {
    let key = |last: &str| resolver.key(&["notify", "webhooks", name, last]);
    resolver_check_name(name).map_err(|e| resolver.key(&["notify", "webhooks", name]).error(e))?;
    let on =
        match webhook.on.as_deref() {
            None => When {
                failure: true,
                recovery: true,
                always: false,
            },
            Some([]) => return Err(key("on")
                .error("`on` is empty, so this webhook would never be called")
                .hint(
                    "write `on = [\"failure\", \"recovery\"]` (the default), or remove the webhook",
                )),
            Some(list) => When {
                failure: list.contains(&RawOn::Failure),
                recovery: list.contains(&RawOn::Recovery),
                always: list.contains(&RawOn::Always),
            },
        };
    let url = key("url").secret(&webhook.url)?;
    check_url(url.expose_secret()).map_err(|why| {
        key("url")
            .error(format!("the webhook URL {why}"))
            .hint("give an `http://` or `https://` URL (the value is not printed)")
    })?;
    Ok(Webhook {
        name: name.to_string(),
        url,
        on,
    })
}

/// Webhook names appear in events and the state file: a plain word.
fn resolver_check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err("a webhook's name is 1 to 63 letters, digits, `_` or `-`".into())
    }
}

/// `Err(why)` without quoting the URL: it carries its token.
fn check_url(text: &str) -> Result<(), String> {
    let url = url::Url::parse(text).map_err(|e| format!("does not parse ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("is not `http` or `https`".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("has no host".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_url;

    #[test]
    fn only_http_urls_with_a_host_pass_and_no_reason_quotes_the_url() {
        assert!(check_url("https://hooks.example.com/services/T0/B0/secret").is_ok());
        assert!(check_url("http://127.0.0.1:8080/hook").is_ok());
        for bad in [
            "ftp://h/x",
            "file:///etc/passwd",
            "hooks.example.com/x",
            "https://",
        ] {
            let why = check_url(bad).unwrap_err();
            assert!(!why.contains("example") && !why.contains("etc"), "{why}");
        }
    }
}
