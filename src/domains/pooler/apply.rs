//! Applying the pooler's changes: each file written in plan order (the auth
//! file with the verifiers the role transaction just sent; a rewritten file
//! keeps its owner), then one reload: `RELOAD` on the admin console, SIGHUP
//! to the pgBouncer process in `pidfile` (only once it is proven to be
//! pgBouncer), or a command. When the console refuses the declared admin
//! user (the files dbops just wrote are what teach it), the reload is the
//! verified signal. dbops starts nothing: a pooler that is not running reads
//! the files when it starts, and apply says so.
//!
//! Every reload is then proven: the running settings match the file (when
//! the console is on), each DSN role runs a statement through the pooler
//! with its password (a new one where this apply set it), and a readable
//! `logfile` shows the reload without an error. A reload pgBouncer did not
//! take (a file it cannot read, a parse error) is a failure naming the
//! cause: the owner and mode of the file (or a directory on its way) against
//! the user pgBouncer runs as, and its log. Where nothing can prove it, the
//! event says so.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use super::admin::{self, same, Console};
use super::desired::{DesiredPooler, Reload};
use super::diff::{auth_content, paths};
use super::known::RESTART_ONLY;
use super::live::Process;
use super::observe::process;
use super::operation::Operation;
use super::signal;
use crate::error::{Error, ErrorKind, Result};
use crate::events::{Event, EventName, EventSink};
use crate::managed_files;
use crate::pg::connect::{try_statement, Login};
use crate::plan::Planned;
use crate::util::files::{mode_and_owner, readable_by, searchable_by};
use crate::util::shell;

/// How long a signalled pgBouncer has to show it loaded the files.
const PROOF_PATIENCE: Duration = Duration::from_secs(5);

pub(crate) async fn apply(
    pooler: &DesiredPooler,
    changes: &[&Planned<Operation>],
    sent: &BTreeMap<String, String>,
    timeout: Duration,
    sink: &dyn EventSink,
) -> Result<()> {
    for planned in changes {
        match &planned.operation {
            Operation::Write(write) => {
                managed_files::apply::write(&write.file)?;
                sink.emit(Event::new(EventName::FileWritten, &planned.change.address));
            }
            Operation::WriteAuthFile { file, entries } => {
                let mut file = file.clone();
                file.content = auth_content(entries, Some(sent))?;
                managed_files::apply::write(&file)?;
                sink.emit(Event::new(EventName::FileWritten, &planned.change.address));
            }
            Operation::Reload => {}
        }
    }
    if changes.is_empty() {
        return Ok(());
    }
    let log_before = log_length(pooler);
    let reloaded = reload(pooler, timeout).await?;
    let event = match reloaded {
        Reloaded::Skipped(event) => event,
        Reloaded::Done(how) => {
            let proof = prove(pooler, sent, log_before, timeout)
                .await
                .map_err(|e| cause(e, pooler, log_before))?;
            Event::message(EventName::PoolerReloaded, format!("{how}; {proof}"))
        }
    };
    sink.emit(event);
    Ok(())
}

/// What a reload did.
enum Reloaded {
    /// pgBouncer was told: how.
    Done(String),
    /// It was not (not running): the event that says so.
    Skipped(Event),
}

async fn reload(pooler: &DesiredPooler, timeout: Duration) -> Result<Reloaded> {
    let skipped = |why: String| {
        Reloaded::Skipped(Event::message(
            EventName::PoolerReloadSkipped,
            format!("pgBouncer was not reloaded: {why}; it reads the new files when it starts"),
        ))
    };
    match &pooler.reload {
        Reload::Admin => match admin::open(pooler, timeout).await? {
            Console::Closed => Ok(skipped(format!(
                "it is not running (nothing listens on 127.0.0.1:{})",
                pooler.listen_port
            ))),
            Console::Open(client) => {
                admin::reload(&client).await?;
                Ok(Reloaded::Done(
                    "pgBouncer reloaded its configuration (RELOAD)".into(),
                ))
            }
            // The console does not know the declared admin yet: the files
            // just written teach it, read on a signal to the proven pgBouncer.
            Console::Refused(refused) => match process(pooler) {
                Process::Verified { pid, .. } => hangup(pooler, pid),
                _ => Err(refused),
            },
        },
        Reload::Signal => match process(pooler) {
            Process::Verified { pid, .. } => hangup(pooler, pid),
            Process::NotRunning => Ok(skipped(format!(
                "it is not running (no live pgBouncer process in `{}`)",
                pooler.pidfile().unwrap_or_default()
            ))),
            Process::Unknown => Err(Error::config(
                "`reload = \"signal\"` needs `pidfile` in `[pooler.settings]`",
            )),
            Process::Unverified(why) => Err(Error::new(why).kind(ErrorKind::Local)),
        },
        Reload::Command(command) => {
            shell::run(command, "the pooler's reload command", timeout * 3).await?;
            Ok(Reloaded::Done("ran the pooler's reload command".into()))
        }
    }
}

fn hangup(pooler: &DesiredPooler, pid: i32) -> Result<Reloaded> {
    // Proven again just before the signal: the pid must still be pgBouncer's.
    let pidfile = pooler.pidfile().unwrap_or_default();
    match signal::verified_pgbouncer(Path::new(pidfile))? {
        Some(now) if now == pid => {
            signal::hangup(pid, pidfile)?;
            Ok(Reloaded::Done(format!(
                "sent SIGHUP to pgBouncer (pid {pid})"
            )))
        }
        _ => Err(Error::new(format!(
            "pgBouncer (pid {pid} in `{pidfile}`) went away before it could be reloaded"
        ))),
    }
}

/// Proves pgBouncer loaded what was written, within a few seconds (a
/// signal is handled asynchronously) plus `server_login_retry` (after a
/// failed server login, pgBouncer tries the next one only that much later):
/// what proved it, or why not.
async fn prove(
    pooler: &DesiredPooler,
    sent: &BTreeMap<String, String>,
    log_before: Option<u64>,
    timeout: Duration,
) -> Result<String> {
    let deadline = Instant::now() + PROOF_PATIENCE + login_retry(pooler);
    loop {
        match attempt_proof(pooler, sent, log_before, timeout).await {
            Ok(proof) => return Ok(proof),
            Err(error) if Instant::now() >= deadline => return Err(error),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// pgBouncer's `server_login_retry` (seconds; 15 unless set).
fn login_retry(pooler: &DesiredPooler) -> Duration {
    let seconds = pooler
        .settings
        .get("server_login_retry")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(15.0);
    Duration::from_secs_f64(seconds.min(600.0))
}

async fn attempt_proof(
    pooler: &DesiredPooler,
    sent: &BTreeMap<String, String>,
    log_before: Option<u64>,
    timeout: Duration,
) -> Result<String> {
    let mut proven = Vec::new();
    // The console answers only after pgBouncer handled the reload (one
    // event loop), so it is asked first, and its log read last.
    if pooler.admin.is_some() {
        let Some(client) = admin::connect(pooler, timeout).await? else {
            return Err(Error::new("pgBouncer stopped listening after the reload"));
        };
        let running = admin::show_config(&client).await?;
        for (key, wanted) in pooler.effective_settings() {
            let Some(now) = running.get(&key) else {
                continue;
            };
            if now.changeable && !RESTART_ONLY.contains(&key.as_str()) && !same(&now.value, &wanted)
            {
                return Err(Error::new(format!(
                    "pgBouncer did not load {}: `{key}` is `{}` in force, `{wanted}` in the file",
                    pooler.config_path.display(),
                    now.value
                )));
            }
        }
        proven.push("the console shows the file's settings".to_string());
    }
    for (role, dsn) in &pooler.logins {
        let new = if sent.contains_key(role) { "new " } else { "" };
        match try_statement(dsn, timeout).await {
            Login::Accepted => {
                proven.push(format!("`{role}` runs a statement with its {new}password"))
            }
            Login::Refused => {
                return Err(Error::new(format!(
                    "pgBouncer did not load {}: it refuses the {new}password of `{role}`",
                    pooler.auth_path.display()
                )))
            }
            Login::ServerRefused(why) | Login::Stalled(why) => {
                return Err(Error::new(format!(
                    "pgBouncer did not load {}: its login to PostgreSQL for `{role}` fails ({why})",
                    pooler.auth_path.display()
                )))
            }
            // The application's address may not be reachable from here.
            Login::Unreachable(_) | Login::Failed(_) => {}
        }
    }
    if let Some(lines) = log_since(pooler, log_before) {
        if let Some(line) = lines
            .iter()
            .find(|l| LOAD_FAILED.iter().any(|w| l.contains(w)))
        {
            return Err(Error::new(format!(
                "pgBouncer did not load its files; its log says: {line}"
            )));
        }
        if !lines.iter().any(|l| RELOADED.iter().any(|w| l.contains(w))) {
            return Err(Error::new(format!(
                "pgBouncer's log `{}` does not show the reload",
                pooler.settings.get("logfile").map_or("", String::as_str)
            )));
        }
        proven.push("its log shows the reload without an error".into());
    }
    Ok(if proven.is_empty() {
        "not proven: the admin console is off, no `logfile` is readable, and no role can log in through pgBouncer from here".into()
    } else {
        format!("proven: {}", proven.join(", "))
    })
}

/// What pgBouncer logs when it takes a reload.
const RELOADED: [&str; 2] = ["got SIGHUP, re-reading config", "RELOAD command issued"];

/// What pgBouncer logs when a reload did not load a file.
const LOAD_FAILED: [&str; 5] = [
    "config file loading failed",
    "could not open auth_file",
    "broken auth file",
    "could not open hba config file",
    "Permission denied",
];

/// The reload failed: why, as far as dbops can see (files pgBouncer's user
/// cannot read, what its log said since the reload).
fn cause(error: Error, pooler: &DesiredPooler, log_before: Option<u64>) -> Error {
    let mut error = error
        .kind(ErrorKind::Local)
        .cause("the files are written; pgBouncer still runs on what it loaded before");
    if let Process::Verified { uid, gids, .. } = process(pooler) {
        for path in paths(pooler) {
            if let Some(why) = unreadable(path, uid, &gids) {
                error = error.cause(why);
            }
        }
    }
    // What failed to load, else the last problem pgBouncer logged.
    let lines = log_since(pooler, log_before).unwrap_or_default();
    let has = |words: &[&str], line: &String| words.iter().any(|w| line.contains(w));
    if let Some(line) = lines.iter().find(|l| has(&LOAD_FAILED, l)).or_else(|| {
        lines
            .iter()
            .rev()
            .find(|l| has(&["ERROR", "FATAL", "WARNING"], l))
    }) {
        error = error.cause(format!("pgBouncer's log: {line}"));
    }
    error.hint("fix the cause (an `owner` for the files, a setting pgBouncer rejects), then run `dbops apply` again")
}

/// Why the user `uid` (in `gids`) cannot read `path`, if it cannot: a
/// directory on the way it may not pass, or the file's own owner and mode.
fn unreadable(path: &Path, uid: u32, gids: &[u32]) -> Option<String> {
    let denied = |what: &Path, owner: u32, group: u32, mode: u32| {
        format!(
            "permission denied: pgBouncer runs as uid {uid}, and `{}` is owned by {owner}:{group} with mode {:04o}",
            what.display(),
            mode & 0o777
        )
    };
    let mut ancestors: Vec<&Path> = path.ancestors().skip(1).collect();
    ancestors.reverse();
    for dir in ancestors.into_iter().filter(|d| !d.as_os_str().is_empty()) {
        let (mode, owner, group) = mode_and_owner(&std::fs::metadata(dir).ok()?);
        if !searchable_by((owner, group), mode, uid, gids) {
            return Some(denied(dir, owner, group, mode));
        }
    }
    let (mode, owner, group) = mode_and_owner(&std::fs::metadata(path).ok()?);
    (!readable_by((owner, group), mode, uid, gids)).then(|| denied(path, owner, group, mode))
}

fn log_length(pooler: &DesiredPooler) -> Option<u64> {
    let logfile = pooler.settings.get("logfile").filter(|f| !f.is_empty())?;
    std::fs::metadata(logfile).ok().map(|m| m.len())
}

/// The lines pgBouncer's log gained since `before`, when it has a readable one.
fn log_since(pooler: &DesiredPooler, before: Option<u64>) -> Option<Vec<String>> {
    let logfile = pooler.settings.get("logfile").filter(|f| !f.is_empty())?;
    let text = std::fs::read(logfile).ok()?;
    let start = usize::try_from(before.unwrap_or(0)).map_or(0, |b| b.min(text.len()));
    Some(
        String::from_utf8_lossy(&text[start..])
            .lines()
            .map(|l| l.trim().to_string())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::unreadable;

    #[test]
    fn what_a_user_cannot_read_is_said() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("userlist.txt");
        std::fs::write(&path, "x").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        use std::os::unix::fs::MetadataExt;
        let owner = std::fs::metadata(&path).unwrap().uid();
        assert!(unreadable(&path, owner, &[]).is_none());
        let why = unreadable(&path, owner + 1, &[]).unwrap();
        assert!(why.contains("mode 0600"), "{why}");
    }
}
