//! Test support: real servers on 127.0.0.1 (`postgres`) and a runner for the
//! `dbops` binary with a bounded run time (`Dbops`).

pub(crate) mod certs;
pub(crate) mod deployment;
pub(crate) mod monitoring;
pub(crate) mod pgbouncer;
pub(crate) mod postgres;
pub(crate) mod s3;
pub(crate) mod schema;
pub(crate) mod snapshot;
pub(crate) mod tls_proxy;

use std::collections::BTreeMap;
use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) use postgres::PgServer;

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Percent-encodes everything but unreserved URL characters.
pub(crate) fn percent(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

pub(crate) fn run_checked(command: &mut Command) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What one run of `dbops` did.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Output {
    /// stdout and stderr together, for checks that care about neither.
    pub(crate) fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    #[track_caller]
    pub(crate) fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// A working directory with a `dbops.toml` and the environment to run dbops in.
pub(crate) struct Dbops {
    dir: tempfile::TempDir,
    env: BTreeMap<String, String>,
    pub(crate) timeout: Duration,
}

impl Dbops {
    pub(crate) fn new(config: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("dbops-run-")
            .tempdir()
            .unwrap();
        std::fs::write(dir.path().join("dbops.toml"), config).unwrap();
        Self {
            dir,
            env: BTreeMap::new(),
            timeout: Duration::from_secs(120),
        }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The environment given to each run, beyond the inherited one.
    pub(crate) fn env_vars(&self) -> &BTreeMap<String, String> {
        &self.env
    }

    pub(crate) fn env(mut self, name: &str, value: &str) -> Self {
        self.env.insert(name.to_string(), value.to_string());
        self
    }

    pub(crate) fn set_env(&mut self, name: &str, value: &str) {
        self.env.insert(name.to_string(), value.to_string());
    }

    pub(crate) fn write_config(&self, config: &str) {
        std::fs::write(self.dir.path().join("dbops.toml"), config).unwrap();
    }

    /// Runs `dbops ARGS` with stdin closed, killing it after `timeout`.
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        let mut child = self.command(args).spawn().expect("dbops starts");
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let read = |mut pipe: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        };
        let stdout = read(Box::new(stdout));
        let stderr = read(Box::new(stderr));
        let deadline = Instant::now() + self.timeout;
        let mut pause = Duration::from_millis(1);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("dbops {args:?} ran past {:?}", self.timeout);
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(20));
        };
        Output {
            code: status.code().unwrap_or(-1),
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
        }
    }

    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_dbops"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("DBOPS_FILE")
            .env_remove("NO_COLOR")
            .env_remove("DATABASE_URL")
            .env_remove("DATABASE_ROOT_URL")
            .env_remove("DATABASE_SERVICE_URL")
            .envs(&self.env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }
}

/// Runs of spaces as one, so assertions do not depend on column alignment.
pub(crate) fn squash(text: &str) -> String {
    text.split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A password holding every character that breaks naive DSN handling.
pub(crate) fn hostile_password(tag: &str) -> String {
    format!("p@ss:w/rd%{tag}'\" with spaces")
}

/// Stops a server started in a process group of its own (`process_group(0)`):
/// SIGTERM to the whole group (workers included), then SIGKILL if it lingers.
pub(crate) fn stop_group(child: &mut std::process::Child) {
    let group = -(child.id() as i32);
    // SAFETY: kill(2) on a process group we created; no memory is touched.
    unsafe { kill(group, 15) };
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if Instant::now() > deadline {
            unsafe { kill(group, 9) };
            let _ = child.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Whatever else is left in the group (workers reparented away).
    unsafe { kill(group, 9) };
}

extern "C" {
    fn kill(pid: i32, signal: i32) -> i32;
}
