//! Writing a managed file: its directory created if needed, then an atomic
//! write with its mode and owner (set before the file appears). Refuses to
//! write through a symbolic link.

use super::desired::DesiredFile;
use crate::error::{Error, Result};
use crate::util::files::{io_reason, write_atomic};

pub(crate) fn write(file: &DesiredFile) -> Result<()> {
    if let Some(parent) = file.path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| {
            Error::new(format!(
                "cannot create directory `{}` for `{}`: {}",
                parent.display(),
                file.address,
                io_reason(&e)
            ))
        })?;
    }
    let owner = file.owner.as_ref().map(|(uid, gid, _)| (*uid, *gid));
    write_atomic(&file.path, file.content.as_bytes(), file.mode, owner)
}
