//! Writing files atomically: a temporary file beside the target, written,
//! fsynced, given its mode, then renamed over the target, and the directory
//! fsynced. A crash leaves either the old file or the new one, never half.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::config::secret_ref::io_reason;
use crate::error::{Error, Result};

pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let fail = |what: &str, e: std::io::Error| {
        Error::new(format!(
            "cannot {what} `{}`: {}",
            path.display(),
            io_reason(&e)
        ))
    };
    let directory = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = directory.join(format!(".{name}.dbops-{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temporary)
            .map_err(|e| fail("create a temporary file for", e))?;
        file.write_all(contents).map_err(|e| fail("write", e))?;
        file.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(|e| fail("set the mode of", e))?;
        file.sync_all().map_err(|e| fail("sync", e))?;
        fs::rename(&temporary, path).map_err(|e| fail("replace", e))?;
        if let Ok(dir) = File::open(directory) {
            let _ = dir.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result
}
