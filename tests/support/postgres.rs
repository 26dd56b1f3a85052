//! Throwaway PostgreSQL servers for tests: the machine's own binaries
//! (`DBOPS_PG_BINDIR`, else `pg_config --bindir`, else `PATH`), a data directory
//! copied from an `initdb` template made once per machine in the temp directory, listening on 127.0.0.1 only,
//! `scram-sha-256` for TCP, `log_statement = 'all'`, stopped on drop. As root,
//! `initdb` and `pg_ctl` run as the `postgres` OS user.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::{free_port, percent, run_checked};

pub(crate) const SUPERUSER_PASSWORD: &str = "admin pw: with @ and / and %";

/// Runs SQL through `psql` on 127.0.0.1:`port` (a server or a pooler);
/// unaligned, tuples only. `Err` holds psql's stderr.
pub(crate) fn psql(
    port: u16,
    user: &str,
    password: &str,
    database: &str,
    sql: &str,
) -> Result<String, String> {
    let out = Command::new(tool("psql"))
        .args([
            "-X",
            "-A",
            "-t",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
        ])
        .arg("-p")
        .arg(port.to_string())
        .args(["-U", user, "-d", database, "-c", sql])
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .expect("psql runs");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).to_string())
    }
}

pub(crate) struct PgServer {
    backend: Backend,
    pub(crate) port: u16,
}

enum Backend {
    /// The machine's binaries; the data directory and log live in `dir`.
    Local {
        _dir: tempfile::TempDir,
        data: PathBuf,
        log: PathBuf,
    },
    /// A container (`--features testcontainers`, `DBOPS_TEST_BACKEND=testcontainers`).
    #[cfg(feature = "testcontainers")]
    Container(Box<testcontainers::Container<testcontainers::GenericImage>>),
}

pub(crate) fn bindir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DBOPS_PG_BINDIR") {
        return PathBuf::from(dir);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && dir.join("initdb").exists() {
            return dir;
        }
    }
    // Fall back to PATH lookup by name.
    PathBuf::new()
}

pub(crate) fn tool(name: &str) -> PathBuf {
    let dir = bindir();
    if dir.as_os_str().is_empty() {
        PathBuf::from(name)
    } else {
        dir.join(name)
    }
}

pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a server binary, as the `postgres` OS user when we are root.
pub(crate) fn server_command(name: &str) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(tool(name));
        command
    } else {
        Command::new(tool(name))
    }
}

/// Hands a path to the `postgres` OS user when we are root.
pub(crate) fn give_to_server_user(path: &Path) {
    if is_root() {
        run_checked(
            Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(path),
        );
    }
}

fn template() -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let root = std::env::temp_dir();
        let version = String::from_utf8_lossy(
            &Command::new(tool("initdb"))
                .arg("--version")
                .output()
                .expect("initdb runs")
                .stdout,
        )
        .trim()
        .replace(|c: char| !c.is_ascii_alphanumeric(), "_");
        let template = root.join(format!("dbops-test-pg-template-{version}"));
        if template.join("PG_VERSION").exists() {
            return template;
        }
        let staging = tempfile::Builder::new()
            .prefix("pg-staging-")
            .tempdir_in(&root)
            .unwrap();
        let staging = staging.keep();
        let data = staging.join("data");
        let pwfile = staging.join("pwfile");
        std::fs::write(&pwfile, SUPERUSER_PASSWORD).unwrap();
        give_to_server_user(&staging);
        run_checked(
            server_command("initdb")
                .arg("-D")
                .arg(&data)
                .args([
                    "-U",
                    "postgres",
                    "--auth-local=peer",
                    "--auth-host=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--no-locale",
                    "--no-sync",
                ])
                .arg(format!("--pwfile={}", pwfile.display())),
        );
        match std::fs::rename(&data, &template) {
            Ok(()) => {}
            Err(_) if template.join("PG_VERSION").exists() => {}
            Err(e) => panic!("cannot install the initdb template: {e}"),
        }
        let _ = std::fs::remove_dir_all(&staging);
        template
    })
}

impl PgServer {
    pub(crate) fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts a server with extra `postgresql.conf` lines (`name = value`).
    pub(crate) fn start_with(settings: &[&str]) -> Self {
        #[cfg(feature = "testcontainers")]
        if std::env::var("DBOPS_TEST_BACKEND").as_deref() == Ok("testcontainers") {
            return Self::start_container(settings);
        }
        Self::start_local(settings)
    }

    fn start_local(settings: &[&str]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("dbops-pg-")
            .tempdir()
            .unwrap();
        let data = dir.path().join("data");
        run_checked(Command::new("cp").arg("-a").arg(template()).arg(&data));
        let log = dir.path().join("server.log");
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port();
            let mut conf = format!(
                "\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
                 log_statement = 'all'\nlog_line_prefix = '%m [%p] app=%a '\nfsync = off\n",
                dir.path().display()
            );
            for line in settings {
                conf.push_str(line);
                conf.push('\n');
            }
            std::fs::write(data.join("postgresql.dbops-test.conf"), conf).unwrap();
            let mut main = std::fs::read_to_string(data.join("postgresql.conf")).unwrap();
            if !main.contains("include_if_exists = 'postgresql.dbops-test.conf'") {
                main.push_str("\ninclude_if_exists = 'postgresql.dbops-test.conf'\n");
                std::fs::write(data.join("postgresql.conf"), main).unwrap();
            }
            give_to_server_user(dir.path());
            let out = server_command("pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "30", "start"])
                .output()
                .expect("pg_ctl runs");
            if out.status.success() {
                return Self {
                    backend: Backend::Local {
                        _dir: dir,
                        data,
                        log,
                    },
                    port,
                };
            }
            last_error = format!(
                "{}{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        panic!("PostgreSQL did not start: {last_error}");
    }

    pub(crate) fn admin_url(&self) -> String {
        self.url("postgres", SUPERUSER_PASSWORD, "postgres")
    }

    /// A DSN with user, password and database percent-encoded.
    pub(crate) fn url(&self, user: &str, password: &str, database: &str) -> String {
        format!(
            "postgres://{}:{}@127.0.0.1:{}/{}",
            percent(user),
            percent(password),
            self.port,
            percent(database)
        )
    }

    /// Runs SQL as the superuser through `psql` (not through dbops) and returns
    /// the unaligned, tuples-only output.
    pub(crate) fn sql(&self, database: &str, sql: &str) -> String {
        self.try_sql_as("postgres", SUPERUSER_PASSWORD, database, sql)
            .unwrap_or_else(|e| panic!("psql failed: {e}\nSQL: {sql}"))
    }

    pub(crate) fn sql_ok(&self, sql: &str) -> String {
        self.sql("postgres", sql)
    }

    /// Runs SQL as any user; `Err` holds psql's stderr.
    pub(crate) fn try_sql_as(
        &self,
        user: &str,
        password: &str,
        database: &str,
        sql: &str,
    ) -> Result<String, String> {
        psql(self.port, user, password, database, sql)
    }

    /// Whether `user` can log in with `password`.
    pub(crate) fn can_login(&self, user: &str, password: &str, database: &str) -> bool {
        self.try_sql_as(user, password, database, "SELECT 1")
            .is_ok()
    }

    /// The server's log so far.
    pub(crate) fn log_text(&self) -> String {
        match &self.backend {
            Backend::Local { log, .. } => std::fs::read_to_string(log).unwrap_or_default(),
            #[cfg(feature = "testcontainers")]
            Backend::Container(container) => {
                String::from_utf8_lossy(&container.stderr_to_vec().unwrap_or_default()).into_owned()
            }
        }
    }

    /// A PostgreSQL image (`DBOPS_TEST_PG_IMAGE`, default `postgres:15`), so
    /// the suite can run against other major versions where Docker exists.
    #[cfg(feature = "testcontainers")]
    fn start_container(settings: &[&str]) -> Self {
        use testcontainers::core::{IntoContainerPort, WaitFor};
        use testcontainers::runners::SyncRunner;
        use testcontainers::{GenericImage, ImageExt};

        let image = std::env::var("DBOPS_TEST_PG_IMAGE").unwrap_or_else(|_| "postgres:15".into());
        let (name, tag) = image.split_once(':').unwrap_or((&image, "latest"));
        let mut command = vec![
            "postgres".to_string(),
            "-c".into(),
            "log_statement=all".into(),
            "-c".into(),
            "log_line_prefix=%m [%p] app=%a ".into(),
        ];
        for line in settings {
            command.push("-c".into());
            command.push(line.replacen(" = ", "=", 1).replace('\'', ""));
        }
        let container = GenericImage::new(name, tag)
            .with_exposed_port(5432.tcp())
            .with_wait_for(WaitFor::message_on_stderr(
                "database system is ready to accept connections",
            ))
            .with_env_var("POSTGRES_PASSWORD", SUPERUSER_PASSWORD)
            .with_cmd(command)
            .start()
            .expect("the PostgreSQL container starts");
        let port = container
            .get_host_port_ipv4(5432.tcp())
            .expect("a mapped port");
        let server = Self {
            backend: Backend::Container(Box::new(container)),
            port,
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while server
            .try_sql_as("postgres", SUPERUSER_PASSWORD, "postgres", "SELECT 1")
            .is_err()
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the container never accepted connections"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        server
    }

    /// The log lines of statements dbops sent since `from` (a length of
    /// [`Self::log_text`]).
    fn dbops_statement_lines(&self, from: usize) -> Vec<String> {
        let log = self.log_text();
        log[from.min(log.len())..]
            .lines()
            .filter(|l| {
                l.contains("app=dbops ")
                    && (l.contains("LOG:  statement:") || l.contains("LOG:  execute"))
            })
            .map(str::to_string)
            .collect()
    }

    /// How many server backends ran dbops's statements since `from`: the
    /// `[pid]` of the log line prefix.
    pub(crate) fn dbops_backends_since(&self, from: usize) -> usize {
        self.dbops_statement_lines(from)
            .iter()
            .filter_map(|l| {
                l.split_once(" [")?
                    .1
                    .split_once(']')
                    .map(|(pid, _)| pid.to_string())
            })
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    }

    /// Statements logged for `application_name = dbops` since `from` bytes of the log.
    pub(crate) fn dbops_statements_since(&self, from: usize) -> usize {
        self.dbops_statement_lines(from).len()
    }
}

impl PgServer {
    fn local_paths(&self) -> (&Path, &Path) {
        match &self.backend {
            Backend::Local { data, log, .. } => (data, log),
            #[cfg(feature = "testcontainers")]
            Backend::Container(_) => panic!("this test needs the local backend"),
        }
    }

    /// The data directory and the Unix socket directory (local backend only).
    pub(crate) fn data_dir(&self) -> PathBuf {
        self.local_paths().0.to_path_buf()
    }

    pub(crate) fn socket_dir(&self) -> PathBuf {
        self.local_paths().0.parent().unwrap().to_path_buf()
    }

    /// Lets this process's OS user log in as `postgres` over the socket
    /// (peer, through an ident map), as a dbops on the database host does.
    pub(crate) fn admit_local_admin(&self) {
        let data = self.data_dir();
        let me = String::from_utf8(
            std::process::Command::new("id")
                .arg("-un")
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        let ident = data.join("pg_ident.conf");
        let mut text = std::fs::read_to_string(&ident).unwrap_or_default();
        text.push_str(&format!(
            "\ndbops_admin {} postgres\ndbops_admin postgres postgres\n",
            me.trim()
        ));
        std::fs::write(&ident, text).unwrap();
        let hba = data.join("pg_hba.conf");
        let text = std::fs::read_to_string(&hba).unwrap();
        std::fs::write(
            &hba,
            format!("local all postgres peer map=dbops_admin\n{text}"),
        )
        .unwrap();
        self.sql_ok("SELECT pg_reload_conf()");
    }

    /// An admin DSN over this server's Unix socket, in libpq's form.
    pub(crate) fn socket_admin_url(&self) -> String {
        format!(
            "postgres://postgres@/postgres?host={}&port={}",
            self.socket_dir().display(),
            self.port
        )
    }

    /// A shell command that restarts this server, for `[server] restart_command`.
    pub(crate) fn restart_command(&self) -> String {
        let (data, log) = self.local_paths();
        let pg_ctl = format!(
            "'{}' -D '{}' -l '{}' -w -t 60 -m fast restart",
            tool("pg_ctl").display(),
            data.display(),
            log.display()
        );
        if is_root() {
            format!("runuser -u postgres -- {pg_ctl}")
        } else {
            pg_ctl
        }
    }

    /// Restarts the server directly (not through dbops).
    pub(crate) fn restart(&self) {
        run_checked(Command::new("sh").arg("-c").arg(self.restart_command()));
    }

    /// A directory the server's OS user may write to, e.g. for `archive_command`.
    pub(crate) fn writable_dir(&self, name: &str) -> PathBuf {
        let (data, _) = self.local_paths();
        let dir = data.parent().unwrap().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        give_to_server_user(&dir);
        dir
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        match &self.backend {
            Backend::Local { data, .. } => {
                let _ = server_command("pg_ctl")
                    .arg("-D")
                    .arg(data)
                    .args(["-m", "immediate", "-w", "-t", "20", "stop"])
                    .output();
            }
            // A container is removed by its own drop.
            #[cfg(feature = "testcontainers")]
            Backend::Container(_) => {}
        }
    }
}
