//! `[pooler]` exactly as written.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::desired::{AdminConsole, AuthType, PoolMode};
use crate::pg::setting_value::SettingValue;
use crate::secret::SecretRef;

/// `[pooler]`: pgBouncer's configuration, rendered and kept in sync by dbops.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPooler {
    /// Path of `pgbouncer.ini`.
    pub(crate) config_file: String,
    /// Path of the auth file (`userlist.txt`): SCRAM verifiers, never passwords.
    pub(crate) auth_file: String,
    /// Path of the HBA file, written when `admin_console = "localhost"`. Default: beside `config_file`.
    pub(crate) hba_file: Option<String>,
    /// Host name clients use to reach the pooler (`pgbouncer`). Default: `listen_addr`, unless it is a wildcard.
    pub(crate) host: Option<String>,
    /// Default: `0.0.0.0`.
    pub(crate) listen_addr: Option<String>,
    /// Default: 6432.
    pub(crate) listen_port: Option<u16>,
    /// Default: `transaction`.
    pub(crate) pool_mode: Option<PoolMode>,
    /// Default: `scram-sha-256`; anything else needs `allow_insecure_auth = true`.
    pub(crate) auth_type: Option<AuthType>,
    /// Accept an `auth_type` other than `scram-sha-256`. Default: false.
    #[serde(default)]
    pub(crate) allow_insecure_auth: bool,
    /// `disabled` (default) or `localhost`: reachable only from 127.0.0.1 / ::1, by `admin_user`.
    pub(crate) admin_console: Option<AdminConsole>,
    /// The admin console's user, with `admin_console = "localhost"`. Default: `pgbouncer_admin`.
    pub(crate) admin_user: Option<String>,
    /// The admin console user's password, with `admin_console = "localhost"`.
    pub(crate) admin_password: Option<SecretRef>,
    /// PostgreSQL as the pooler reaches it. Default: the admin DSN's host and port.
    pub(crate) backend: Option<RawBackend>,
    /// Databases the pooler serves. Default: each database named in a role's DSN.
    pub(crate) databases: Option<Vec<String>>,
    /// Owner of the files, `user` or `user:group` (the user pgBouncer runs as).
    pub(crate) owner: Option<String>,
    /// Mode of `pgbouncer.ini` and the HBA file. Default: `0640`. The auth file is always `0600`.
    pub(crate) mode: Option<String>,
    /// How to make pgBouncer reload: `admin` (the admin console), `signal` (SIGHUP to
    /// the pid in `pidfile`), or `{ command = "..." }`. Default: `admin` with the admin
    /// console on, else `signal`.
    pub(crate) reload: Option<RawReload>,
    /// Any other pgBouncer setting, verbatim.
    #[serde(default)]
    pub(crate) settings: BTreeMap<String, SettingValue>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBackend {
    pub(crate) host: String,
    pub(crate) port: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ReloadBy {
    /// `RELOAD` on the admin console.
    Admin,
    /// SIGHUP to the pgBouncer process in `pidfile`.
    Signal,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum RawReload {
    /// `admin` or `signal`.
    Named(ReloadBy),
    /// A shell command that makes pgBouncer reload.
    Command { command: String },
}
