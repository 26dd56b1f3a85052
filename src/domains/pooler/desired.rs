//! The pooler's desired state: where its files go, what `pgbouncer.ini` says,
//! which roles its auth file lists, and how dbops makes it reload.

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use secrecy::SecretString;
use serde::Deserialize;

use crate::dsn::Dsn;

/// pgBouncer's `pool_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PoolMode {
    Session,
    Transaction,
    Statement,
}

impl PoolMode {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PoolMode::Session => "session",
            PoolMode::Transaction => "transaction",
            PoolMode::Statement => "statement",
        }
    }
}

/// pgBouncer's `auth_type` for clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub(crate) enum AuthType {
    #[serde(rename = "scram-sha-256")]
    ScramSha256,
    #[serde(rename = "md5")]
    Md5,
    #[serde(rename = "plain")]
    Plain,
    #[serde(rename = "cert")]
    Cert,
    #[serde(rename = "trust")]
    Trust,
    #[serde(rename = "any")]
    Any,
    #[serde(rename = "pam")]
    Pam,
}

impl AuthType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            AuthType::ScramSha256 => "scram-sha-256",
            AuthType::Md5 => "md5",
            AuthType::Plain => "plain",
            AuthType::Cert => "cert",
            AuthType::Trust => "trust",
            AuthType::Any => "any",
            AuthType::Pam => "pam",
        }
    }
}

/// Whether pgBouncer's admin console is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum AdminConsole {
    /// No admin users: the console is off.
    Disabled,
    /// Reachable only from loopback (127.0.0.1, ::1), by `admin_user`.
    Localhost,
}

/// The admin console's user, when it is on.
#[derive(Debug, Clone)]
pub(crate) struct AdminUser {
    pub(crate) user: String,
    pub(crate) password: SecretString,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reload {
    /// `RELOAD` on the admin console.
    Admin,
    /// SIGHUP to the pgBouncer process whose pid is in `pidfile`.
    Signal,
    /// A shell command.
    Command(String),
}

#[derive(Debug, Clone)]
pub(crate) struct DesiredPooler {
    pub(crate) config_path: PathBuf,
    pub(crate) auth_path: PathBuf,
    pub(crate) hba_path: PathBuf,
    /// How clients reach the pooler.
    pub(crate) host: String,
    pub(crate) listen_addr: String,
    pub(crate) listen_port: u16,
    pub(crate) pool_mode: PoolMode,
    pub(crate) auth_type: AuthType,
    /// `Some` with `admin_console = "localhost"`.
    pub(crate) admin: Option<AdminUser>,
    pub(crate) backend_host: String,
    pub(crate) backend_port: u16,
    /// The backend is where dbops reaches PostgreSQL itself (no need to
    /// check it is the same server).
    pub(crate) backend_is_admin: bool,
    pub(crate) databases: Vec<String>,
    pub(crate) owner: Option<(u32, u32, String)>,
    pub(crate) mode: u32,
    pub(crate) reload: Reload,
    /// `[pooler.settings]`, values as written.
    pub(crate) settings: BTreeMap<String, String>,
    /// Managed login roles with a password: the auth file lists them.
    pub(crate) users: Vec<String>,
    /// Application roles (a DSN and a password), each logged in through the
    /// pooler to check it accepts the password PostgreSQL holds.
    pub(crate) logins: BTreeMap<String, Dsn>,
}

impl DesiredPooler {
    /// Every `[pgbouncer]` setting dbops renders, as pgBouncer will report it.
    pub(crate) fn effective_settings(&self) -> BTreeMap<String, String> {
        let mut settings = self.settings.clone();
        settings.insert("listen_addr".into(), self.listen_addr.clone());
        settings.insert("listen_port".into(), self.listen_port.to_string());
        settings.insert("pool_mode".into(), self.pool_mode.as_str().into());
        settings.insert("auth_file".into(), self.auth_path.display().to_string());
        match &self.admin {
            None => {
                settings.insert("auth_type".into(), self.auth_type.as_str().into());
            }
            Some(admin) => {
                settings.insert("auth_type".into(), "hba".into());
                settings.insert("auth_hba_file".into(), self.hba_path.display().to_string());
                settings.insert("admin_users".into(), admin.user.clone());
            }
        }
        settings
    }

    pub(crate) fn pidfile(&self) -> Option<&str> {
        self.settings
            .get("pidfile")
            .map(String::as_str)
            .filter(|p| !p.is_empty())
    }
}
