//! The HBA file as found: where the server reads it, whether it is on this
//! host (and its content), when the server last loaded its configuration,
//! and dbops's own connection as the server sees it (for the lockout guard).

use serde::{Deserialize, Serialize};

use crate::managed_files::LiveFile;

/// dbops's admin connection, as the server sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AdminSeen {
    /// `None`: the Unix socket.
    pub(crate) address: Option<String>,
    pub(crate) ssl: bool,
    pub(crate) database: String,
    pub(crate) user: String,
    pub(crate) groups: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct LiveHba {
    /// `hba_file`, as the server reads it.
    pub(crate) path: String,
    /// `None`: not on this host (dbops runs elsewhere).
    pub(crate) file: Option<LiveFile>,
    /// The file's modification time and the server's last configuration
    /// load (`pg_conf_load_time()`), seconds since the epoch.
    pub(crate) modified_at: Option<f64>,
    pub(crate) loaded_at: f64,
    /// Whether `pg_hba_file_rules` is readable (a superuser admin): without
    /// it, a new file cannot be checked before it is loaded.
    pub(crate) rules_readable: bool,
    pub(crate) admin: AdminSeen,
}
