//! Reloading pgBouncer by SIGHUP, only after proving the pid in its pidfile is
//! a pgBouncer process owned by the pidfile's owner. A pidfile that names
//! another process (a reused pid, a hostile write) is an error naming the
//! pidfile: dbops never signals a process it has not identified.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::error::{Error, ErrorKind, Result};
use crate::util::files::{read_managed, Found};

/// The pid of the running pgBouncer named in `pidfile`; `None` when the file
/// is missing, empty, or names no live process (pgBouncer is not running).
pub(crate) fn verified_pgbouncer(pidfile: &Path) -> Result<Option<i32>> {
    let refuse = |why: String| {
        Error::new(format!(
            "refusing to signal the process in `{}`: {why}",
            pidfile.display()
        ))
        .kind(ErrorKind::Local)
        .hint("check `pidfile` in `[pooler.settings]`; dbops signals only the pgBouncer that wrote it")
    };
    let (bytes, metadata) = match read_managed(pidfile)? {
        Found::Missing => return Ok(None),
        Found::NotRegular { what } => return Err(refuse(format!("the pidfile is {what}"))),
        Found::Regular { bytes, metadata } => (bytes, metadata),
    };
    let text = String::from_utf8_lossy(&bytes);
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let pid: i32 = match text.parse() {
        Ok(pid) if pid > 1 => pid,
        _ => return Err(refuse("it does not hold a process id".to_string())),
    };
    let proc_dir = std::path::PathBuf::from(format!("/proc/{pid}"));
    let process = match std::fs::metadata(&proc_dir) {
        Ok(process) => process,
        Err(_) => return Ok(None),
    };
    let comm = std::fs::read_to_string(proc_dir.join("comm")).unwrap_or_default();
    let comm = comm.trim();
    let exe = std::fs::read_link(proc_dir.join("exe"))
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let is_pgbouncer = comm == "pgbouncer" || exe.starts_with("pgbouncer");
    if !is_pgbouncer {
        let name = if comm.is_empty() { exe.as_str() } else { comm };
        return Err(refuse(format!("process {pid} is `{name}`, not pgBouncer")));
    }
    if process.uid() != metadata.uid() {
        return Err(refuse(format!(
            "process {pid} runs as uid {}, but the pidfile belongs to uid {}",
            process.uid(),
            metadata.uid()
        )));
    }
    Ok(Some(pid))
}

/// Sends SIGHUP to a verified pgBouncer.
pub(crate) fn hangup(pid: i32, pidfile: &str) -> Result<()> {
    // SAFETY: kill(2) with a pid and a signal number has no memory effects.
    let result = unsafe { libc::kill(pid, libc::SIGHUP) };
    if result == 0 {
        Ok(())
    } else {
        Err(Error::new(format!(
            "cannot send SIGHUP to pgBouncer (pid {pid} from `{pidfile}`): {}",
            crate::util::files::io_reason(&std::io::Error::last_os_error())
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pidfile_naming_another_process_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pgbouncer.pid");
        // This test's own process: alive, owned by us, and not pgBouncer.
        std::fs::write(&pidfile, std::process::id().to_string()).unwrap();
        let error = verified_pgbouncer(&pidfile).unwrap_err();
        assert!(error.message().contains("not pgBouncer"), "{error}");
        std::fs::write(&pidfile, "").unwrap();
        assert_eq!(verified_pgbouncer(&pidfile).unwrap(), None);
        std::fs::write(&pidfile, "not a pid").unwrap();
        assert!(verified_pgbouncer(&pidfile).is_err());
        assert_eq!(
            verified_pgbouncer(&dir.path().join("missing.pid")).unwrap(),
            None
        );
    }
}
