//! `[notify]` exactly as written: where the last outcome is kept and the
//! webhooks to call. Shape only; [`super::resolve`] checks the values.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::secret::SecretRef;

/// Notifications from `drift`, `apply`, `restore-test` (never `plan`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNotify {
    /// An absolute path where the last outcome per command is kept, to tell
    /// a new failure and a recovery from a repeat. Needed unless every
    /// webhook is `on = ["always"]`.
    pub(crate) state_file: Option<String>,
    /// How long one delivery attempt may take (default `10s`).
    pub(crate) timeout: Option<String>,
    /// Further attempts after a failed one, with a doubling pause from 1s
    /// (default 2, at most 5).
    pub(crate) retries: Option<u32>,
    /// Webhooks by name: each receives a JSON document by HTTP POST.
    #[serde(default)]
    pub(crate) webhooks: BTreeMap<String, RawWebhook>,
}

/// One webhook target.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWebhook {
    /// The URL (`http` or `https`), from a secret reference: webhook URLs
    /// carry their token.
    pub(crate) url: SecretRef,
    /// When to send: `failure` (a run that fails after a clean one),
    /// `recovery` (the first clean run after a failure), or `always`.
    /// Default `["failure", "recovery"]`.
    pub(crate) on: Option<Vec<RawOn>>,
}

/// When a webhook is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawOn {
    Failure,
    Recovery,
    Always,
}
