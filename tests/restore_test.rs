//! `dbops restore-test` end to end with pgBackRest: real archiving through a
//! TLS proxy into moto, a real full backup, writes after it, a restore to a
//! time between two writes, checks that see exactly the rows committed
//! before it, evidence in the bucket that drift reads; failing checks and a
//! blown RTO exit 1 with evidence; bad input changes nothing and leaves
//! nothing running.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::postgres::is_root;
use crate::support::s3::{assert_no_keys, dbops, S3Server, BUCKET};
use crate::support::tls_proxy::TlsProxy;
use crate::support::{Dbops, PgServer};

pub(crate) struct Stack {
    pub(crate) pg: PgServer,
    pub(crate) s3: S3Server,
    _proxy: TlsProxy,
    pub(crate) conf: PathBuf,
    /// A stanza of its own: pgBackRest's locks are per stanza, machine-wide.
    pub(crate) stanza: String,
    base: String,
    pub(crate) work: PathBuf,
}

impl Stack {
    pub(crate) fn dbops(&self, restore_test: &str) -> Dbops {
        dbops(&self.pg, &self.s3, &format!("{}{restore_test}", self.base))
            .env("EVIDENCE_KEY", EVIDENCE_KEY)
    }

    /// The real tool with the rendered pgbackrest.conf alone.
    pub(crate) fn pgbackrest(&self, command: &str) -> String {
        crate::support::run_checked(&mut self.pgbackrest_command(command))
    }

    pub(crate) fn pgbackrest_command(&self, command: &str) -> std::process::Command {
        let mut cmd = if is_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--", "pgbackrest"]);
            c
        } else {
            std::process::Command::new("pgbackrest")
        };
        cmd.arg(format!("--config={}", self.conf.display()))
            .arg(format!("--stanza={}", self.stanza))
            .arg("--log-level-console=warn")
            .arg(command);
        cmd
    }

    pub(crate) fn evidence_keys(&self) -> Vec<String> {
        self.s3.client().keys("db-backups", "prod/restore-tests/")
    }

    /// Nothing of a restore test is left: no work directory, no server.
    pub(crate) fn assert_clean(&self) {
        let left: Vec<_> = std::fs::read_dir(&self.work)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert!(left.is_empty(), "left behind: {left:?}");
        // Any process whose command line names this stack's work directory
        // (other tests run restore tests of their own at the same time).
        let work = self.work.display().to_string();
        let running: Vec<String> = std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok())
            .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
            .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
            .filter(|c| c.contains(&work) && c.contains("dbops-restore-test-"))
            .collect();
        assert!(
            running.is_empty(),
            "a restored server still runs: {running:?}"
        );
    }
}

pub(crate) fn stack() -> Stack {
    stack_with(
        Some("pgbackrest --config={conf} --stanza={stanza} --log-level-file=off archive-push %p"),
        &[],
        "",
    )
}

/// A stack whose `archive_command` is `archive_command` (`{conf}` and
/// `{stanza}` filled in), or the one dbops derives; `env` is given to dbops,
/// and so to the server its restart command starts; `backup` holds more
/// lines of `[backup]`.
pub(crate) fn stack_with(
    archive_command: Option<&str>,
    env: &[(&str, &str)],
    backup: &str,
) -> Stack {
    let pg = PgServer::start();
    let s3 = S3Server::moto();
    let proxy = TlsProxy::start(s3.port);
    let dir = pg.writable_dir("pgbackrest");
    let conf = dir.join("pgbackrest.conf");
    let work = pg.writable_dir("restore-work");
    let stanza = format!("s{}", pg.port);
    let owner = if is_root() {
        "file_owner = \"postgres\"\n"
    } else {
        ""
    };
    let base = format!(
        r#"[postgres]
admin = {{ env = "DATABASE_ROOT_URL" }}

[server]
restart_command = {restart}

{BUCKET}
[[bucket.db-backups.lifecycle]]
id = "expire-old"
prefix = "prod/"
expire_after_days = 60

[backup]
tool = "pgbackrest"
rpo = "5m"
bucket = "db-backups"
prefix = "prod"
stanza = "{stanza}"
tool_endpoint = "https://localhost:{tls_port}"
ca_file = "{cert}"
config_file = "{conf}"
pg_data = "{data}"
connection = {{ env = "BACKUP_SIDECAR_URL" }}
{archive_command}
{backup}
{owner}
[backup.retention]
daily = 7
weekly = 4
wal_days = 30
"#,
        restart = serde_json::Value::String(pg.restart_command()),
        archive_command = archive_command
            .map(|command| {
                let command = command
                    .replace("{conf}", &conf.display().to_string())
                    .replace("{stanza}", &stanza);
                format!("archive_command = {}", serde_json::Value::String(command))
            })
            .unwrap_or_default(),
        stanza = stanza,
        tls_port = proxy.port,
        cert = proxy.cert.display(),
        conf = conf.display(),
        data = pg.data_dir().display(),
    );
    let stack = Stack {
        pg,
        s3,
        _proxy: proxy,
        conf,
        stanza,
        base,
        work,
    };
    let sidecar = format!(
        "postgres://postgres@localhost:{}/postgres?host={}",
        stack.pg.port,
        stack.pg.socket_dir().display()
    );
    let mut dbops = stack.dbops("").env("BACKUP_SIDECAR_URL", &sidecar);
    for (name, value) in env {
        dbops = dbops.env(name, value);
    }
    dbops
        .run(&["apply", "--auto-approve", "--allow-restart"])
        .expect_code(0);
    stack
}

/// The sidecar's DSN: the superuser over the server's socket.
pub(crate) fn sidecar(stack: &Stack) -> String {
    format!(
        "postgres://postgres@localhost:{}/postgres?host={}",
        stack.pg.port,
        stack.pg.socket_dir().display()
    )
}

/// A stanza, a full backup of database `shop`, one order before the returned
/// target time (UTC, microseconds) and one after, both archived.
pub(crate) fn backup_with_a_target(stack: &Stack) -> String {
    stack.pgbackrest("stanza-create");
    stack.pgbackrest("check");
    stack.pg.sql_ok("CREATE DATABASE shop");
    stack.pg.sql(
        "shop",
        "CREATE TABLE migrations (id int); INSERT INTO migrations VALUES (1), (2); CREATE TABLE orders (id int)",
    );
    stack.pgbackrest("backup");
    stack.pg.sql("shop", "INSERT INTO orders VALUES (1)");
    std::thread::sleep(Duration::from_millis(1500));
    let target = stack
        .pg
        .sql_ok("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
    std::thread::sleep(Duration::from_millis(1500));
    stack.pg.sql("shop", "INSERT INTO orders VALUES (2)");
    let segment = stack.pg.sql_ok("SELECT pg_walfile_name(pg_switch_wal())");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while stack
        .pg
        .sql_ok("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
        < segment
    {
        assert!(
            std::time::Instant::now() < deadline,
            "{segment} was not archived"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    target
}

pub(crate) fn restore_test(work: &Path, checks: &str, extra: &str) -> String {
    format!(
        "\n[restore_test]\nwork_dir = \"{}\"\n{extra}\n{checks}",
        work.display()
    )
}

pub(crate) const CHECKS: &str = r#"
[[restore_test.checks]]
name = "orders before the target"
database = "shop"
sql = "SELECT count(*) FROM orders"
equals = "1"

[[restore_test.checks]]
name = "migrations"
database = "shop"
sql = "SELECT id FROM migrations ORDER BY id DESC LIMIT 1"
min_rows = 1
"#;

/// The key restore-test signs evidence with and drift proves it by.
const EVIDENCE_KEY: &str = "a key only restore-test and drift hold: 0123456789";

/// `[restore_test]`'s line that names it.
const SIGNED: &str = "evidence_key = { env = \"EVIDENCE_KEY\" }";

fn evidence(stack: &Stack, key: &str) -> serde_json::Value {
    serde_json::from_slice(&stack.s3.client().get("db-backups", key)).unwrap()
}

#[test]
fn restore_test_restores_to_a_time_checks_it_and_leaves_evidence_drift_reads() {
    let stack = stack();
    let sidecar = sidecar(&stack);
    // The rendered file alone is enough for the real tool: no extra options.
    let target = backup_with_a_target(&stack);

    let dbops = stack
        .dbops(&restore_test(&stack.work, CHECKS, SIGNED))
        .env("BACKUP_SIDECAR_URL", &sidecar);
    // A drill is due but the deployment is in its grace period: drift is clean.
    let drift = dbops.run(&["drift"]);
    assert_eq!(drift.code, 0, "{}\n{}", drift.stdout, drift.stderr);

    let metrics = tempfile::tempdir().unwrap();
    let metrics_file = metrics.path().join("dbops-restore-test.prom");
    let out = dbops.run(&[
        "restore-test",
        "--target-time",
        &target,
        "--log-format",
        "json",
        "--metrics-file",
        metrics_file.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_no_keys(&out.all());
    // The drill's metrics: promtool accepts them; they say what it measured.
    let text = std::fs::read_to_string(&metrics_file).unwrap();
    let (code, said) = crate::support::monitoring::promtool(&["check", "metrics"], &text);
    assert_eq!(code, 0, "{said}");
    let value = |series: &str| crate::support::monitoring::value(&text, series);
    assert_eq!(
        value("dbops_restore_test_success{command=\"restore-test\"}"),
        Some(1.0),
        "{text}"
    );
    assert!(
        value("dbops_restore_test_duration_seconds{command=\"restore-test\"}")
            .is_some_and(|s| s > 0.0),
        "{text}"
    );
    assert!(
        value("dbops_restore_test_data_loss_window_seconds{command=\"restore-test\"}").is_some(),
        "{text}"
    );
    assert!(
        value("dbops_restore_test_rto_seconds{command=\"restore-test\"}").is_some_and(|s| s > 0.0),
        "{text}"
    );
    assert!(
        value("dbops_restore_test_last_success_timestamp_seconds{command=\"restore-test\"}")
            .is_some(),
        "{text}"
    );
    assert!(
        out.stdout.contains("Restore test passed."),
        "{}",
        out.stdout
    );
    stack.assert_clean();
    let events: Vec<serde_json::Value> = out
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "restore_test.started",
            "restore_test.completed",
            "metrics.written"
        ]
    );

    let keys = stack.evidence_keys();
    assert_eq!(keys.len(), 2, "{keys:?}");
    let today = &humantime::format_rfc3339(std::time::SystemTime::now()).to_string()[..10];
    assert!(
        keys[0].starts_with(&format!("prod/restore-tests/{today}/")),
        "{keys:?}"
    );
    assert!(keys[0].ends_with("/evidence.json") && keys[1].ends_with("/restore.log"));
    let document = evidence(&stack, &keys[0]);
    assert_eq!(document["passed"], true, "{document:#}");
    let violations = crate::support::schema::violations("evidence.schema.json", &document);
    assert!(violations.is_empty(), "{violations:?}");
    assert_eq!(document["format"], 2);
    assert_eq!(document["source"], "physical");
    assert!(
        document["signature"]
            .as_str()
            .unwrap()
            .starts_with("hmac-sha256:"),
        "{document:#}"
    );
    assert!(!out.all().contains(EVIDENCE_KEY));
    assert_eq!(document["tool"], "pgbackrest");
    assert!(document["tool_version"]
        .as_str()
        .unwrap()
        .starts_with("pgBackRest"));
    assert_eq!(document["rto_met"], true);
    assert_eq!(document["rpo_met"], true);
    assert_eq!(document["data_loss_window_seconds"], 0.0);
    assert!(document["backup"]["name"].as_str().unwrap().ends_with('F'));
    assert!(
        document["recovered_to"].as_str().unwrap() <= target.as_str(),
        "{document:#}"
    );
    let checks = document["checks"].as_array().unwrap();
    assert_eq!(checks[0]["value"], "1", "{document:#}");
    assert_eq!(checks[1]["rows"], 1);
    // A `min_rows` check records what it saw too: the newest migration.
    assert_eq!(checks[1]["value"], "2", "{document:#}");
    let log = String::from_utf8(stack.s3.client().get("db-backups", &keys[1])).unwrap();
    assert!(log.contains("--type=time"), "{log}");
    assert!(log.contains("--archive-mode=off"), "{log}");
    assert!(
        log.contains("database system is ready to accept connections"),
        "{log}"
    );
    assert_no_keys(&log);

    // Everything archived: both orders come back.
    let latest = stack
        .dbops(&restore_test(
            &stack.work,
            &CHECKS.replace("equals = \"1\"", "equals = \"2\""),
            SIGNED,
        ))
        .env("BACKUP_SIDECAR_URL", &sidecar);
    let out = latest.run(&["restore-test", "--format", "json"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["evidence"]["target"], "latest");
    assert_eq!(report["evidence"]["data_loss_window_seconds"], 0.0);
    // A second run the same day keeps the first run's evidence.
    assert_eq!(stack.evidence_keys().len(), 4);
    stack.assert_clean();

    // The backup alone, kept running for a look: no order yet, no RPO claim.
    let keep = stack
        .dbops(&restore_test(&stack.work, "", SIGNED))
        .env("BACKUP_SIDECAR_URL", &sidecar);
    let out = keep.run(&[
        "restore-test",
        "--target",
        "immediate",
        "--keep",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["evidence"]["target"], "immediate");
    assert_eq!(report["evidence"]["rpo_met"], serde_json::Value::Null);
    let note = out
        .stderr
        .lines()
        .find(|l| l.contains("the restored server was left running"))
        .unwrap_or_else(|| panic!("{}", out.stderr));
    let between = |from: &str, to: &str| -> String {
        let start = note.find(from).unwrap() + from.len();
        note[start..].split(to).next().unwrap().to_string()
    };
    let socket = between("psql -h ", " -p ");
    let port = between(" -p ", " -d ");
    let data = between("pg_ctl -D ", " stop");
    let count = crate::support::run_checked(
        std::process::Command::new("psql")
            .args([
                "-X", "-At", "-h", &socket, "-p", &port, "-U", "postgres", "-d", "shop",
            ])
            .args(["-c", "SELECT count(*) FROM orders"]),
    );
    assert_eq!(count.trim(), "0");
    crate::support::run_checked(
        crate::support::postgres::server_command("pg_ctl")
            .args(["-D", &data, "-m", "fast", "-w", "stop"]),
    );
    let kept = std::path::Path::new(&data).parent().unwrap().to_path_buf();
    std::fs::remove_dir_all(&kept).unwrap();
    stack.assert_clean();

    // Drift reads the evidence: parsed, signed, consistent, passed, fresh.
    let drift = latest.run(&["drift", "--format", "json"]);
    assert_eq!(drift.code, 0, "{}\n{}", drift.stdout, drift.stderr);

    // Someone with the bucket's keys copies the newest evidence and edits
    // it, and drops a 2 MB object as newer still: neither counts, each is
    // named, and they hide nothing: the signed evidence still counts.
    let keys = stack.evidence_keys();
    let newest = keys
        .iter()
        .rev()
        .find(|k| k.ends_with("/evidence.json"))
        .unwrap();
    let mut forged = evidence(&stack, newest);
    forged["durations"]["total_seconds"] = 0.5.into();
    let folder = newest.rsplitn(3, '/').nth(2).unwrap().to_string();
    let client = stack.s3.client();
    client.put_body(
        "db-backups",
        &format!("{folder}/235958Z/evidence.json"),
        forged.to_string().as_bytes(),
    );
    client.put_body(
        "db-backups",
        &format!("{folder}/235959Z/evidence.json"),
        &vec![b' '; 2 * 1024 * 1024],
    );
    let drift = latest.run(&["drift"]);
    drift.expect_code(2);
    for wanted in [
        "235958Z/evidence.json` does not count: its signature does not match `[restore_test] evidence_key`",
        "235959Z/evidence.json` does not count: it is 2097152 bytes, more than the 1048576 evidence may be; not read",
    ] {
        assert!(drift.stdout.contains(wanted), "{wanted}\n{}", drift.stdout);
    }
    assert!(
        !drift.stdout.contains("no passing restore-test evidence"),
        "{}",
        drift.stdout
    );
    assert!(
        !drift.stdout.contains("newest passing restore test is"),
        "{}",
        drift.stdout
    );
    for key in ["235958Z", "235959Z"] {
        client
            .block(
                client
                    .s3
                    .delete_object()
                    .bucket("db-backups")
                    .key(format!("{folder}/{key}/evidence.json"))
                    .send(),
            )
            .unwrap();
    }

    // A check that fails: exit 1, evidence with passed: false and the reason.
    let wrong = stack
        .dbops(&restore_test(
            &stack.work,
            &CHECKS.replace("equals = \"1\"", "equals = \"5\""),
            "",
        ))
        .env("BACKUP_SIDECAR_URL", &sidecar);
    let out = wrong.run(&["restore-test", "--target-time", &target]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("restore test failed: 1 check(s) failed"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout
            .contains("FAIL orders before the target (shop): value `1`"),
        "{}",
        out.stdout
    );
    let keys = stack.evidence_keys();
    assert_eq!(keys.len(), 8);
    let failed = evidence(&stack, &keys[6]);
    assert_eq!(failed["passed"], false);
    assert_eq!(failed["failure"], "1 check(s) failed");
    stack.assert_clean();

    // An RTO no restore can meet: exit 1, rto_met false, evidence written.
    let config = format!(
        "{}{}",
        stack
            .base
            .replace("[backup.retention]", "rto = \"1s\"\n[backup.retention]"),
        restore_test(&stack.work, CHECKS, "")
    );
    let slow = crate::support::s3::dbops(&stack.pg, &stack.s3, &config)
        .env("BACKUP_SIDECAR_URL", &sidecar);
    let metrics = tempfile::tempdir().unwrap();
    let metrics_file = metrics.path().join("dbops-restore-test.prom");
    let out = slow.run(&[
        "restore-test",
        "--metrics-file",
        metrics_file.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let text = std::fs::read_to_string(&metrics_file).unwrap();
    let value = |series: &str| crate::support::monitoring::value(&text, series);
    assert_eq!(
        value("dbops_restore_test_success{command=\"restore-test\"}"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        value("dbops_run_exit_code{command=\"restore-test\"}"),
        Some(1.0)
    );
    assert_eq!(
        value("dbops_restore_test_rto_seconds{command=\"restore-test\"}"),
        Some(1.0)
    );
    assert_eq!(
        value("dbops_restore_test_last_success_timestamp_seconds{command=\"restore-test\"}"),
        None
    );
    let keys = stack.evidence_keys();
    let blown = evidence(&stack, &keys[keys.len() - 2]);
    assert_eq!(blown["rto_met"], false, "{blown:#}");
    assert_eq!(blown["passed"], false);
    stack.assert_clean();
}

#[test]
fn restore_test_refuses_bad_input_writes_only_failed_evidence_and_leaves_nothing_running() {
    let stack = stack();
    let sidecar = sidecar(&stack);
    let dbops = |extra: &str| {
        stack
            .dbops(&restore_test(&stack.work, CHECKS, extra))
            .env("BACKUP_SIDECAR_URL", &sidecar)
    };
    let refused = |dbops: &Dbops, args: &[&str], message: &str| {
        let mut all = vec!["restore-test"];
        all.extend_from_slice(args);
        let out = dbops.run(&all);
        assert_eq!(out.code, 1, "{args:?}\n{}\n{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains(message),
            "{message}\nnot in\n{}",
            out.stderr
        );
        assert_no_keys(&out.all());
        stack.assert_clean();
    };
    // Input it cannot act on: nothing runs, nothing is written.
    refused(
        &dbops(""),
        &["--target-time", "last tuesday"],
        "is not an RFC 3339 time with a UTC offset",
    );
    refused(
        &dbops(""),
        &["--target-time", "2999-01-01T00:00:00Z"],
        "is in the future",
    );
    refused(
        &dbops(""),
        &["--target", "soon"],
        "is not a recovery target",
    );
    assert!(
        stack.evidence_keys().is_empty(),
        "{:?}",
        stack.evidence_keys()
    );

    // A test that starts and cannot finish records why.
    stack.pgbackrest("stanza-create");
    refused(
        &dbops(""),
        &[],
        "the repository holds no full backup to restore",
    );
    assert_eq!(stack.evidence_keys().len(), 2);
    let first = &stack.evidence_keys()[0];
    let failed: serde_json::Value =
        serde_json::from_slice(&stack.s3.client().get("db-backups", first)).unwrap();
    assert_eq!(failed["passed"], false);
    assert_eq!(
        failed["failure"],
        "the repository holds no full backup to restore"
    );

    stack.pgbackrest("backup");
    refused(
        &dbops(""),
        &["--target-time", "2020-01-01T00:00:00Z"],
        "`--target-time 2020-01-01T00:00:00Z` is before the oldest full backup",
    );
    refused(
        &dbops(""),
        &["--backup", "20200101-000000F"],
        "no full backup is named `20200101-000000F`",
    );
    refused(
        &dbops("pg_bindir = \"/nonexistent/bin\""),
        &[],
        "`restore_test.pg_bindir` (/nonexistent/bin) holds no `pg_ctl` and `postgres`",
    );
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    refused(
        &dbops(&format!("port = {port}")),
        &[],
        &format!("`restore_test.port` {port} on 127.0.0.1 is not free"),
    );
    drop(taken);
    // A work directory too deep for a Unix socket address.
    let deep = stack.work.join("d".repeat(90));
    std::fs::create_dir_all(&deep).unwrap();
    crate::support::postgres::give_to_server_user(&deep);
    let out = stack
        .dbops(&restore_test(&deep, CHECKS, ""))
        .env("BACKUP_SIDECAR_URL", &sidecar)
        .run(&["restore-test"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("is too deep for the restored server's Unix socket"),
        "{}",
        out.stderr
    );
    std::fs::remove_dir(&deep).unwrap();
    stack.assert_clean();
    // A comma cannot go into `unix_socket_directories`: refused before anything runs.
    let out = stack
        .dbops(&restore_test(
            std::path::Path::new("/var/tmp/a,b"),
            CHECKS,
            "",
        ))
        .env("BACKUP_SIDECAR_URL", &sidecar)
        .run(&["restore-test"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("key `restore_test.work_dir`: holds a comma"),
        "{}",
        out.stderr
    );
    // Not enough disk: a 1 MiB file system as the work directory (root only).
    let tiny = stack.work.parent().unwrap().join("tiny");
    std::fs::create_dir_all(&tiny).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m,mode=0777", "tmpfs"])
        .arg(&tiny)
        .status()
        .is_ok_and(|s| s.success());
    if mounted {
        let out = stack
            .dbops(&restore_test(&tiny, CHECKS, ""))
            .env("BACKUP_SIDECAR_URL", &sidecar)
            .run(&["restore-test"]);
        let left = std::fs::read_dir(&tiny).unwrap().count();
        let _ = std::process::Command::new("umount").arg(&tiny).status();
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(
            out.stderr.contains("not enough disk space in"),
            "{}",
            out.stderr
        );
        assert_eq!(
            left, 0,
            "the work directory was left on the tiny file system"
        );
    } else {
        eprintln!("not root: the disk-space refusal is covered by its unit of logic only");
    }
    // Seven failed runs (six without root), each with its evidence and log,
    // none overwriting another of the same second; nothing else was written.
    let keys = stack.evidence_keys();
    let expected = if mounted { 14 } else { 12 };
    assert_eq!(keys.len(), expected, "{keys:?}");
    let all = stack.s3.client().keys("db-backups", "prod/");
    assert!(
        all.iter().all(|k| k.starts_with("prod/restore-tests/")
            || k.starts_with("prod/archive/")
            || k.starts_with("prod/backup/")),
        "{all:?}"
    );
}

#[test]
fn a_restore_test_stopped_by_sigterm_halfway_leaves_nothing_running() {
    let stack = stack();
    let sidecar = sidecar(&stack);
    backup_with_a_target(&stack);
    let dbops = stack
        .dbops(&restore_test(&stack.work, CHECKS, ""))
        .env("BACKUP_SIDECAR_URL", &sidecar);
    let mut child = dbops
        .command(&["restore-test"])
        .spawn()
        .expect("dbops starts");
    // Wait until the backup is being fetched or the server is starting.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let started = loop {
        let data = std::fs::read_dir(&stack.work)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("data"))
            .find(|p| p.exists());
        if let Some(data) = data {
            break data;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the fetch never began"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // SAFETY: kill only sends a signal to our own child.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "dbops ignored SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(143), "{stderr}");
    assert!(
        stderr.contains("interrupted by SIGTERM: the throwaway server was stopped and deleted"),
        "{stderr}"
    );
    assert!(!started.exists());
    stack.assert_clean();
    assert!(stack.evidence_keys().is_empty());
}

/// `max_connections` raised on the primary after the full backup: replay
/// meets the parameter change, and the drill neither pauses nor waits out
/// the RTO (the throwaway server runs with `hot_standby = off` and the
/// backup's own parameters), and sees the rows written after the raise.
#[test]
fn a_parameter_raised_after_the_backup_does_not_stop_the_drill() {
    let stack = stack_with(
        Some("pgbackrest --config={conf} --stanza={stanza} --log-level-file=off archive-push %p"),
        &[],
        "rto = \"3m\"",
    );
    stack.pgbackrest("stanza-create");
    stack.pgbackrest("backup");
    stack.pg.sql_ok("ALTER SYSTEM SET max_connections = 150");
    stack
        .pg
        .sql_ok("ALTER SYSTEM SET max_prepared_transactions = 4");
    stack.pg.restart();
    assert_eq!(stack.pg.sql_ok("SHOW max_connections"), "150");
    stack
        .pg
        .sql_ok("CREATE TABLE after_the_raise AS SELECT 1 AS x");
    let segment = stack.pg.sql_ok("SELECT pg_walfile_name(pg_switch_wal())");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while stack
        .pg
        .sql_ok("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
        < segment
    {
        assert!(
            std::time::Instant::now() < deadline,
            "{segment} was not archived"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let checks = r#"
[[restore_test.checks]]
name = "written after the raise"
database = "postgres"
sql = "SELECT count(*) FROM after_the_raise"
equals = "1"
"#;
    let started = std::time::Instant::now();
    let out = stack
        .dbops(&restore_test(&stack.work, checks, ""))
        .env("BACKUP_SIDECAR_URL", &sidecar(&stack))
        .run(&["restore-test", "--format", "json"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "took {:?}",
        started.elapsed()
    );
    let key = stack
        .evidence_keys()
        .into_iter()
        .find(|k| k.ends_with("evidence.json"))
        .unwrap();
    let evidence = evidence(&stack, &key);
    assert_eq!(evidence["passed"], true, "{evidence}");
    stack.assert_clean();
}

/// Production preloads pg_cron (a job scheduler) and has commands a standby
/// or a recovery would run (`archive_cleanup_command` would delete
/// production's archive): the drill runs none of them. The restored server
/// starts no pg_cron launcher and no logical replication worker, neither
/// command leaves its mark, and the restore log says what was not preloaded.
#[test]
fn a_drill_runs_none_of_productions_commands_or_job_schedulers() {
    let stack = stack();
    let sidecar = sidecar(&stack);
    let marks = stack.pg.writable_dir("marks");
    let cleanup = marks.join("archive_cleanup_command-ran");
    let end = marks.join("recovery_end_command-ran");
    stack
        .pg
        .sql_ok("ALTER SYSTEM SET shared_preload_libraries = 'pg_cron'");
    stack.pg.sql_ok(&format!(
        "ALTER SYSTEM SET archive_cleanup_command = 'touch {}'",
        cleanup.display()
    ));
    stack.pg.sql_ok(&format!(
        "ALTER SYSTEM SET recovery_end_command = 'touch {}'",
        end.display()
    ));
    stack.pg.restart();
    assert_eq!(
        stack.pg.sql_ok(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_cron launcher'"
        ),
        "1",
        "production runs pg_cron"
    );
    backup_with_a_target(&stack);

    let checks = r#"
[[restore_test.checks]]
name = "no job scheduler"
database = "postgres"
sql = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_cron launcher'"
equals = "0"

[[restore_test.checks]]
name = "no production commands"
database = "postgres"
sql = "SELECT current_setting('archive_cleanup_command') || current_setting('recovery_end_command') || current_setting('shared_preload_libraries')"
equals = ""

[[restore_test.checks]]
name = "no logical replication workers"
database = "postgres"
sql = "SELECT current_setting('max_logical_replication_workers')"
equals = "0"
"#;
    let dbops = stack
        .dbops(&restore_test(&stack.work, checks, ""))
        .env("BACKUP_SIDECAR_URL", &sidecar);
    let out = dbops.run(&["restore-test"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        !cleanup.exists() && !end.exists(),
        "a production command ran"
    );
    let keys = stack.evidence_keys();
    let log = String::from_utf8(stack.s3.client().get("db-backups", &keys[1])).unwrap();
    assert!(
        log.contains("not preloading pg_cron on the throwaway server"),
        "{log}"
    );
    stack.assert_clean();
}

/// dbops is killed (SIGKILL: no cleanup runs) while the restored server
/// runs, with the bucket's keys in its work directory. The next run finds
/// the leftover of a dbops that no longer runs, stops its server (which
/// holds the declared port), deletes it, says so, and passes.
#[test]
fn a_drill_killed_halfway_is_cleaned_up_by_the_next_run() {
    let stack = stack();
    let sidecar = sidecar(&stack);
    backup_with_a_target(&stack);
    let port = crate::support::free_port();
    let dbops = stack
        .dbops(&restore_test(
            &stack.work,
            CHECKS.replace("equals = \"1\"", "equals = \"2\"").as_str(),
            &format!("port = {port}"),
        ))
        .env("BACKUP_SIDECAR_URL", &sidecar);
    let mut child = dbops
        .command(&["restore-test"])
        .spawn()
        .expect("dbops starts");
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let work = loop {
        let started = std::fs::read_dir(&stack.work)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| p.join("data").join("postmaster.pid").exists());
        if let Some(work) = started {
            break work;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the restored server never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().unwrap();
    let _ = child.wait();
    std::thread::sleep(Duration::from_millis(500));
    assert!(work.exists(), "the killed run cleaned up after itself?");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        "the leftover server is not running"
    );

    let out = dbops.run(&["restore-test", "--log-format", "json"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("restore_test.leftover_removed")
            && out.stderr.contains(&format!(
                "removed the work directory `{}` of a restore test whose dbops (pid {}) no longer runs; stopped its server first",
                work.display(),
                child.id()
            )),
        "{}",
        out.stderr
    );
    assert!(!work.exists());
    stack.assert_clean();
}

/// `--pick` samples the retained backups: `oldest` restores the first full
/// backup and replays the whole window (all three orders back), drift then
/// counts the window as proven; `random` with a seed draws the same backup
/// every time and records its seed; bad picks are refused before anything
/// runs.
#[test]
fn a_drill_picks_the_oldest_or_a_seeded_random_backup_and_records_the_choice() {
    let stack = stack_with(
        Some("pgbackrest --config={conf} --stanza={stanza} --log-level-file=off archive-push %p"),
        &[],
        "restore_test_grace = \"1s\"",
    );
    let sidecar = sidecar(&stack);
    backup_with_a_target(&stack);
    stack.pg.sql("shop", "INSERT INTO orders VALUES (3)");
    crate::support::run_checked(stack.pgbackrest_command("backup").arg("--type=full"));
    let labels: Vec<String> = {
        let info =
            crate::support::run_checked(stack.pgbackrest_command("info").arg("--output=json"));
        let document: serde_json::Value = serde_json::from_str(&info).unwrap();
        document[0]["backup"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["label"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(labels.len(), 2, "{labels:?}");
    let checks = "[[restore_test.checks]]\nname = \"orders\"\ndatabase = \"shop\"\nsql = \"SELECT count(*) FROM orders\"\nequals = \"3\"\n";
    let dbops = stack
        .dbops(&restore_test(&stack.work, checks, ""))
        .env("BACKUP_SIDECAR_URL", &sidecar);
    let drill = |args: &[&str]| {
        let mut all = vec!["restore-test", "--format", "json"];
        all.extend_from_slice(args);
        let out = dbops.run(&all);
        assert_eq!(out.code, 0, "{args:?}: {}\n{}", out.stdout, out.stderr);
        let document: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        document["evidence"].clone()
    };

    // The newest alone proves the newest end only: drift says so.
    let unproven = "the older end of the recovery window is unproven";
    let newest = drill(&["--pick", "newest"]);
    assert_eq!(newest["backup"]["name"], labels[1].as_str());
    let drift = dbops.run(&["drift"]);
    assert!(drift.stdout.contains(unproven), "{}", drift.stdout);
    let oldest = drill(&["--pick", "oldest"]);
    assert_eq!(oldest["backup"]["name"], labels[0].as_str(), "{oldest}");
    assert_eq!(oldest["pick"], "oldest");
    assert_eq!(oldest["checks"][0]["value"], "3");
    let drift = dbops.run(&["drift"]);
    assert!(!drift.stdout.contains(unproven), "{}", drift.stdout);
    assert!(
        !drift.stdout.contains("backup.health.restore_test"),
        "{}",
        drift.stdout
    );

    let first = drill(&["--pick", "random", "--seed", "42"]);
    let again = drill(&["--pick", "random", "--seed", "42"]);
    assert_eq!(first["seed"], 42);
    assert_eq!(first["pick"], "random");
    assert_eq!(first["backup"]["name"], again["backup"]["name"]);
    stack.assert_clean();

    // Bad picks: refused before anything runs, nothing written.
    let keys_before = stack.s3.client().keys("db-backups", "prod/restore-tests/");
    for (args, said, code) in [
        (
            vec!["--pick", "age=30d"],
            "reaches past the retained backups",
            1,
        ),
        (
            vec!["--pick", "middle"],
            "`--pick middle` is not a choice of backup",
            1,
        ),
        (
            vec!["--pick", "oldest", "--backup", "x"],
            "cannot be used with",
            64,
        ),
        (vec!["--seed", "1"], "--pick", 64),
    ] {
        let mut all = vec!["restore-test"];
        all.extend_from_slice(&args);
        let out = dbops.run(&all);
        assert_eq!(out.code, code, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(said), "{args:?}: {}", out.stderr);
    }
    // `age=30d` runs up to the choice and records a failed drill; the
    // others never start one.
    let keys_after = stack.s3.client().keys("db-backups", "prod/restore-tests/");
    assert!(keys_after.len() <= keys_before.len() + 2, "{keys_after:?}");
    stack.assert_clean();
}

/// `restore-test --format json`: its exit code and its evidence.
fn drill_json(dbops: &Dbops) -> (i32, serde_json::Value) {
    let out = dbops.run(&["restore-test", "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr));
    (out.code, document["evidence"].clone())
}

/// `pg_ctl` of `pg` stopped (`-m fast`) around `change`, then started again.
pub(crate) fn with_server_stopped(pg: &crate::support::PgServer, change: impl FnOnce()) {
    let restart = pg.restart_command();
    let stop = restart.replace("-m fast restart", "-m fast stop");
    let start = restart.replace("-m fast restart", "start");
    crate::support::run_checked(std::process::Command::new("sh").arg("-c").arg(stop));
    change();
    crate::support::run_checked(std::process::Command::new("sh").arg("-c").arg(start));
}

/// `[restore_test] verify`: a healthy backup passes amcheck, a full read
/// and pg_checksums; a page damaged in the restored copy (data checksums
/// on) fails all three, and the checksum failure names the relation.
#[test]
fn verify_checks_the_restored_pages_and_names_the_corrupted_relation() {
    let stack = stack();
    let sidecar = sidecar(&stack);
    let data = stack.pg.data_dir();
    let asks = stack
        .dbops(&restore_test(&stack.work, "", "verify = [\"checksums\"]"))
        .env("BACKUP_SIDECAR_URL", &sidecar);
    // Asked of a cluster without data checksums: drift says so, and how.
    let drift = asks.run(&["drift"]);
    assert!(
        drift.stdout.contains("! backup.health.verify: `[restore_test] verify` asks for `checksums`, but the server has no data checksums"),
        "{}",
        drift.stdout
    );
    with_server_stopped(&stack.pg, || {
        crate::support::run_checked(
            crate::support::postgres::server_command("pg_checksums")
                .arg("--enable")
                .arg("--pgdata")
                .arg(&data),
        );
    });
    assert!(!asks.run(&["drift"]).stdout.contains("backup.health.verify"));
    backup_with_a_target(&stack);
    let dbops = stack
        .dbops(&restore_test(
            &stack.work,
            "",
            "verify = [\"amcheck\", \"checksums\", \"read_all\"]",
        ))
        .env("BACKUP_SIDECAR_URL", &sidecar);
    let (code, evidence) = drill_json(&dbops);
    assert_eq!(code, 0, "{evidence}");
    let verify = evidence["verify"].as_array().unwrap();
    let checks: Vec<&str> = verify
        .iter()
        .map(|v| v["check"].as_str().unwrap())
        .collect();
    assert_eq!(checks, ["amcheck", "read_all", "checksums"]);
    assert!(
        verify
            .iter()
            .all(|v| v["passed"] == true && v["skipped"].is_null()),
        "{evidence}"
    );
    assert!(verify[1]["relations"].as_u64().unwrap() >= 2, "{evidence}");
    let violations = crate::support::schema::violations("evidence.schema.json", &evidence);
    assert!(violations.is_empty(), "{violations:?}");

    // A page of `victim` damaged in the restored copy after promotion
    // (the test hook of debug builds: pgBackRest flags a backup holding a
    // bad page checksum, and drills never restore a flagged backup).
    stack.pg.sql(
        "shop",
        "CREATE TABLE victim AS SELECT g, repeat('x', 50) AS pad FROM generate_series(1, 2000) g",
    );
    crate::support::run_checked(stack.pgbackrest_command("backup").arg("--type=full"));
    let dbops = dbops.env("DBOPS_TEST_DRILL_CORRUPT", "shop:victim");
    let (code, evidence) = drill_json(&dbops);
    assert_eq!(code, 1, "{evidence}");
    assert!(
        evidence["failure"]
            .as_str()
            .unwrap()
            .starts_with("verification `amcheck` failed"),
        "{evidence}"
    );
    let verify = evidence["verify"].as_array().unwrap();
    assert!(verify.iter().all(|v| v["passed"] == false), "{evidence}");
    let checksums = verify[2]["first_failure"].as_str().unwrap();
    assert!(
        checksums.contains("relation `victim` in `shop`"),
        "{checksums}"
    );
    assert!(
        verify[1]["first_failure"]
            .as_str()
            .unwrap()
            .contains("public.victim"),
        "{evidence}"
    );
    stack.assert_clean();
}
