//! Reading and writing files safely.
//!
//! Writes are atomic: a temporary file beside the target, written, fsynced,
//! given its mode and owner, then renamed over the target, and the directory
//! fsynced; a crash leaves either the old file or the new one, never half.
//! Files dbops manages are never read or written through a symbolic link: a
//! link where a managed file should be is an error naming it. Secret files may
//! be links (Docker and Kubernetes mount secrets that way) but must resolve to
//! a regular file under a size limit, so a FIFO or `/dev/zero` cannot hang or
//! exhaust dbops.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::error::{Error, ErrorKind, Result};

/// `std::io::Error` without the trailing "(os error N)", lowercase.
pub(crate) fn io_reason(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_lowercase(),
        None => text.to_lowercase(),
    }
}

/// A file dbops manages, as found on disk.
#[derive(Debug)]
pub(crate) enum Found {
    Missing,
    Regular {
        bytes: Vec<u8>,
        metadata: Metadata,
    },
    /// Something else is there (a link, a directory, a device, a FIFO).
    NotRegular {
        what: &'static str,
    },
}

fn file_kind(metadata: &Metadata) -> &'static str {
    let kind = metadata.file_type();
    if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_block_device() || kind.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

/// The largest managed file dbops reads: configuration, never data.
pub(crate) const MANAGED_FILE_LIMIT: u64 = 16 * 1024 * 1024;

/// Reads a managed file without following a symbolic link at its path.
pub(crate) fn read_managed(path: &Path) -> Result<Found> {
    let fail = |e: &std::io::Error| {
        Error::new(format!(
            "cannot read `{}`: {}",
            path.display(),
            io_reason(e)
        ))
        .kind(ErrorKind::Local)
    };
    let metadata = match fs::symlink_metadata(path) {
        Ok(m) => m,
        // Nothing is at the path (a parent that is a file is the writer's problem).
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(Found::Missing)
        }
        Err(e) => return Err(fail(&e)),
    };
    if !metadata.file_type().is_file() {
        return Ok(Found::NotRegular {
            what: file_kind(&metadata),
        });
    }
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc_flags::O_NOFOLLOW | libc_flags::O_NONBLOCK)
        .open(path)
        .map_err(|e| fail(&e))?;
    let metadata = file.metadata().map_err(|e| fail(&e))?;
    if !metadata.file_type().is_file() {
        return Ok(Found::NotRegular {
            what: file_kind(&metadata),
        });
    }
    if metadata.len() > MANAGED_FILE_LIMIT {
        return Err(Error::new(format!(
            "`{}` is {} bytes, larger than a configuration file dbops manages",
            path.display(),
            metadata.len()
        )));
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    Read::by_ref(&mut file)
        .take(MANAGED_FILE_LIMIT)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(&e))?;
    Ok(Found::Regular { bytes, metadata })
}

/// Why a secret file could not be read; holds the path, never the content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecretFileError {
    Io(String),
    NotRegular(&'static str),
    TooLarge(u64),
    NotUtf8,
}

impl std::fmt::Display for SecretFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretFileError::Io(why) => write!(f, "{why}"),
            SecretFileError::NotRegular(what) => write!(f, "it is {what}, not a regular file"),
            SecretFileError::TooLarge(limit) => {
                write!(f, "it is larger than {} KiB", limit / 1024)
            }
            SecretFileError::NotUtf8 => write!(f, "it is not valid UTF-8"),
        }
    }
}

/// Reads a secret file: links followed, but it must be a regular file of at
/// most `limit` bytes. Opening does not block on a FIFO.
pub(crate) fn read_secret(path: &Path, limit: u64) -> std::result::Result<String, SecretFileError> {
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc_flags::O_NONBLOCK)
        .open(path)
        .map_err(|e| SecretFileError::Io(io_reason(&e)))?;
    let metadata = file
        .metadata()
        .map_err(|e| SecretFileError::Io(io_reason(&e)))?;
    if !metadata.file_type().is_file() {
        return Err(SecretFileError::NotRegular(file_kind(&metadata)));
    }
    if metadata.len() > limit {
        return Err(SecretFileError::TooLarge(limit));
    }
    let mut bytes = Vec::new();
    Read::by_ref(&mut file)
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| SecretFileError::Io(io_reason(&e)))?;
    if bytes.len() as u64 > limit {
        return Err(SecretFileError::TooLarge(limit));
    }
    String::from_utf8(bytes).map_err(|_| SecretFileError::NotUtf8)
}

/// Writes `contents` to `path` atomically with `mode` and, when given, the
/// owner `(uid, gid)` set before the file appears. Refuses to replace anything
/// but a regular file (a symbolic link, a directory).
pub(crate) fn write_atomic(
    path: &Path,
    contents: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<()> {
    let fail = |what: &str, e: std::io::Error| {
        Error::new(format!(
            "cannot {what} `{}`: {}",
            path.display(),
            io_reason(&e)
        ))
    };
    // A file rewritten keeps its owner and group unless one is declared:
    // the rename replaces the inode, and a service that reads the file as
    // its owner must still be able to.
    let mut owner = owner;
    if let Ok(metadata) = fs::symlink_metadata(path) {
        if !metadata.file_type().is_file() {
            return Err(Error::new(format!(
                "refusing to write `{}`: it is {}",
                path.display(),
                file_kind(&metadata)
            ))
            .hint("dbops writes only regular files it manages; remove what is there, or point the key at another path"));
        }
        owner = owner.or(Some((metadata.uid(), metadata.gid())));
    }
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
            .custom_flags(libc_flags::O_NOFOLLOW)
            .mode(mode)
            .open(&temporary)
            .map_err(|e| fail("create a temporary file for", e))?;
        file.write_all(contents).map_err(|e| fail("write", e))?;
        file.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(|e| fail("set the mode of", e))?;
        let created = file.metadata().map_err(|e| fail("read back", e))?;
        if let Some((uid, gid)) = owner.filter(|o| *o != (created.uid(), created.gid())) {
            std::os::unix::fs::fchown(&file, Some(uid), Some(gid)).map_err(|e| {
                fail("set the owner of", e)
                    .hint(format!("the file belongs to {uid}:{gid}; run dbops as root or as that user, or declare its owner"))
            })?;
        }
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

/// Mode bits and owner of a file's metadata.
pub(crate) fn mode_and_owner(metadata: &Metadata) -> (u32, u32, u32) {
    (
        metadata.permissions().mode() & 0o7777,
        metadata.uid(),
        metadata.gid(),
    )
}

/// The user and group a file this process creates belongs to (its effective
/// ones; a set-group-ID directory may give another group).
pub(crate) fn creator() -> (u32, u32) {
    // SAFETY: geteuid(2) and getegid(2) have no preconditions and cannot fail.
    unsafe { (libc::geteuid(), libc::getegid()) }
}

/// Whether the user `reader` (in groups `groups`) may read a file owned by
/// `uid`:`gid` with permission bits `mode`, as the kernel decides it (the
/// owner's bits alone apply to the owner, the group's to a member).
pub(crate) fn readable_by(owner: (u32, u32), mode: u32, reader: u32, groups: &[u32]) -> bool {
    permits(owner, mode, reader, groups, 0o4)
}

/// Whether the user `reader` may pass through (search) a directory.
pub(crate) fn searchable_by(owner: (u32, u32), mode: u32, reader: u32, groups: &[u32]) -> bool {
    permits(owner, mode, reader, groups, 0o1)
}

/// The kernel's check of one permission `bit` (4 read, 1 search) for `user`.
fn permits(owner: (u32, u32), mode: u32, user: u32, groups: &[u32], bit: u32) -> bool {
    if user == 0 {
        return bit != 0o1 || mode & 0o111 != 0;
    }
    if owner.0 == user {
        return mode & (bit << 6) != 0;
    }
    if groups.contains(&owner.1) {
        return mode & (bit << 3) != 0;
    }
    mode & bit != 0
}

/// The open(2) flags dbops needs.
mod libc_flags {
    pub(crate) const O_NONBLOCK: i32 = libc::O_NONBLOCK;
    pub(crate) const O_NOFOLLOW: i32 = libc::O_NOFOLLOW;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managed_files_are_not_read_through_links() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        fs::write(&target, "secret").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(matches!(
            read_managed(&link).unwrap(),
            Found::NotRegular {
                what: "a symbolic link"
            }
        ));
        assert!(matches!(
            read_managed(&dir.path().join("none")).unwrap(),
            Found::Missing
        ));
        let error = write_atomic(&link, b"x", 0o600, None).unwrap_err();
        assert!(error.message().contains("it is a symbolic link"), "{error}");
        assert_eq!(fs::read_to_string(&target).unwrap(), "secret");
    }

    #[test]
    fn secret_files_must_be_small_regular_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s");
        fs::write(&file, "pw\n").unwrap();
        let link = dir.path().join("l");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(read_secret(&link, 64).unwrap(), "pw\n");
        assert_eq!(
            read_secret(Path::new("/dev/zero"), 64),
            Err(SecretFileError::NotRegular("a device"))
        );
        fs::write(&file, vec![b'a'; 100]).unwrap();
        assert_eq!(read_secret(&file, 64), Err(SecretFileError::TooLarge(64)));
    }

    #[test]
    fn who_may_read_a_file() {
        assert!(readable_by((70, 70), 0o600, 70, &[70]));
        assert!(!readable_by((0, 0), 0o600, 70, &[70]));
        assert!(readable_by((0, 70), 0o640, 70, &[70]));
        assert!(
            !readable_by((70, 70), 0o040, 70, &[70]),
            "the owner's bits decide for the owner"
        );
        assert!(readable_by((0, 0), 0o600, 0, &[]));
        assert!(readable_by((0, 0), 0o604, 70, &[]));
        assert!(!searchable_by((0, 0), 0o700, 70, &[70]));
        assert!(searchable_by((0, 70), 0o710, 70, &[70]));
        assert!(searchable_by((0, 0), 0o755, 70, &[]));
    }

    #[test]
    fn writes_atomically_with_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        write_atomic(&path, b"one", 0o640, None).unwrap();
        write_atomic(&path, b"two", 0o600, None).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "two");
        let metadata = fs::metadata(&path).unwrap();
        assert_eq!(mode_and_owner(&metadata).0, 0o600);
    }

    /// Rewriting a file keeps its owner and group (as root: another user's file).
    #[test]
    fn a_rewritten_file_keeps_its_owner() {
        // SAFETY: geteuid(2) has no side effects.
        if unsafe { libc::geteuid() } != 0 {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("userlist.txt");
        write_atomic(&path, b"one", 0o600, Some((65534, 65534))).unwrap();
        write_atomic(&path, b"two", 0o600, None).unwrap();
        let (_, uid, gid) = mode_and_owner(&fs::metadata(&path).unwrap());
        assert_eq!((uid, gid), (65534, 65534));
        // A declared owner wins.
        write_atomic(&path, b"three", 0o600, Some((0, 0))).unwrap();
        let (_, uid, gid) = mode_and_owner(&fs::metadata(&path).unwrap());
        assert_eq!((uid, gid), (0, 0));
    }
}
