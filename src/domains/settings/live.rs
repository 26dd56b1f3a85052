//! The settings domain's live state: for each setting of interest, what
//! `pg_settings` says (type, unit, range, context, current value, whether a
//! restart is pending) and what postgresql.auto.conf holds for it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::pg::setting_value::{Context, Spec, VarType};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct LiveSetting {
    pub(crate) name: String,
    /// `pg_settings.setting`: the value in force, in the setting's unit.
    pub(crate) setting: String,
    /// `current_setting(name)`: the value in force, as people read it (`1min`).
    pub(crate) display: String,
    pub(crate) vartype: VarType,
    pub(crate) unit: Option<String>,
    pub(crate) enumvals: Vec<String>,
    pub(crate) min_val: Option<String>,
    pub(crate) max_val: Option<String>,
    /// `postmaster` settings need a restart; others a reload.
    pub(crate) context: Context,
    /// Where the value in force came from (`configuration file`, `command line`, ...).
    pub(crate) source: String,
    pub(crate) pending_restart: bool,
    /// The value a configuration file holds that waits for a restart, if any.
    #[serde(default)]
    pub(crate) pending_value: Option<String>,
}

impl LiveSetting {
    pub(crate) fn spec(&self) -> Spec {
        Spec {
            name: self.name.clone(),
            vartype: self.vartype,
            unit: self.unit.clone(),
            enumvals: self.enumvals.clone(),
            min: self.min_val.as_deref().and_then(|v| v.parse().ok()),
            max: self.max_val.as_deref().and_then(|v| v.parse().ok()),
        }
    }

    pub(crate) fn requires_restart(&self) -> bool {
        self.context == Context::Postmaster
    }
}

/// One postgresql.auto.conf entry, from `pg_file_settings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct AutoConfEntry {
    pub(crate) value: String,
    /// In force: false until a reload (or, for `postmaster` settings, a restart).
    pub(crate) applied: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct LiveSettings {
    /// Settings named in the file or in postgresql.auto.conf.
    pub(crate) settings: BTreeMap<String, LiveSetting>,
    /// The last entry postgresql.auto.conf holds for each name (what `ALTER SYSTEM` wrote).
    pub(crate) auto_conf: BTreeMap<String, AutoConfEntry>,
    /// Every setting name the server knows, for unknown-name suggestions.
    #[serde(skip)]
    pub(crate) known: BTreeSet<String>,
    #[serde(skip)]
    pub(crate) statements: usize,
    /// The HBA file, when `[server.hba]` is declared.
    pub(crate) hba: Option<super::hba::live::LiveHba>,
}
