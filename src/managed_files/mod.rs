//! Managed files, neutral (no domain): configuration dbops renders (the WAL-G environment,
//! pgbackrest.conf, pgbouncer.ini and its HBA and auth files) compared with
//! what is on disk and written atomically with a restrictive mode and an
//! optional owner. Other domains render the content; this module observes,
//! diffs and writes, and decides which lines a plan may show: only lines proven
//! free of secrets, in the old content as in the new. Files are never read or
//! written through a symbolic link.

pub(crate) mod apply;
pub(crate) mod desired;
pub(crate) mod diff;
pub mod grammar;
pub(crate) mod live;
pub(crate) mod redaction;

pub(crate) use desired::DesiredFile;
pub(crate) use live::{observe, LiveFile};
pub(crate) use redaction::Redaction;

/// The grammar a rendered file is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grammar {
    PgBouncerIni,
    PgBouncerHba,
    PgBouncerAuth,
    Env,
    PgBackRestConf,
}

/// A file as dbops would write it, with the values it carries and the keys
/// they come from: what the grammar round-trip tests read back.
#[derive(Debug, Clone)]
pub struct RenderedFile {
    pub grammar: Grammar,
    pub content: String,
    pub entries: Vec<grammar::Entry>,
}

/// The operation for a file: write the desired content, mode and owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Write {
    pub(crate) file: DesiredFile,
}
