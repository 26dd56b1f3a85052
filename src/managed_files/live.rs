//! A managed file as found on disk: its content (held for diffing, never
//! serialized), a digest, mode and owner; or that it is missing; or that
//! something other than a regular file is there, which is never read.

use std::path::Path;

use serde::Serialize;

use crate::error::Result;
use crate::util::digest::sha256_hex;
use crate::util::files::{mode_and_owner, read_managed, Found};

#[derive(Clone, PartialEq, Eq, Serialize)]
pub(crate) struct LiveFile {
    pub(crate) exists: bool,
    /// Held for diffing; serialized only as a digest.
    #[serde(skip)]
    pub(crate) content: Option<String>,
    pub(crate) digest: Option<String>,
    pub(crate) mode: Option<u32>,
    pub(crate) uid: Option<u32>,
    pub(crate) gid: Option<u32>,
    /// Something other than a regular file is at the path (`a symbolic link`).
    pub(crate) not_regular: Option<&'static str>,
}

/// Without the content, which may hold secrets.
impl std::fmt::Debug for LiveFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveFile")
            .field("exists", &self.exists)
            .field("digest", &self.digest)
            .field("mode", &self.mode)
            .field("uid", &self.uid)
            .field("gid", &self.gid)
            .field("not_regular", &self.not_regular)
            .finish()
    }
}

impl LiveFile {
    pub(crate) fn missing() -> Self {
        Self {
            exists: false,
            content: None,
            digest: None,
            mode: None,
            uid: None,
            gid: None,
            not_regular: None,
        }
    }
}

/// Reads a managed file, never through a symbolic link.
pub(crate) fn observe(path: &Path) -> Result<LiveFile> {
    Ok(match read_managed(path)? {
        Found::Missing => LiveFile::missing(),
        Found::NotRegular { what } => LiveFile {
            exists: true,
            not_regular: Some(what),
            ..LiveFile::missing()
        },
        Found::Regular { bytes, metadata } => {
            let (mode, uid, gid) = mode_and_owner(&metadata);
            LiveFile {
                exists: true,
                digest: Some(sha256_hex(&bytes)),
                content: Some(String::from_utf8_lossy(&bytes).into_owned()),
                mode: Some(mode),
                uid: Some(uid),
                gid: Some(gid),
                not_regular: None,
            }
        }
    })
}
