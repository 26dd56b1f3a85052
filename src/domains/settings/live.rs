//! The settings domain's live state: for each setting of interest, what
//! `pg_settings` says (type, unit, range, context, current value, whether a
//! restart is pending) and what postgresql.auto.conf holds for it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::pg::setting_value::{Spec, VarType};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveSetting {
    pub name: String,
    /// `pg_settings.setting`: the value in force, in the setting's unit.
    pub setting: String,
    /// `current_setting(name)`: the value in force, as people read it (`1min`).
    pub display: String,
    pub vartype: String,
    pub unit: Option<String>,
    pub enumvals: Vec<String>,
    pub min_val: Option<String>,
    pub max_val: Option<String>,
    /// `postmaster` settings need a restart; others a reload.
    pub context: String,
    /// Where the value in force came from (`configuration file`, `command line`, ...).
    pub source: String,
    pub pending_restart: bool,
    /// The value a configuration file holds that waits for a restart, if any.
    #[serde(default)]
    pub pending_value: Option<String>,
}

impl LiveSetting {
    pub fn spec(&self) -> Spec {
        Spec {
            name: self.name.clone(),
            vartype: VarType::parse(&self.vartype),
            unit: self.unit.clone(),
            enumvals: self.enumvals.clone(),
            min: self.min_val.as_deref().and_then(|v| v.parse().ok()),
            max: self.max_val.as_deref().and_then(|v| v.parse().ok()),
        }
    }

    pub fn requires_restart(&self) -> bool {
        self.context == "postmaster"
    }
}

/// One postgresql.auto.conf entry, from `pg_file_settings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AutoConfEntry {
    pub value: String,
    /// In force: false until a reload (or, for `postmaster` settings, a restart).
    pub applied: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LiveSettings {
    /// Settings named in the file or in postgresql.auto.conf.
    pub settings: BTreeMap<String, LiveSetting>,
    /// The last entry postgresql.auto.conf holds for each name (what `ALTER SYSTEM` wrote).
    pub auto_conf: BTreeMap<String, AutoConfEntry>,
    /// Every setting name the server knows, for unknown-name suggestions.
    #[serde(skip)]
    pub known: BTreeSet<String>,
    #[serde(skip)]
    pub statements: usize,
}
