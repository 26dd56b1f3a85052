//! `[server]` exactly as written.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::pg::setting_value::SettingValue;

/// `[server]`: server-wide configuration.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServer {
    /// Settings by name, applied with `ALTER SYSTEM SET` and `pg_reload_conf()`.
    #[serde(default)]
    pub(crate) settings: BTreeMap<String, SettingValue>,
    /// Reset settings in postgresql.auto.conf that `settings` does not name. Default: false.
    #[serde(default)]
    pub(crate) prune: bool,
    /// Shell command that restarts PostgreSQL (e.g. `docker compose restart postgres`),
    /// run by `apply --allow-restart` when a setting waits for a restart.
    pub(crate) restart_command: Option<String>,
    /// PostgreSQL's own `pg_hba.conf`, managed: the application's roles only
    /// from where the pooler connects, SCRAM only.
    pub(crate) hba: Option<super::hba::raw::RawHba>,
}
