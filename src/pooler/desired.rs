//! The pooler's desired state: where its files go, what `pgbouncer.ini` says,
//! which roles its auth file lists, and how dbops makes it reload.

use std::collections::BTreeMap;
use std::path::PathBuf;

use secrecy::SecretString;

#[derive(Debug, Clone)]
pub enum AdminConsole {
    Disabled,
    /// Reachable only from loopback (through the HBA file), by this user.
    Localhost {
        user: String,
        password: SecretString,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reload {
    /// `RELOAD` on the admin console.
    Admin,
    /// SIGHUP to the pid in `pidfile`.
    Signal,
    /// A shell command.
    Command(String),
}

#[derive(Debug, Clone)]
pub struct DesiredPooler {
    pub config_path: PathBuf,
    pub auth_path: PathBuf,
    pub hba_path: PathBuf,
    /// How clients reach the pooler.
    pub host: String,
    pub listen_addr: String,
    pub listen_port: u16,
    pub pool_mode: String,
    pub auth_type: String,
    pub admin: AdminConsole,
    pub backend_host: String,
    pub backend_port: u16,
    pub databases: Vec<String>,
    pub owner: Option<(u32, u32, String)>,
    pub mode: u32,
    pub reload: Reload,
    /// `[pooler.settings]`, values as written.
    pub settings: BTreeMap<String, String>,
    /// Managed login roles with a password: the auth file lists them.
    pub users: Vec<String>,
}

impl DesiredPooler {
    /// Every `[pgbouncer]` setting dbops renders, as pgBouncer will report it.
    pub fn effective_settings(&self) -> BTreeMap<String, String> {
        let mut settings = self.settings.clone();
        settings.insert("listen_addr".into(), self.listen_addr.clone());
        settings.insert("listen_port".into(), self.listen_port.to_string());
        settings.insert("pool_mode".into(), self.pool_mode.clone());
        settings.insert("auth_file".into(), self.auth_path.display().to_string());
        match &self.admin {
            AdminConsole::Disabled => {
                settings.insert("auth_type".into(), self.auth_type.clone());
            }
            AdminConsole::Localhost { user, .. } => {
                settings.insert("auth_type".into(), "hba".into());
                settings.insert("auth_hba_file".into(), self.hba_path.display().to_string());
                settings.insert("admin_users".into(), user.clone());
            }
        }
        settings
    }

    pub fn pidfile(&self) -> Option<&str> {
        self.settings
            .get("pidfile")
            .map(String::as_str)
            .filter(|p| !p.is_empty())
    }
}
