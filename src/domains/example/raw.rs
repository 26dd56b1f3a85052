//! `[example_domain]` exactly as written.

use schemars::JsonSchema;
use serde::Deserialize;

/// `[example_domain]`: a text file (test-only).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawExample {
    pub path: String,
    pub text: String,
}
