//! Findings: checks of live state that fail without a change to make, such as
//! stale backups or a row-level-security hole. `drift` reports them; each has
//! a stable dotted id (`backup.health.wal`), a class that `--fail-on`
//! routes, its numbers for machines and a message for people.

use serde::Serialize;

use super::address::Address;

/// What a finding is about, for routing (`drift --fail-on health|security`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub(crate) enum FindingClass {
    /// Backups, archiving and drills: can the data be recovered?
    Health,
    /// The trust boundary and row-level security: who can reach what?
    Security,
}

impl FindingClass {
    /// For people: `Health`, `Security`.
    pub(crate) fn title(self) -> &'static str {
        match self {
            FindingClass::Health => "Health",
            FindingClass::Security => "Security",
        }
    }
}

/// One failing check.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub(crate) struct Finding {
    /// The check's stable id: its domain, then the check
    /// (`backup.health.archiver`, `security.application_owner`).
    pub(crate) id: &'static str,
    pub(crate) class: FindingClass,
    /// The object the finding is about.
    pub(crate) address: Address,
    pub(crate) message: String,
    /// The figures behind the message (`age_seconds`, `threshold_seconds`, the object).
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    #[schemars(with = "std::collections::BTreeMap<String, serde_json::Value>")]
    pub(crate) details: serde_json::Map<String, serde_json::Value>,
}

impl Finding {
    pub(crate) fn new(
        id: &'static str,
        class: FindingClass,
        address: Address,
        message: impl Into<String>,
    ) -> Self {
        Self {
            id,
            class,
            address,
            message: message.into(),
            details: serde_json::Map::new(),
        }
    }

    pub(crate) fn detail(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.details.insert(name.to_string(), value.into());
        self
    }
}
