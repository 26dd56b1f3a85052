//! Reading room: one statement for `pg_wal`'s size (refused without
//! `pg_monitor`: unknown, not healthy), one for where the data directory is
//! and which server runs there, then the data directory's `postmaster.pid`
//! and `statvfs` when that file names this very server.

use std::path::Path;

use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use super::{Filesystem, LiveCapacity};
use crate::error::Result;
use crate::pg::connect::server_error;

/// The server as SQL sees it, to compare with `postmaster.pid`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Server {
    pub(crate) data_directory: String,
    pub(crate) port: String,
    /// `pg_postmaster_start_time()`, seconds since the epoch.
    pub(crate) started: f64,
}

pub(crate) async fn observe(client: &Client) -> Result<LiveCapacity> {
    let mut live = LiveCapacity::default();
    match client
        .query_one(
            "SELECT coalesce(sum(size), 0)::bigint FROM pg_ls_waldir()",
            &[],
        )
        .await
    {
        Ok(row) => live.wal_bytes = Some(row.get::<_, i64>(0).max(0) as u64),
        Err(e) if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => {}
        Err(e) => return Err(server_error("cannot read the size of `pg_wal`", &e)),
    }
    let server = match client
        .query_one(
            "SELECT current_setting('data_directory'), current_setting('port'), \
                    extract(epoch FROM pg_postmaster_start_time())::float8",
            &[],
        )
        .await
    {
        Ok(row) => Server {
            data_directory: row.get(0),
            port: row.get(1),
            started: row.get(2),
        },
        Err(e) if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => {
            live.filesystem_skipped =
                Some("the admin role may not read `data_directory` (grant it `pg_monitor`)".into());
            return Ok(live);
        }
        Err(e) => return Err(server_error("cannot read where the data directory is", &e)),
    };
    live.data_directory = Some(server.data_directory.clone());
    let directory = Path::new(&server.data_directory);
    let pid_file = read_small(&directory.join("postmaster.pid"));
    match pid_file.as_deref().map(|text| same_server(text, &server)) {
        Some(true) => match statvfs(directory) {
            Ok(fs) => live.filesystem = Some(fs),
            Err(e) => {
                live.filesystem_skipped =
                    Some(format!("cannot read the data directory's filesystem: {e}"));
            }
        },
        Some(false) => {
            live.filesystem_skipped = Some(
                "the data directory here belongs to another server than the one dbops reached"
                    .into(),
            );
        }
        None => {
            live.filesystem_skipped =
                Some("the data directory is not on this machine (or not readable here)".into());
        }
    }
    Ok(live)
}

/// Pure: whether `postmaster.pid` (lines: pid, data directory, start time,
/// port, ...) names the server SQL describes. The start time may differ by
/// a second (the file records whole seconds).
pub(crate) fn same_server(pid_file: &str, server: &Server) -> bool {
    let lines: Vec<&str> = pid_file.lines().collect();
    let (Some(directory), Some(started), Some(port)) = (lines.get(1), lines.get(2), lines.get(3))
    else {
        return false;
    };
    let Ok(started) = started.trim().parse::<f64>() else {
        return false;
    };
    directory.trim() == server.data_directory
        && port.trim() == server.port
        && (started - server.started).abs() <= 2.0
}

fn read_small(path: &Path) -> Option<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(4096)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

fn statvfs(path: &Path) -> std::io::Result<Filesystem> {
    use std::os::unix::ffi::OsStrExt;
    let name = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::other("the path holds a NUL byte"))?;
    let mut out: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `name` is a valid C string; `out` is a properly sized struct.
    if unsafe { libc::statvfs(name.as_ptr(), &mut out) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let unit = out.f_frsize as u64;
    Ok(Filesystem {
        size_bytes: out.f_blocks as u64 * unit,
        available_bytes: out.f_bavail as u64 * unit,
        used_bytes: (out.f_blocks as u64).saturating_sub(out.f_bfree as u64) * unit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_pid_file_of_this_very_server_counts() {
        let server = Server {
            data_directory: "/var/lib/postgresql/15/main".into(),
            port: "5432".into(),
            started: 1_764_000_000.4,
        };
        let file = "1234\n/var/lib/postgresql/15/main\n1764000000\n5432\n/run/postgresql\n*\n  5432001         0\nready   \n";
        assert!(same_server(file, &server));
        for other in [
            file.replace("5432\n/run", "5433\n/run"),
            file.replace("1764000000", "1763000000"),
            file.replace("/15/main", "/15/other"),
            "1234\n".to_string(),
            String::new(),
        ] {
            assert!(!same_server(&other, &server), "{other}");
        }
    }
}
