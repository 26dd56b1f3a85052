//! A file as dbops renders it: where, what, with which mode and owner, and
//! how its lines may be shown.

use std::path::PathBuf;

use super::grammar::Entry;
use super::redaction::Redaction;
use crate::plan::Address;

#[derive(Clone, PartialEq, Eq)]
pub(crate) struct DesiredFile {
    /// `backup.file.walg.env`, `pooler.file.pgbouncer.ini`.
    pub(crate) address: Address,
    pub(crate) path: PathBuf,
    pub(crate) content: String,
    pub(crate) mode: u32,
    /// `(uid, gid, as written)`.
    pub(crate) owner: Option<(u32, u32, String)>,
    pub(crate) redaction: Redaction,
    /// The values the content carries and the keys they came from, as the
    /// renderer wrote them (for the grammar's round-trip tests).
    pub(crate) carried: Vec<Entry>,
}

/// Redacted: a rendered file may hold secrets, and a debug print must not show them.
impl std::fmt::Debug for DesiredFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DesiredFile")
            .field("address", &self.address.to_string())
            .field("path", &self.path)
            .field("content", &self.redaction.redact(&self.content))
            .field("mode", &format_args!("{:04o}", self.mode))
            .field("owner", &self.owner)
            .finish()
    }
}
