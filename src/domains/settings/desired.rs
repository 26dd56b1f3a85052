//! The settings domain's desired state: each setting's value as text, where
//! it came from (the file, or derived from `[backup]`), and the `[server]`
//! options that govern how settings are applied.

use std::collections::BTreeMap;

/// Why a setting is desired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Written in `[server.settings]`.
    File,
    /// Derived from another section; the name says which (`[backup]`).
    Derived(&'static str),
}

#[derive(Clone, PartialEq, Eq)]
pub(crate) struct DesiredSetting {
    /// Lowercase, as `pg_settings` names it.
    pub(crate) name: String,
    /// The value as PostgreSQL is given it.
    pub(crate) value: String,
    pub(crate) origin: Origin,
    /// Given as a secret reference, or carrying a credential: never printed.
    pub(crate) sensitive: bool,
}

/// Without a sensitive value.
impl std::fmt::Debug for DesiredSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = if self.sensitive {
            "(sensitive)"
        } else {
            &self.value
        };
        f.debug_struct("DesiredSetting")
            .field("name", &self.name)
            .field("value", &value)
            .field("origin", &self.origin)
            .finish()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DesiredSettings {
    pub(crate) settings: BTreeMap<String, DesiredSetting>,
    /// Reset postgresql.auto.conf entries the file does not name.
    pub(crate) prune: bool,
    pub(crate) restart_command: Option<String>,
    /// `[server.hba]`, resolved.
    pub(crate) hba: Option<super::hba::desired::DesiredHba>,
    /// Whether the admin logs in with a client certificate (for the HBA
    /// file's lockout guard).
    pub(crate) admin_certificate: bool,
}

impl DesiredSettings {
    pub(crate) fn is_empty(&self) -> bool {
        self.settings.is_empty() && !self.prune && self.hba.is_none()
    }
}
