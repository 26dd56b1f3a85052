//! The pooler's live state, as `observe` reads it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::admin::Running;
use crate::managed_files::LiveFile;
use crate::pg::connect::Login;

/// The pooler's live state: its files and, when its admin console answered,
/// its running configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct LivePooler {
    pub(crate) files: BTreeMap<String, LiveFile>,
    pub(crate) running: Option<BTreeMap<String, Running>>,
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
