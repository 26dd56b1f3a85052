//! A real pgBouncer for tests (Debian's package: `DBOPS_PGBOUNCER`, else
//! `/usr/sbin/pgbouncer`, else `PATH`), started on a config dbops rendered, in
//! the foreground as the `postgres` OS user when we are root, stopped on drop.

use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::postgres::is_root;

pub(crate) struct PgBouncer {
    child: Child,
    pub(crate) port: u16,
    log: PathBuf,
}

fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("DBOPS_PGBOUNCER") {
        return PathBuf::from(path);
    }
    let debian = PathBuf::from("/usr/sbin/pgbouncer");
    if debian.exists() {
        debian
    } else {
        PathBuf::from("pgbouncer")
    }
}

/// The `[pooler]` table of the pgBouncer tests, ending inside an open
/// `[pooler.settings]` for more keys: files in `dir`, the admin console on
/// loopback with its password from `$admin_env`, the files owned by the
/// server's OS user when we are root.
pub(crate) fn pooler_table(dir: &Path, port: u16, admin_env: &str) -> String {
    let owner = if is_root() {
        "owner = \"postgres\"\n"
    } else {
        ""
    };
    format!(
        r#"[pooler]
config_file = "{dir}/pgbouncer.ini"
auth_file = "{dir}/userlist.txt"
listen_addr = "127.0.0.1"
listen_port = {port}
admin_console = "localhost"
admin_password = {{ env = "{admin_env}" }}
{owner}
[pooler.settings]
pidfile = "{dir}/pgbouncer.pid"
unix_socket_dir = ""
"#,
        dir = dir.display()
    )
}

impl PgBouncer {
    pub(crate) fn start(ini: &Path, port: u16, log: &Path) -> Self {
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(binary());
            c
        } else {
            Command::new(binary())
        };
        let child = command
            .process_group(0)
            .arg(ini)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start pgbouncer: {e}; run `bash scripts/test.sh`, which installs it")
            });
        let mut bouncer = Self {
            child,
            port,
            log: log.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = bouncer.child.try_wait() {
                panic!("pgbouncer exited at start ({status}):\n{}", bouncer.log());
            }
            assert!(
                Instant::now() < deadline,
                "pgbouncer did not listen:\n{}",
                bouncer.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        bouncer
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Runs SQL through the pooler as `user`; `Err` holds psql's stderr.
    pub(crate) fn sql_as(
        &self,
        user: &str,
        password: &str,
        database: &str,
        sql: &str,
    ) -> Result<String, String> {
        super::postgres::psql(self.port, user, password, database, sql)
    }

    pub(crate) fn can_login(&self, user: &str, password: &str, database: &str) -> bool {
        self.sql_as(user, password, database, "SELECT 1").is_ok()
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        // runuser and pgBouncer share a process group of their own.
        super::stop_group(&mut self.child);
    }
}
