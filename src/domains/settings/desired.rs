//! The settings domain's desired state: each setting's value as text, where
//! it came from (the file, or derived from `[backup]`), and the `[server]`
//! options that govern how settings are applied.

use std::collections::BTreeMap;

/// Why a setting is desired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Written in `[server.settings]`.
    File,
    /// Derived from another section; the name says which (`[backup]`).
    Derived(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredSetting {
    /// Lowercase, as `pg_settings` names it.
    pub name: String,
    /// The value as PostgreSQL is given it.
    pub value: String,
    pub origin: Origin,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DesiredSettings {
    pub settings: BTreeMap<String, DesiredSetting>,
    /// Reset postgresql.auto.conf entries the file does not name.
    pub prune: bool,
    pub restart_command: Option<String>,
}

impl DesiredSettings {
    pub fn is_empty(&self) -> bool {
        self.settings.is_empty() && !self.prune
    }
}
