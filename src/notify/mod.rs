//! Notifications: after `drift`, `apply` or `restore-test`, webhooks hear of
//! a failure after a clean run and of the recovery after a failure (or of
//! every run, `always`). This module owns `[notify]`, the state file that
//! remembers what each webhook was last told, the payload, and delivery with
//! bounded retries. A notification that cannot be delivered is an error
//! event and a metric, never the run's failure. It never puts a secret in a
//! payload: findings and errors are already free of them, and the webhook's
//! own URL is never printed.

pub mod payload;
pub(crate) mod raw;
mod resolve;
mod send;
pub(crate) mod state;

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

pub(crate) use resolve::resolve;
pub(crate) use send::deliver;

/// `[notify]`, resolved.
#[derive(Debug, Clone)]
pub(crate) struct Notify {
    pub(crate) state_file: Option<PathBuf>,
    /// One attempt's bound.
    pub(crate) timeout: Duration,
    /// Attempts after the first.
    pub(crate) retries: u32,
    pub(crate) webhooks: Vec<Webhook>,
}

/// One webhook, its URL checked to be `http` or `https`.
#[derive(Debug, Clone)]
pub(crate) struct Webhook {
    pub(crate) name: String,
    pub(crate) url: SecretString,
    pub(crate) on: When,
}

/// Which transitions a webhook hears of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct When {
    pub(crate) failure: bool,
    pub(crate) recovery: bool,
    pub(crate) always: bool,
}

/// A run's verdict for notifications: clean, or failing (an error, drift or
/// findings that made it exit non-zero).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Verdict {
    Ok,
    Failing,
}
