//! The pooler's live state, as `observe` reads it: its files, what its admin
//! console answered, the pgBouncer process its pidfile names, and a login
//! (and a statement) through it by each application role.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::admin::Running;
use crate::managed_files::LiveFile;
use crate::pg::connect::Login;

/// The pgBouncer process named in `pidfile`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Process {
    /// No pidfile is declared.
    #[default]
    Unknown,
    /// No live process in the pidfile.
    NotRunning,
    /// A pgBouncer proven to be the one that wrote the pidfile, and the
    /// user and groups it runs as (what it can read).
    Verified { pid: i32, uid: u32, gids: Vec<u32> },
    /// The pidfile names something dbops will not signal: why.
    Unverified(String),
}

/// The pooler's live state: its files and, when its admin console answered,
/// its running configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct LivePooler {
    pub(crate) files: BTreeMap<String, LiveFile>,
    pub(crate) running: Option<BTreeMap<String, Running>>,
    /// The console refused the declared admin user: pgBouncer's message.
    pub(crate) console_refused: Option<String>,
    pub(crate) process: Process,
    /// The user and group a file dbops creates belongs to.
    pub(crate) creator: (u32, u32),
    /// Where the server listens, when the backend is not the admin's
    /// address: `(port, listen_addresses, unix_socket_directories)`.
    pub(crate) server: Option<(u16, String, String)>,
    /// Each DSN role's login through the pooler with its desired password.
    pub(crate) logins: BTreeMap<String, Login>,
    /// Where the pooler was reached for those logins (`host:port`).
    pub(crate) reached_at: String,
}

impl LivePooler {
    pub(crate) fn file(&self, path: &Path) -> Option<&LiveFile> {
        self.files.get(&path.display().to_string())
    }
}
