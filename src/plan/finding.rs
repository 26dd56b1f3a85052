//! Findings: checks of live state that fail without a change to make, such as
//! stale backups or a row-level-security hole. `drift` reports them; they
//! carry their numbers for machines, and a message for people.

use serde::Serialize;

use super::address::Address;

/// One failing check.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Finding {
    pub address: Address,
    /// What kind of check, for grouping: `backup health`, `row-level security`.
    pub check: &'static str,
    pub message: String,
    /// The figures behind the message (`age_seconds`, `threshold_seconds`, the object).
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    #[schemars(with = "std::collections::BTreeMap<String, serde_json::Value>")]
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl Finding {
    pub fn new(address: Address, check: &'static str, message: impl Into<String>) -> Self {
        Self {
            address,
            check,
            message: message.into(),
            details: serde_json::Map::new(),
        }
    }

    pub fn detail(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.details.insert(name.to_string(), value.into());
        self
    }
}
