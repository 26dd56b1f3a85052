//! The throwaway cluster of a restore test: its work directory, the OS user
//! it runs as, running the tool and `pg_ctl` with deadlines (every command
//! line and its output into the restore log), waiting for promotion, and
//! stopping and deleting everything however the test ends (`Drop`), unless
//! `--keep` asked to leave it running.

use std::ffi::CString;
use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use tokio_postgres::{Client, NoTls};

use super::layout::{Invocation, Layout};
use super::leftovers::{sweep, Owner, OWNER_FILE, PREFIX};
use super::settings::RestoreTest;
use crate::error::{Error, Result};
use crate::events::{Event, EventName, EventSink};
use crate::util::owner::resolve_owner;

/// Everything the test did, for `restore.log`: command lines (never a
/// secret: credentials are in the 0600 configuration file), their output,
/// and the server's log.
#[derive(Debug, Default)]
pub(crate) struct RestoreLog(String);

impl RestoreLog {
    pub(crate) fn line(&mut self, text: &str) {
        let now = humantime::format_rfc3339_millis(SystemTime::now());
        let _ = writeln!(self.0, "{now} {text}");
    }

    pub(crate) fn block(&mut self, title: &str, text: &str) {
        if !text.trim().is_empty() {
            let _ = writeln!(self.0, "--- {title}\n{}", text.trim_end());
        }
    }

    pub(crate) fn text(&self) -> &str {
        &self.0
    }
}

/// Who the tool and the server run as: the OS user from `[restore_test]`
/// when dbops runs as root (PostgreSQL refuses to run as root), else dbops's own.
#[derive(Debug, Clone)]
pub(crate) struct RunAs {
    pub(crate) user: Option<(String, u32, u32)>,
}

impl RunAs {
    pub(crate) fn new(os_user: &str) -> Result<Self> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return Ok(RunAs { user: None });
        }
        let (uid, gid) = resolve_owner(os_user).map_err(|why| {
            Error::new(format!("`restore_test.os_user`: {why}"))
                .hint("dbops runs as root, and PostgreSQL refuses to: name the OS user the restored server runs as")
        })?;
        Ok(RunAs {
            user: Some((os_user.to_string(), uid, gid)),
        })
    }

    /// The program and arguments that run `invocation` as this user.
    fn argv(&self, invocation: &Invocation) -> (String, Vec<String>) {
        match &self.user {
            Some((name, _, _)) => {
                let mut args = vec!["-u".to_string(), name.clone(), "--".to_string()];
                args.push(invocation.program.clone());
                args.extend(invocation.args.iter().cloned());
                ("runuser".to_string(), args)
            }
            None => (invocation.program.clone(), invocation.args.clone()),
        }
    }

    /// Runs `invocation` as this user and waits: whether it succeeded.
    pub(crate) fn run_blocking(&self, invocation: &Invocation) -> bool {
        let (program, args) = self.argv(invocation);
        std::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn command(&self, invocation: &Invocation) -> tokio::process::Command {
        let (program, args) = self.argv(invocation);
        let mut command = tokio::process::Command::new(program);
        command
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            // Its own process group, so a deadline stops the tool behind `runuser` too.
            .process_group(0)
            .kill_on_drop(true);
        command
    }

    /// Makes `path` belong to the user the server runs as.
    pub(crate) fn own(&self, path: &Path) -> Result<()> {
        if let Some((_, uid, gid)) = &self.user {
            std::os::unix::fs::chown(path, Some(*uid), Some(*gid)).map_err(|e| {
                Error::new(format!(
                    "cannot hand `{}` to the server's user: {e}",
                    path.display()
                ))
            })?;
        }
        Ok(())
    }
}

/// Runs one command with a deadline; its command line and output go to the
/// log. Returns stdout on success; a failure names the command and its last
/// line of stderr.
pub(crate) async fn run(
    run_as: &RunAs,
    invocation: &Invocation,
    what: &str,
    deadline: Instant,
    log: &mut RestoreLog,
) -> Result<String> {
    run_both(run_as, invocation, what, deadline, log)
        .await
        .map(|(stdout, _)| stdout)
}

/// [`run`], with what the program wrote to stderr on success too (psql
/// reports a statement's error there and goes on).
pub(crate) async fn run_both(
    run_as: &RunAs,
    invocation: &Invocation,
    what: &str,
    deadline: Instant,
    log: &mut RestoreLog,
) -> Result<(String, String)> {
    log.line(&format!("$ {}", invocation.display()));
    let left = deadline.saturating_duration_since(Instant::now());
    let child = match run_as.command(invocation).spawn() {
        Ok(child) => child,
        Err(e) => {
            let error = if e.kind() == std::io::ErrorKind::NotFound {
                Error::new(format!("{what}: `{}` is not installed", invocation.program)).hint(
                    "restore-test runs the backup tool and PostgreSQL's binaries on this machine",
                )
            } else {
                Error::new(format!("cannot run `{}`: {e}", invocation.program))
            };
            log.line(error.message());
            return Err(error);
        }
    };
    let mut running = Running(child);
    let (stdout, stderr) = (running.0.stdout.take(), running.0.stderr.take());
    // The pipes are drained while waiting: a chatty tool must not block on them.
    let finished = async {
        let (status, stdout, stderr) =
            tokio::join!(running.0.wait(), read_all(stdout), read_all(stderr));
        status.map(|status| (status, stdout, stderr))
    };
    let (status, stdout, stderr) = match tokio::time::timeout(left, finished).await {
        Err(_) => {
            log.line(&format!("{what}: stopped at the deadline"));
            return Err(Error::new(format!(
                "{what} did not finish within the time left ({})",
                humantime::format_duration(Duration::from_secs(left.as_secs()))
            )));
        }
        Ok(Err(e)) => {
            let error = Error::new(format!("cannot run `{}`: {e}", invocation.program));
            log.line(error.message());
            return Err(error);
        }
        Ok(Ok(finished)) => finished,
    };
    let output = std::process::Output {
        status,
        stdout,
        stderr,
    };
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    if !invocation
        .args
        .iter()
        .any(|a| a == "--output=json" || a == "--json")
    {
        log.block("stdout", &stdout);
    }
    log.block("stderr", &stderr);
    if output.status.success() {
        return Ok((stdout, stderr));
    }
    let last = failure_line(&stderr, &stdout);
    log.line(&format!("{what}: failed ({})", output.status));
    Err(Error::new(format!(
        "{what} failed ({}): {last}",
        output.status
    )))
}

/// The line that says why a tool failed: its last `ERROR` (or `FATAL`)
/// line, not the `INFO: ... command end: aborted` it prints after it;
/// else its last line.
fn failure_line(stderr: &str, stdout: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .chain(stdout.lines())
        .filter(|l| !l.trim().is_empty())
        .collect();
    lines
        .iter()
        .rev()
        .find(|l| {
            let upper = l.to_ascii_uppercase();
            upper.contains("ERROR") || upper.contains("FATAL")
        })
        .or(lines.last())
        .map_or_else(|| "no output".to_string(), |l| l.trim().to_string())
}

/// A running command, its process group killed if it is dropped before it
/// was reaped (a deadline, or the test interrupted). Until then the child is
/// ours and unreaped, so its pid, which names its group, cannot have been
/// reused: the signal reaches the tool and what it started, nothing else.
struct Running(tokio::process::Child);

/// All of a pipe, until its end.
async fn read_all(pipe: Option<impl tokio::io::AsyncRead + Unpin>) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut bytes = Vec::new();
    if let Some(mut pipe) = pipe {
        let _ = pipe.read_to_end(&mut bytes).await;
    }
    bytes
}

impl Drop for Running {
    fn drop(&mut self) {
        // `id()` is `None` once the child was reaped.
        if let Some(pid) = self.0.id() {
            // SAFETY: killpg only sends a signal, to the group our unreaped child leads.
            unsafe {
                libc::killpg(pid as libc::pid_t, libc::SIGKILL);
            }
        }
    }
}

/// PostgreSQL's binaries: the configured directory, `pg_config --bindir`, or
/// the directory of `pg_ctl` on `PATH`.
pub(crate) fn find_bindir(configured: Option<&Path>) -> Result<PathBuf> {
    let complete = |dir: &Path| dir.join("pg_ctl").is_file() && dir.join("postgres").is_file();
    if let Some(dir) = configured {
        return if complete(dir) {
            Ok(dir.to_path_buf())
        } else {
            Err(Error::new(format!(
                "`restore_test.pg_bindir` ({}) holds no `pg_ctl` and `postgres`",
                dir.display()
            ))
            .hint("point it at PostgreSQL's bin directory, e.g. `/usr/lib/postgresql/15/bin`"))
        };
    }
    if let Ok(out) = std::process::Command::new("pg_config")
        .arg("--bindir")
        .output()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && complete(&dir) {
            return Ok(dir);
        }
    }
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        if complete(&dir) {
            return Ok(dir);
        }
    }
    Err(Error::new("PostgreSQL's binaries (`pg_ctl`, `postgres`) are not found: no `pg_config` on `PATH`, and no `pg_ctl` there")
        .hint("install the server package of the backup's major version, or set `[restore_test] pg_bindir`"))
}

/// A port on 127.0.0.1 nobody listens on: the configured one, checked, or a free one.
pub(crate) fn port(configured: Option<u16>) -> Result<u16> {
    match configured {
        Some(port) => match std::net::TcpListener::bind(("127.0.0.1", port)) {
            Ok(_) => Ok(port),
            Err(e) => Err(Error::new(format!(
                "`restore_test.port` {port} on 127.0.0.1 is not free: {e}"
            ))
            .hint("pick another port, or leave `port` out to use a free one")),
        },
        None => std::net::TcpListener::bind(("127.0.0.1", 0))
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| Error::new(format!("cannot find a free port on 127.0.0.1: {e}"))),
    }
}

/// Bytes available to an unprivileged user on the file system of `dir`.
pub(crate) fn free_space(dir: &Path) -> Result<u64> {
    let c = CString::new(dir.as_os_str().as_encoded_bytes())
        .map_err(|_| Error::new("the work directory's path holds a NUL byte"))?;
    // SAFETY: statvfs writes into the zeroed struct we own; the path is NUL-terminated.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut stat) } != 0 {
        return Err(Error::new(format!(
            "cannot read the free space of `{}`: {}",
            dir.display(),
            std::io::Error::last_os_error()
        )));
    }
    Ok(stat.f_bavail as u64 * stat.f_frsize as u64)
}

/// The PostgreSQL data directory `dir` is in (or is), if any: an ancestor
/// holding `PG_VERSION` and `global/pg_control`.
pub(crate) fn inside_data_directory(dir: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(dir).ok()?;
    absolute
        .ancestors()
        .find(|a| a.join("PG_VERSION").is_file() && a.join("global").join("pg_control").is_file())
        .map(Path::to_path_buf)
}

/// The work directory and the server in it; stopped and deleted on drop
/// unless kept.
pub(crate) struct Cluster {
    pub(crate) layout: Layout,
    pub(crate) bindir: PathBuf,
    pub(crate) run_as: RunAs,
    pub(crate) port: u16,
    pub(crate) keep: bool,
    started: bool,
    /// The directory restore-test made (and deletes), when `work_dir` was not ours.
    created: PathBuf,
}

impl Cluster {
    /// A drill's cluster as `[restore_test]` says (binaries from
    /// `pg_bindir`, else `fallback_bindir`, else found): the drills a killed
    /// dbops left under the work directory's parent removed first (their
    /// server may hold the port), then a fresh work directory.
    pub(crate) fn for_drill(
        settings: &RestoreTest,
        fallback_bindir: Option<&Path>,
        keep: bool,
        log: &mut RestoreLog,
        events: &dyn EventSink,
    ) -> Result<Self> {
        let run_as = RunAs::new(&settings.os_user)?;
        let bindir = find_bindir(settings.pg_bindir.as_deref().or(fallback_bindir))?;
        let parent = settings.work_dir.clone().unwrap_or_else(std::env::temp_dir);
        for removed in sweep(&parent, &bindir, &run_as) {
            log.line(&removed);
            events.emit(Event::message(
                EventName::RestoreTestLeftoverRemoved,
                removed,
            ));
        }
        let port = port(settings.port)?;
        let cluster = Cluster::create(&parent, bindir, run_as, port, keep)?;
        log.line(&format!(
            "work directory {}, port {port}",
            cluster.layout.work.display()
        ));
        Ok(cluster)
    }

    /// Makes a fresh work directory under `parent` (mode 0700, the server's user).
    pub(crate) fn create(
        parent: &Path,
        bindir: PathBuf,
        run_as: RunAs,
        port: u16,
        keep: bool,
    ) -> Result<Self> {
        let stamp = humantime::format_rfc3339_seconds(SystemTime::now())
            .to_string()
            .replace([':', '-'], "");
        let name = format!("{PREFIX}{stamp}-{:08x}", rand::random::<u32>());
        let work = parent.join(name);
        // The server's socket, `<work>/socket/.s.PGSQL.<port>`, must fit a
        // Unix socket address (108 bytes on Linux, with its NUL).
        let socket = work.join("socket").join(format!(".s.PGSQL.{port}"));
        if socket.as_os_str().len() > 107 {
            return Err(Error::new(format!(
                "the work directory `{}` is too deep for the restored server's Unix socket ({} bytes; the limit is 107)",
                parent.display(),
                socket.as_os_str().len()
            ))
            .hint("set `[restore_test] work_dir` to a shorter path, e.g. `/var/tmp`"));
        }
        std::fs::create_dir_all(&work).map_err(|e| {
            Error::new(format!(
                "cannot create the work directory `{}`: {e}",
                work.display()
            ))
            .hint("set `[restore_test] work_dir` to a writable directory")
        })?;
        let cluster = Cluster {
            layout: Layout { work: work.clone() },
            bindir,
            run_as,
            port,
            keep,
            started: false,
            created: work.clone(),
        };
        // Written by dbops's own user before anything else: the next run
        // knows whose directory this is if this process is killed.
        std::fs::write(work.join(OWNER_FILE), Owner::me().to_text()).map_err(|e| {
            Error::new(format!(
                "cannot write `{}`: {e}",
                work.join(OWNER_FILE).display()
            ))
        })?;
        for dir in [work.clone(), cluster.layout.socket(), cluster.layout.lock()] {
            std::fs::create_dir_all(&dir)
                .and_then(|_| {
                    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
                })
                .map_err(|e| Error::new(format!("cannot create `{}`: {e}", dir.display())))?;
            cluster.run_as.own(&dir)?;
        }
        Ok(cluster)
    }

    /// Writes a file of the work directory, mode 0600, owned by the server's user.
    pub(crate) fn write(&self, path: &Path, content: &str) -> Result<()> {
        self.put(path, content, false)
    }

    /// Appends to a file of the restored data directory.
    pub(crate) fn append(&self, path: &Path, content: &str) -> Result<()> {
        self.put(path, content, true)
    }

    fn put(&self, path: &Path, content: &str, append: bool) -> Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let failed =
            |e: std::io::Error| Error::new(format!("cannot write `{}`: {e}", path.display()));
        std::fs::OpenOptions::new()
            .write(true)
            .append(append)
            .truncate(!append)
            .create(true)
            .mode(0o600)
            .open(path)
            .and_then(|mut file| file.write_all(content.as_bytes()))
            .map_err(failed)?;
        self.run_as.own(path)
    }

    fn pg_ctl(&self, args: &[&str]) -> Invocation {
        Invocation {
            program: self.bindir.join("pg_ctl").display().to_string(),
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }

    /// `pg_controldata DATA`: the parameters the backup was taken with.
    pub(crate) fn controldata_invocation(&self) -> Invocation {
        Invocation {
            program: self.bindir.join("pg_controldata").display().to_string(),
            args: vec![self.layout.data().display().to_string()],
        }
    }

    /// `postgres -D DATA -C NAME`: a setting as the data directory's files
    /// give it, without starting the server.
    pub(crate) fn setting_invocation(&self, name: &str) -> Invocation {
        Invocation {
            program: self.bindir.join("postgres").display().to_string(),
            args: vec![
                "-D".into(),
                self.layout.data().display().to_string(),
                "-C".into(),
                name.into(),
            ],
        }
    }

    /// `postgres --version`.
    pub(crate) fn version_invocation(&self) -> Invocation {
        Invocation {
            program: self.bindir.join("postgres").display().to_string(),
            args: vec!["--version".into()],
        }
    }

    /// Starts the server without waiting: recovery runs until promotion.
    pub(crate) async fn start(&mut self, deadline: Instant, log: &mut RestoreLog) -> Result<()> {
        let data = self.layout.data().display().to_string();
        let server_log = self.layout.server_log().display().to_string();
        self.write(&self.layout.server_log(), "")?;
        let start = self.pg_ctl(&["-D", &data, "-l", &server_log, "-W", "start"]);
        self.started = true;
        run(
            &self.run_as,
            &start,
            "starting the restored server",
            deadline,
            log,
        )
        .await?;
        Ok(())
    }

    /// The server log so far.
    pub(crate) fn server_log(&self) -> String {
        std::fs::read_to_string(self.layout.server_log()).unwrap_or_default()
    }

    /// Connects over the work directory's socket.
    pub(crate) async fn connect(&self, user: &str, database: &str) -> Result<Client> {
        let mut config = tokio_postgres::Config::new();
        config
            .host_path(self.layout.socket())
            .port(self.port)
            .user(user)
            .dbname(database)
            .application_name("dbops restore-test")
            .connect_timeout(Duration::from_secs(5));
        let (client, connection) = config.connect(NoTls).await.map_err(|e| {
            Error::new(format!(
                "cannot connect to the restored server (database `{database}`): {}",
                crate::pg::connect::describe(&e)
            ))
        })?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(client)
    }

    /// Waits until the server accepts connections and has left recovery.
    pub(crate) async fn wait_promoted(&self, user: &str, deadline: Instant) -> Result<Client> {
        let pid_file = self.layout.data().join("postmaster.pid");
        let mut seen_running = false;
        let started = Instant::now();
        loop {
            if Instant::now() >= deadline {
                return Err(Error::new(
                    "the restored server was not promoted before the RTO ran out",
                ));
            }
            if let Some(stopped) = recovery_stopped(&self.server_log()) {
                return Err(stopped);
            }
            if let Ok(client) = self.connect(user, "postgres").await {
                seen_running = true;
                if let Ok(row) = client.query_one("SELECT pg_is_in_recovery()", &[]).await {
                    if !row.get::<_, bool>(0) {
                        return Ok(client);
                    }
                }
            } else if !pid_file.exists()
                && (seen_running
                    || self.server_log().contains("FATAL")
                    || started.elapsed() > Duration::from_secs(30))
            {
                let fatal = self
                    .server_log()
                    .lines()
                    .rfind(|l| l.contains("FATAL") || l.contains("PANIC"))
                    .unwrap_or("it exited without a FATAL line (the server log is in restore.log)")
                    .to_string();
                return Err(Error::new(format!(
                    "the restored server stopped during recovery: {}",
                    fatal.trim()
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the server cleanly (`-m fast`), so tools that read a shut
    /// down data directory (`pg_checksums`) can; `start` runs it again.
    pub(crate) async fn stop_clean(
        &mut self,
        deadline: Instant,
        log: &mut RestoreLog,
    ) -> Result<()> {
        let data = self.layout.data().display().to_string();
        let stop = self.pg_ctl(&["-D", &data, "-m", "fast", "-w", "stop"]);
        run(
            &self.run_as,
            &stop,
            "stopping the restored server",
            deadline,
            log,
        )
        .await?;
        self.started = false;
        Ok(())
    }

    fn stop_now(&mut self) {
        if !self.started {
            return;
        }
        self.started = false;
        let data = self.layout.data().display().to_string();
        let stop = self.pg_ctl(&["-D", &data, "-m", "immediate", "-w", "-t", "30", "stop"]);
        let (program, args) = self.run_as.argv(&stop);
        let _ = std::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }

    /// Where a kept cluster is, for the operator.
    pub(crate) fn kept_note(&self) -> String {
        format!(
            "the restored server was left running: `psql -h {} -p {} -d postgres`; stop it with `pg_ctl -D {} stop` and delete `{}`",
            self.layout.socket().display(),
            self.port,
            self.layout.data().display(),
            self.created.display()
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.keep {
            // Left running on purpose: no later run may sweep it.
            let _ = std::fs::write(self.created.join(OWNER_FILE), Owner::Kept.to_text());
            return;
        }
        self.stop_now();
        let _ = std::fs::remove_dir_all(&self.created);
    }
}

/// Recovery that paused or gave up on a parameter the restored server has
/// lower than the primary had: an error naming the parameter, at once, not
/// when the RTO runs out.
pub(crate) fn recovery_stopped(server_log: &str) -> Option<Error> {
    let lines: Vec<&str> = server_log.lines().collect();
    let at = lines.iter().position(|l| {
        l.contains("insufficient parameter settings")
            || l.contains("recovery has paused")
            || l.contains("maximum number of prepared transactions reached")
    })?;
    let window = &lines[at.saturating_sub(3)..(at + 4).min(lines.len())];
    let detail = window
        .iter()
        .find(|l| l.contains("is a lower setting than on the primary server"))
        .or_else(|| {
            window
                .iter()
                .find(|l| l.contains("Increase max_prepared_transactions"))
        })
        .map(|l| {
            l.split_once(": ")
                .map_or(*l, |(_, rest)| rest)
                .trim()
                .to_string()
        });
    let parameter = detail
        .as_deref()
        .and_then(|d| d.split([' ', '(']).find(|w| w.starts_with("max_")))
        .map(|w| w.trim_end_matches(['.', ',', ')']).to_string())
        .unwrap_or_else(|| "a parameter".into());
    Some(
        Error::new(format!(
            "recovery stopped on `{parameter}`: {}",
            detail.unwrap_or_else(|| lines[at].trim().to_string())
        ))
        .hint(format!(
            "the primary raised `{parameter}` after this backup; restore-test starts the server with the backup's own values and `hot_standby = off`, so only a parameter WAL replay needs (prepared transactions) stops it: take a new full backup, which carries the new value"
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::{failure_line, recovery_stopped};

    #[test]
    fn a_failure_quotes_the_tools_error_line() {
        let stderr = "2026-12-02 10:00:00.000 P00  ERROR: [075]: no backup set found to restore\n2026-12-02 10:00:00.001 P00   INFO: restore command end: aborted with exception [075]\n";
        assert_eq!(
            failure_line(stderr, ""),
            "2026-12-02 10:00:00.000 P00  ERROR: [075]: no backup set found to restore"
        );
        assert_eq!(failure_line("just this\n\n", ""), "just this");
        assert_eq!(failure_line("", ""), "no output");
    }

    #[test]
    fn a_paused_or_stopped_recovery_names_its_parameter() {
        let paused = "2026-12-02 10:00:00 UTC [1] WARNING:  hot standby is not possible because of insufficient parameter settings\n2026-12-02 10:00:00 UTC [1] DETAIL:  max_connections = 100 is a lower setting than on the primary server, where its value was 200.\n2026-12-02 10:00:00 UTC [1] LOG:  recovery has paused\n";
        let error = recovery_stopped(paused).unwrap();
        assert_eq!(
            error.message(),
            "recovery stopped on `max_connections`: max_connections = 100 is a lower setting than on the primary server, where its value was 200."
        );
        let prepared = "FATAL:  maximum number of prepared transactions reached\nHINT:  Increase max_prepared_transactions (currently 0).\n";
        assert!(recovery_stopped(prepared)
            .unwrap()
            .message()
            .starts_with("recovery stopped on `max_prepared_transactions`"));
        assert!(recovery_stopped("LOG:  redo done\nLOG:  database system is ready\n").is_none());
    }
}
