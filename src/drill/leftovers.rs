//! Drills a killed dbops left behind: a work directory holds an owner file
//! naming the dbops process that made it (its pid and start time, so a
//! reused pid is not mistaken for it), or `kept` for `--keep`. The next
//! restore-test finds directories of its own whose process is gone, stops
//! their server and deletes them (with the bucket keys in the tool's
//! configuration), and says so. A drill whose process still runs, a kept
//! one, and anything without an owner file dbops wrote are never touched.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::cluster::RunAs;
use super::layout::Invocation;

/// The owner file in a work directory.
pub(crate) const OWNER_FILE: &str = "dbops-owner";

/// The prefix of every work directory restore-test makes.
pub(crate) const PREFIX: &str = "dbops-restore-test-";

/// Who a work directory belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Owner {
    /// A dbops process: its pid and start time (clock ticks since boot).
    Process { pid: i32, start: u64 },
    /// Left running on purpose (`--keep`).
    Kept,
}

impl Owner {
    /// This process.
    pub(crate) fn me() -> Self {
        let pid = std::process::id() as i32;
        Owner::Process {
            pid,
            start: start_time(pid).unwrap_or(0),
        }
    }

    pub(crate) fn to_text(&self) -> String {
        match self {
            Owner::Process { pid, start } => format!("pid={pid} start={start}\n"),
            Owner::Kept => "kept\n".into(),
        }
    }

    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text == "kept" {
            return Some(Owner::Kept);
        }
        let mut pid = None;
        let mut start = None;
        for part in text.split_whitespace() {
            match part.split_once('=')? {
                ("pid", v) => pid = v.parse().ok(),
                ("start", v) => start = v.parse().ok(),
                _ => return None,
            }
        }
        Some(Owner::Process {
            pid: pid?,
            start: start?,
        })
    }

    /// Whether the process that owns it still runs (the same process: a pid
    /// reused since has another start time).
    fn alive(&self) -> bool {
        match self {
            Owner::Kept => true,
            Owner::Process { pid, start } => start_time(*pid) == Some(*start),
        }
    }
}

/// A process's start time from `/proc/PID/stat` (field 22).
fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields follow the last `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Every leftover drill under `parent` whose dbops is gone: its server
/// stopped (`pg_ctl` from `bindir`, as the server's user) and the directory
/// deleted. Returns what was removed, for the log and an event.
pub(crate) fn sweep(parent: &Path, bindir: &Path, run_as: &RunAs) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let dir = entry.path();
        let Some(owner) = owner_of(&dir) else {
            continue;
        };
        if owner.alive() {
            continue;
        }
        let Owner::Process { pid, .. } = owner else {
            continue;
        };
        let stopped = stop_server(&dir.join("data"), bindir, run_as);
        if std::fs::remove_dir_all(&dir).is_ok() {
            removed.push(format!(
                "removed the work directory `{}` of a restore test whose dbops (pid {pid}) no longer runs{}",
                dir.display(),
                if stopped { "; stopped its server first" } else { "" }
            ));
        }
    }
    removed
}

/// The owner of a work directory restore-test made: a real directory (not a
/// link) named like one, holding an owner file this user wrote.
fn owner_of(dir: &Path) -> Option<Owner> {
    let name = dir.file_name()?.to_str()?;
    if !name.starts_with(PREFIX) {
        return None;
    }
    if !std::fs::symlink_metadata(dir).ok()?.is_dir() {
        return None;
    }
    let file: PathBuf = dir.join(OWNER_FILE);
    let metadata = std::fs::symlink_metadata(&file).ok()?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if !metadata.is_file() || metadata.uid() != me || metadata.len() > 100 {
        return None;
    }
    Owner::parse(&std::fs::read_to_string(&file).ok()?)
}

/// Stops the server of a leftover data directory, if one runs there.
fn stop_server(data: &Path, bindir: &Path, run_as: &RunAs) -> bool {
    if !data.join("postmaster.pid").exists() {
        return false;
    }
    let stop = Invocation {
        program: bindir.join("pg_ctl").display().to_string(),
        args: [
            "-D",
            &data.display().to_string(),
            "-m",
            "immediate",
            "-w",
            "-t",
            "30",
            "stop",
        ]
        .iter()
        .map(|a| a.to_string())
        .collect(),
    };
    run_as.run_blocking(&stop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_read_back_and_a_reused_pid_is_not_alive() {
        let me = Owner::me();
        assert_eq!(Owner::parse(&me.to_text()), Some(me.clone()));
        assert!(me.alive());
        assert_eq!(Owner::parse("kept\n"), Some(Owner::Kept));
        let Owner::Process { pid, start } = me else {
            unreachable!()
        };
        assert!(!Owner::Process {
            pid,
            start: start + 1
        }
        .alive());
        assert_eq!(Owner::parse("pid=1 start=x"), None);
        assert_eq!(Owner::parse("rm -rf /"), None);
    }

    #[test]
    fn only_directories_with_an_owner_file_of_ours_are_leftovers() {
        let parent = tempfile::tempdir().unwrap();
        let dead = parent.path().join(format!("{PREFIX}dead"));
        std::fs::create_dir(&dead).unwrap();
        std::fs::write(dead.join(OWNER_FILE), "pid=2147483646 start=1\n").unwrap();
        let running = parent.path().join(format!("{PREFIX}running"));
        std::fs::create_dir(&running).unwrap();
        std::fs::write(running.join(OWNER_FILE), Owner::me().to_text()).unwrap();
        let kept = parent.path().join(format!("{PREFIX}kept"));
        std::fs::create_dir(&kept).unwrap();
        std::fs::write(kept.join(OWNER_FILE), "kept\n").unwrap();
        let foreign = parent.path().join(format!("{PREFIX}foreign"));
        std::fs::create_dir(&foreign).unwrap();
        let other = parent.path().join("other");
        std::fs::create_dir(&other).unwrap();
        std::fs::write(other.join(OWNER_FILE), "pid=2147483646 start=1\n").unwrap();
        let removed = sweep(
            parent.path(),
            Path::new("/nonexistent"),
            &RunAs { user: None },
        );
        assert_eq!(removed.len(), 1, "{removed:?}");
        assert!(!dead.exists());
        for left in [running, kept, foreign, other] {
            assert!(left.exists(), "{}", left.display());
        }
    }
}
