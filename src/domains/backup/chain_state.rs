//! The WAL chain's watermark (`[backup] wal_chain_state`): the last
//! segment of the chain an earlier drift found whole, for this repository
//! and this cluster, so the next run lists only what was archived since.
//! A local file, never the bucket: the bucket's writers could forge it.
//! A missing, unreadable or foreign file means a whole check, not an error.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Result;

#[derive(Debug, Serialize, Deserialize)]
struct Watermark {
    format_version: u32,
    /// `s3://BUCKET/PREFIX` of the archive it was taken in.
    repository: String,
    system_identifier: String,
    /// Every segment up to this one was found, from the oldest retained
    /// full backup's start.
    verified_through: String,
    at: String,
}

/// The watermark for `repository` and `system`, if the file holds one.
pub(crate) fn read(path: &Path, repository: &str, system: &str) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let mark: Watermark = serde_json::from_slice(&bytes).ok()?;
    (mark.format_version == 1 && mark.repository == repository && mark.system_identifier == system)
        .then_some(mark.verified_through)
}

/// Writes the watermark atomically (0600).
pub(crate) fn write(path: &Path, repository: &str, system: &str, through: &str) -> Result<()> {
    let mark = Watermark {
        format_version: 1,
        repository: repository.to_string(),
        system_identifier: system.to_string(),
        verified_through: through.to_string(),
        at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
    };
    let mut text = serde_json::to_vec_pretty(&mark).expect("the watermark serializes");
    text.push(b'\n');
    crate::util::files::write_atomic(path, &text, 0o600, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watermark_reads_back_only_for_its_repository_and_cluster() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chain.json");
        assert_eq!(read(&path, "s3://b/p/", "7"), None);
        write(&path, "s3://b/p/", "7", "000000010000000000000009").unwrap();
        assert_eq!(
            read(&path, "s3://b/p/", "7").as_deref(),
            Some("000000010000000000000009")
        );
        assert_eq!(read(&path, "s3://b/other/", "7"), None);
        assert_eq!(read(&path, "s3://b/p/", "8"), None);
        std::fs::write(&path, "{").unwrap();
        assert_eq!(read(&path, "s3://b/p/", "7"), None);
    }
}
