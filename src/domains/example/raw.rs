//! `[example_domain]` exactly as written.

use schemars::JsonSchema;
use serde::Deserialize;

/// `[example_domain]`: a text file (test-only).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExample {
    pub(crate) path: String,
    pub(crate) text: String,
}
