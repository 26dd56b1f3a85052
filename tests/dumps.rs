//! Logical dumps against real servers: `dbops dump` into a directory (and a
//! bucket), restored by hand with pg_restore into a fresh cluster with the
//! same rows and owners; the manifest validates and its digest matches; a
//! dump killed halfway leaves no manifest; drift's `dumps.health.*`
//! findings on old, missing, shrunken, off-policy and corrupted dumps, and
//! none on a healthy history; bad input refused with nothing written.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::Digest;

use crate::support::deployment::{standard_config, Deployment};
use crate::support::postgres::{tool, SUPERUSER_PASSWORD};
use crate::support::PgServer;

fn dumps_config(directory: &Path, extra: &str) -> String {
    format!(
        "{}\n[dumps]\ndirectory = \"{}\"\ninterval = \"24h\"\ncount_rows = [\"public.items\"]\n{extra}",
        standard_config(),
        directory.display()
    )
}

/// A deployment whose `app` database holds `rows` rows owned by `app_user`.
fn deployment(dir: &Path, extra: &str, rows: u32) -> Deployment {
    let d = Deployment::with_config(&dumps_config(dir, extra));
    d.apply();
    d.server.sql(
        "app",
        &format!(
            "CREATE TABLE items (id int PRIMARY KEY, body text); \
             INSERT INTO items SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, {rows}) g; \
             ALTER TABLE items OWNER TO app_user; ANALYZE items;"
        ),
    );
    d
}

/// Every set folder under `root` (`DB/YYYY/MM/DD/HHMMSSZ`).
fn sets(root: &Path, database: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![(root.join(database), 0)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.path().is_dir() {
                if depth == 3 {
                    out.push(entry.path());
                } else {
                    stack.push((entry.path(), depth + 1));
                }
            }
        }
    }
    out.sort();
    out
}

fn sha256_file(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `psql -X -q` as the superuser to `database` on 127.0.0.1:`port` (the
/// password in the environment).
fn psql_to(port: u16, database: &str) -> Command {
    let mut command = Command::new(tool("psql"));
    command
        .args([
            "-X",
            "-q",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            database,
        ])
        .arg("-p")
        .arg(port.to_string())
        .env("PGPASSWORD", SUPERUSER_PASSWORD);
    command
}

/// `pg_restore --exit-on-error` of `dump` into `fresh`'s `app`, with `extra` options.
fn pg_restore(fresh: &PgServer, dump: &Path, extra: &[&str]) {
    let restore = Command::new(tool("pg_restore"))
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "app",
            "--exit-on-error",
        ])
        .args(extra)
        .arg("-p")
        .arg(fresh.port.to_string())
        .arg(dump)
        .env("PGPASSWORD", SUPERUSER_PASSWORD)
        .output()
        .unwrap();
    assert!(
        restore.status.success(),
        "{}",
        String::from_utf8_lossy(&restore.stderr)
    );
}

/// The roles, then the database, restored by hand into `fresh`.
fn restore_by_hand(set: &Path, fresh: &PgServer) {
    let psql = psql_to(fresh.port, "postgres")
        .arg("-f")
        .arg(set.join("roles.sql"))
        .env("PGPASSWORD", SUPERUSER_PASSWORD)
        .output()
        .unwrap();
    assert!(
        psql.status.success(),
        "{}",
        String::from_utf8_lossy(&psql.stderr)
    );
    fresh.sql_ok("CREATE DATABASE app");
    pg_restore(fresh, &set.join("app.dump"), &[]);
}

fn finding_ids(out: &crate::support::Output) -> Vec<String> {
    let document: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let mut ids: Vec<String> = document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .filter(|id| id.starts_with("dumps."))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[test]
fn a_dump_to_a_directory_restores_by_hand_with_its_rows_and_owners() {
    let root = tempfile::tempdir().unwrap();
    let d = deployment(root.path(), "", 2000);
    let metrics = tempfile::tempdir().unwrap();
    let metrics_file = metrics.path().join("dbops-dump.prom");
    let out = d.dbops.run(&[
        "dump",
        "--format",
        "json",
        "--log-format",
        "json",
        "--metrics-file",
        metrics_file.to_str().unwrap(),
    ]);
    out.expect_code(0);
    let text = std::fs::read_to_string(&metrics_file).unwrap();
    let (code, said) = crate::support::monitoring::promtool(&["check", "metrics"], &text);
    assert_eq!(code, 0, "{said}");
    assert_eq!(
        crate::support::monitoring::value(
            &text,
            "dbops_dump_success{command=\"dump\",database=\"app\"}"
        ),
        Some(1.0),
        "{text}"
    );
    for secret in [&d.app_password, &d.service_password] {
        assert!(!out.all().contains(secret.as_str()));
    }
    assert!(
        out.stderr.contains("\"event\":\"dump.completed\""),
        "{}",
        out.stderr
    );
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let found = sets(root.path(), "app");
    assert_eq!(found.len(), 1, "{found:?}");
    let set = &found[0];
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(set.join("manifest.json")).unwrap()).unwrap();
    let violations = crate::support::schema::violations("dump-manifest.schema.json", &manifest);
    assert!(violations.is_empty(), "{violations:?}");
    let dump = set.join("app.dump");
    assert_eq!(manifest["sha256"], sha256_file(&dump).as_str());
    assert_eq!(manifest["bytes"], std::fs::metadata(&dump).unwrap().len());
    assert_eq!(report["dumps"][0]["sha256"], manifest["sha256"]);
    assert_eq!(
        manifest["roles"]["sha256"],
        sha256_file(&set.join("roles.sql")).as_str()
    );
    let items = manifest["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "items")
        .unwrap();
    assert_eq!(items["rows"], 2000);
    assert_eq!(items["exact"], true);
    assert_eq!(
        manifest["system_identifier"],
        d.server
            .sql_ok("SELECT system_identifier FROM pg_control_system()")
            .as_str()
    );
    // The roles file has no password; the dump is private.
    let roles = std::fs::read_to_string(set.join("roles.sql")).unwrap();
    assert!(
        roles.contains("CREATE ROLE app_user") && !roles.contains("SCRAM-SHA-256$"),
        "{roles}"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&dump).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let fresh = PgServer::start();
    restore_by_hand(set, &fresh);
    assert_eq!(
        fresh.sql("app", "SELECT count(*), sum(id) FROM items"),
        "2000|2001000"
    );
    assert_eq!(
        fresh.sql(
            "app",
            "SELECT tableowner FROM pg_tables WHERE tablename = 'items'"
        ),
        "app_user"
    );

    // A healthy history: no dumps finding.
    let drift_file = metrics.path().join("dbops-drift.prom");
    let drift = d.dbops.run(&[
        "drift",
        "--format",
        "json",
        "--deep",
        "--metrics-file",
        drift_file.to_str().unwrap(),
    ]);
    assert!(finding_ids(&drift).is_empty(), "{}", drift.stdout);
    let text = std::fs::read_to_string(&drift_file).unwrap();
    let bytes = crate::support::monitoring::value(
        &text,
        "dbops_dump_newest_bytes{command=\"drift\",database=\"app\"}",
    );
    assert_eq!(
        bytes,
        Some(std::fs::metadata(&dump).unwrap().len() as f64),
        "{text}"
    );
    assert!(crate::support::monitoring::value(
        &text,
        "dbops_dump_newest_timestamp_seconds{command=\"drift\",database=\"app\"}"
    )
    .is_some_and(|t| t > 0.0));

    // A flipped byte: the listing cannot see it, `--deep` can.
    let mut bytes = std::fs::read(&dump).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&dump, &bytes).unwrap();
    let shallow = d.dbops.run(&["drift", "--format", "json"]);
    assert!(finding_ids(&shallow).is_empty(), "{}", shallow.stdout);
    let deep = d.dbops.run(&["drift", "--format", "json", "--deep"]);
    deep.expect_code(2);
    assert_eq!(
        finding_ids(&deep),
        ["dumps.health.digest"],
        "{}",
        deep.stdout
    );
    // A truncated dump: its size tells even without `--deep`.
    std::fs::write(&dump, &bytes[..middle]).unwrap();
    let truncated = d.dbops.run(&["drift", "--format", "json"]);
    assert_eq!(
        finding_ids(&truncated),
        ["dumps.health.digest"],
        "{}",
        truncated.stdout
    );
}

/// `DB/YYYY/MM/DD/HHMMSSZ` of a moment `ago` before now.
fn set_path(root: &Path, database: &str, ago: std::time::Duration) -> PathBuf {
    let at = std::time::SystemTime::now() - ago;
    let text = humantime::format_rfc3339_seconds(at).to_string();
    // 2026-05-16T10:21:36Z
    let (date, time) = text.trim_end_matches('Z').split_once('T').unwrap();
    let date = date.replace('-', "/");
    let time = time.replace(':', "");
    root.join(database).join(date).join(format!("{time}Z"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// Sets a file's modification time `ago` in the past.
fn age(path: &Path, ago: std::time::Duration) {
    let when = std::time::SystemTime::now() - ago;
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(when)
        .unwrap();
}

const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);
const DAY: std::time::Duration = std::time::Duration::from_secs(86_400);

#[test]
fn drift_finds_missing_shrunken_incomplete_off_policy_and_old_dumps() {
    let root = tempfile::tempdir().unwrap();
    let d = deployment(root.path(), "", 20_000);
    let drift = |args: &[&str]| {
        let mut all = vec!["drift", "--format", "json"];
        all.extend_from_slice(args);
        d.dbops.run(&all)
    };
    // None yet: stale (missing), nothing else.
    let out = drift(&[]);
    out.expect_code(2);
    assert_eq!(finding_ids(&out), ["dumps.health.stale"], "{}", out.stdout);
    assert!(
        out.stdout.contains("no complete dump of `app`"),
        "{}",
        out.stdout
    );
    d.dbops.run(&["dump"]).expect_code(0);
    assert!(finding_ids(&drift(&[])).is_empty());

    // Most rows gone: the next dump shrank by more than half.
    d.server.sql("app", "DELETE FROM items WHERE id > 100");
    d.server.sql("app", "VACUUM FULL items");
    d.dbops.run(&["dump"]).expect_code(0);
    let out = drift(&[]);
    assert_eq!(finding_ids(&out), ["dumps.health.shrunk"], "{}", out.stdout);
    // Two more of the same size: the newest no longer shrank.
    d.dbops.run(&["dump"]).expect_code(0);
    assert!(finding_ids(&drift(&[])).is_empty(), "{}", drift(&[]).stdout);

    // A set two hours old without a manifest: a dump that died.
    let dead = set_path(root.path(), "app", 2 * HOUR);
    std::fs::create_dir_all(&dead).unwrap();
    std::fs::write(dead.join("app.dump.partial"), b"PGDMP").unwrap();
    age(&dead.join("app.dump.partial"), 2 * HOUR);
    let out = drift(&[]);
    assert_eq!(
        finding_ids(&out),
        ["dumps.health.incomplete"],
        "{}",
        out.stdout
    );
    std::fs::remove_dir_all(&dead).unwrap();

    // A complete set 200 days old: outside every window, and the days
    // after it in the daily window have no dump.
    let newest = sets(root.path(), "app").pop().unwrap();
    let ancient = set_path(root.path(), "app", 200 * DAY);
    copy_dir(&newest, &ancient);
    let out = drift(&[]);
    assert_eq!(
        finding_ids(&out),
        ["dumps.health.retention"],
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("outside the retention windows"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("inside the daily window"),
        "{}",
        out.stdout
    );
    // The next dump prunes it (and keeps every recent one).
    let before = sets(root.path(), "app").len();
    let dump = d.dbops.run(&["dump"]);
    dump.expect_code(0);
    assert!(dump.stdout.contains("Pruned 1 set(s)"), "{}", dump.stdout);
    assert!(!ancient.exists());
    assert_eq!(sets(root.path(), "app").len(), before);
    assert!(finding_ids(&drift(&[])).is_empty());

    // Old: with a one-second schedule, the newest set is late at once.
    d.dbops.write_config(
        &dumps_config(root.path(), "").replace("interval = \"24h\"", "interval = \"1s\""),
    );
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let out = drift(&[]);
    assert_eq!(finding_ids(&out), ["dumps.health.stale"], "{}", out.stdout);
    assert!(
        out.stdout.contains("the newest complete dump of `app` is"),
        "{}",
        out.stdout
    );
}

/// The pid of the pg_dump that runs `--snapshot` against `port`, if any.
fn pg_dump_pid(port: u16) -> Option<i32> {
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let text = String::from_utf8_lossy(&cmdline);
        if text.contains("pg_dump\0--format=custom\0--snapshot=")
            && text.contains(&format!("port={port} "))
        {
            return Some(pid);
        }
    }
    None
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_dump_killed_halfway_leaves_no_manifest_and_drift_reports_it() {
    let root = tempfile::tempdir().unwrap();
    let d = deployment(root.path(), "", 100);
    d.server.sql("app", "CREATE TABLE locked (x int)");
    // A session holding ACCESS EXCLUSIVE on `locked` stops pg_dump halfway.
    let mut holder = psql_to(d.server.port, "app")
        .args([
            "-c",
            "BEGIN; LOCK TABLE locked IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120);",
        ])
        .env("PGPASSWORD", SUPERUSER_PASSWORD)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the lock is held", || {
        d.server.sql("app", "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND relation = (SELECT oid FROM pg_class WHERE relname = 'locked') AND granted") == "1"
    });

    // SIGTERM to dbops: exit 143, pg_dump gone, no manifest, no partial file.
    let mut child = d.dbops.command(&["dump"]).spawn().unwrap();
    wait_for("pg_dump runs", || pg_dump_pid(d.server.port).is_some());
    unsafe { libc_kill(child.id() as i32, 15) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143));
    wait_for("pg_dump is stopped", || {
        pg_dump_pid(d.server.port).is_none()
    });
    let found = sets(root.path(), "app");
    assert_eq!(found.len(), 1, "{found:?}");
    let files: Vec<_> = std::fs::read_dir(&found[0])
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(files.is_empty(), "{files:?}");

    // pg_dump itself killed: dbops says so, exits 1, leaves no manifest;
    // stdout stays one JSON document naming the failure.
    let child = d
        .dbops
        .command(&["dump", "--format", "json"])
        .spawn()
        .unwrap();
    wait_for("pg_dump runs", || pg_dump_pid(d.server.port).is_some());
    unsafe { libc_kill(pg_dump_pid(d.server.port).unwrap(), 9) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("pg_dump was killed by a signal"),
        "{stderr}"
    );
    assert!(stderr.contains("without a manifest"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["failed"][0]["database"], "app", "{report:#}");
    assert!(report["dumps"].as_array().unwrap().is_empty());
    let found = sets(root.path(), "app");
    assert_eq!(found.len(), 2);
    assert!(found.iter().all(|s| !s.join("manifest.json").exists()));
    // What pg_dump wrote before it died never takes the dump's name.
    assert!(
        found
            .iter()
            .all(|s| std::fs::read_dir(s).unwrap().next().is_none()),
        "{found:?}"
    );
    // The lock's holder goes (its backend too: pg_sleep does not notice a
    // client that left).
    d.server.sql_ok(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE query LIKE '%pg_sleep(120)%' AND pid <> pg_backend_pid()",
    );
    let _ = holder.kill();
    let _ = holder.wait();

    // An hour on, drift reports the incomplete sets; a dump then succeeds.
    // (Renamed two hours back, as if they had been named then.)
    for (i, set) in found.iter().enumerate() {
        let earlier = set_path(
            root.path(),
            "app",
            2 * HOUR + std::time::Duration::from_secs(i as u64 * 5),
        );
        std::fs::create_dir_all(earlier.parent().unwrap()).unwrap();
        std::fs::rename(set, &earlier).unwrap();
    }
    let out = d.dbops.run(&["drift", "--format", "json"]);
    let ids = finding_ids(&out);
    assert!(
        ids.contains(&"dumps.health.incomplete".to_string()),
        "{}",
        out.stdout
    );
    d.dbops.run(&["dump"]).expect_code(0);
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, signal: i32) -> i32;
}

#[test]
fn bad_dumps_settings_are_refused_by_validate_at_their_key() {
    let dsn = "postgresql://someone:pw@127.0.0.1:1/app";
    let cases: &[(&str, &str)] = &[
        ("directory = \"relative/dumps\"\ninterval = \"24h\"", "not an absolute path"),
        ("directory = \"/x\"\nbucket = \"b\"\ninterval = \"24h\"", "both `directory` and `bucket`"),
        ("interval = \"24h\"", "has no destination"),
        ("bucket = \"nowhere\"\ninterval = \"24h\"", "`nowhere` has no `[bucket.nowhere]` table"),
        ("directory = \"/x\"\ninterval = \"24h\"\n[dumps.retention]\ndaily = 0\nweekly = 0\nmonthly = 0", "keeps no dump"),
        ("directory = \"/x\"\ninterval = \"24h\"\nrpo = \"1h\"", "cannot meet `dumps.rpo`"),
        ("directory = \"/x\"\ninterval = \"24h\"\ndatabases = [\"wal_005\"]", "is reserved"),
        ("directory = \"/x\"\ninterval = \"24h\"\ndatabases = [\"a/b\"]", "holds `/`"),
        ("directory = \"/x\"\ninterval = \"24h\"\ncount_rows = [\"items\"]", "is not `schema.table`"),
        ("directory = \"/x\"\ninterval = \"24h\"\njobs = 4", "`jobs` needs `format = \"directory\"`"),
        ("directory = \"/x\"\ninterval = \"soon\"", "is not a duration"),
    ];
    for (section, said) in cases {
        let dbops =
            crate::support::Dbops::new(&format!("{}\n[dumps]\n{section}\n", standard_config()))
                .env(
                    "DATABASE_ROOT_URL",
                    "postgresql://postgres@127.0.0.1:1/postgres",
                )
                .env("DATABASE_URL", dsn)
                .env("DATABASE_SERVICE_URL", &dsn.replace("someone", "other"));
        let out = dbops.run(&["validate"]);
        out.expect_code(1);
        assert!(
            out.stderr.contains(said) && out.stderr.contains("dbops.toml:"),
            "{section}\n{}",
            out.stderr
        );
    }
}

#[test]
fn bad_input_at_run_time_is_refused_and_nothing_is_written() {
    let root = tempfile::tempdir().unwrap();
    let d = deployment(root.path(), "", 10);
    let nothing_written =
        || assert!(sets(root.path(), "app").is_empty() && sets(root.path(), "nope").is_empty());

    // An unknown database.
    d.dbops.write_config(&dumps_config(
        root.path(),
        "databases = [\"app\", \"nope\"]\n",
    ));
    let out = d.dbops.run(&["dump"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("cannot dump `nope`: no such database"),
        "{}",
        out.stderr
    );
    nothing_written();
    // `--database` outside the file.
    d.dbops.write_config(&dumps_config(root.path(), ""));
    let out = d.dbops.run(&["dump", "--database", "postgres"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("is not one of the databases"),
        "{}",
        out.stderr
    );

    // A directory that cannot be written (its parent is a file).
    let file = root.path().join("file");
    std::fs::write(&file, "").unwrap();
    let unwritable = Deployment::with_config(&dumps_config(&file.join("dumps"), ""));
    unwritable.apply();
    let out = unwritable.dbops.run(&["dump"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("cannot write in `dumps.directory`"),
        "{}",
        out.stderr
    );

    // A pg_dump older than the server (only 15 installs here: a stub).
    let bindir = root.path().join("old-bin");
    std::fs::create_dir(&bindir).unwrap();
    for name in ["pg_dump", "pg_dumpall"] {
        let path = bindir.join(name);
        std::fs::write(
            &path,
            format!("#!/bin/sh\necho '{name} (PostgreSQL) 14.10'\n"),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    d.dbops.write_config(&dumps_config(
        root.path(),
        &format!("bindir = \"{}\"\n", bindir.display()),
    ));
    let out = d.dbops.run(&["dump"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("is version 14.10, older than the server"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("nothing was written"), "{}", out.stderr);
    nothing_written();

    // Two dumps never run at once: the lock is held elsewhere.
    d.dbops.write_config(&dumps_config(root.path(), ""));
    let mut holder = psql_to(d.server.port, "postgres")
        .args([
            "-c",
            "SELECT pg_advisory_lock(110373754989936); SELECT pg_sleep(60);",
        ])
        .env("PGPASSWORD", SUPERUSER_PASSWORD)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the lock is held", || {
        d.server
            .sql_ok("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
            == "1"
    });
    let out = d.dbops.run(&["dump"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("another `dbops dump` is running on this cluster (pid"),
        "{}",
        out.stderr
    );
    nothing_written();
    d.server.sql_ok(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()",
    );
    let _ = holder.kill();
    let _ = holder.wait();
    d.dbops.run(&["dump"]).expect_code(0);
}

fn bucket_config(extra_bucket: &str, extra_dumps: &str) -> String {
    format!(
        "{}\n{}versioning = true\n{extra_bucket}\n[dumps]\nbucket = \"db-backups\"\nprefix = \"dumps\"\ninterval = \"24h\"\n{extra_dumps}",
        standard_config(),
        crate::support::s3::BUCKET
    )
}

fn with_bucket(d: Deployment, s3: &crate::support::s3::S3Server) -> Deployment {
    let mut d = d;
    d.dbops.set_env("BACKUP_S3_ENDPOINT", &s3.endpoint());
    d.dbops
        .set_env("BACKUP_AWS_ACCESS_KEY_ID", crate::support::s3::ACCESS_KEY);
    d.dbops.set_env(
        "BACKUP_AWS_SECRET_ACCESS_KEY",
        crate::support::s3::SECRET_KEY,
    );
    d
}

#[test]
fn a_dump_to_a_bucket_lands_under_its_class_and_the_lifecycle_rules_converge() {
    let s3 = crate::support::s3::S3Server::moto();
    let own_rule =
        "[[bucket.db-backups.lifecycle]]\nid = \"tmp\"\nprefix = \"tmp/\"\nexpire_after_days = 1\n";
    let d = with_bucket(Deployment::with_config(&bucket_config(own_rule, "")), &s3);
    let plan = d.dbops.run(&["plan"]);
    plan.expect_code(0);
    assert!(plan.stdout.contains("dbops-dumps-daily"), "{}", plan.stdout);
    d.apply();
    d.plan().expect_code(0);
    d.server.sql(
        "app",
        "CREATE TABLE items (id int PRIMARY KEY, body text); \
         INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 5000) g; \
         ALTER TABLE items OWNER TO app_user;",
    );
    let client = s3.client();
    let rules: Vec<(String, String, Option<i32>, Option<i32>)> = client
        .lifecycle_rules("db-backups")
        .iter()
        .map(|r| {
            (
                r.id().unwrap_or_default().to_string(),
                r.filter()
                    .and_then(|f| f.prefix())
                    .unwrap_or_default()
                    .to_string(),
                r.expiration().and_then(|e| e.days()),
                r.abort_incomplete_multipart_upload()
                    .and_then(|a| a.days_after_initiation()),
            )
        })
        .collect();
    for expected in [
        ("dbops-dumps-daily", "dumps/daily/", Some(7), None),
        ("dbops-dumps-weekly", "dumps/weekly/", Some(28), None),
        ("dbops-dumps-monthly", "dumps/monthly/", Some(90), None),
        ("dbops-dumps-uploads", "dumps/", None, Some(1)),
        ("tmp", "tmp/", Some(1), None),
    ] {
        let expected = (
            expected.0.to_string(),
            expected.1.to_string(),
            expected.2,
            expected.3,
        );
        assert!(rules.contains(&expected), "{expected:?} not in {rules:?}");
    }

    // The first set of the month is `monthly`, the next one `daily`.
    d.dbops.run(&["dump"]).expect_code(0);
    d.dbops.run(&["dump"]).expect_code(0);
    let keys = client.keys("db-backups", "dumps/");
    let monthly: Vec<&String> = keys
        .iter()
        .filter(|k| k.starts_with("dumps/monthly/app/"))
        .collect();
    let daily: Vec<&String> = keys
        .iter()
        .filter(|k| k.starts_with("dumps/daily/app/"))
        .collect();
    assert_eq!(monthly.len(), 3, "{keys:?}");
    assert_eq!(daily.len(), 3, "{keys:?}");
    let manifest_key = monthly
        .iter()
        .find(|k| k.ends_with("/manifest.json"))
        .unwrap();
    let set = manifest_key.trim_end_matches("manifest.json");
    let manifest: serde_json::Value =
        serde_json::from_slice(&client.get("db-backups", manifest_key)).unwrap();
    assert_eq!(manifest["class"], "monthly");
    let dump = client.get("db-backups", &format!("{set}app.dump"));
    let digest: String = sha2::Sha256::digest(&dump)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(manifest["sha256"], digest.as_str());
    assert_eq!(manifest["bytes"], dump.len());

    // Restored by hand from the downloaded set.
    let local = tempfile::tempdir().unwrap();
    std::fs::write(local.path().join("app.dump"), &dump).unwrap();
    std::fs::write(
        local.path().join("roles.sql"),
        client.get("db-backups", &format!("{set}roles.sql")),
    )
    .unwrap();
    let fresh = PgServer::start();
    restore_by_hand(local.path(), &fresh);
    assert_eq!(fresh.sql("app", "SELECT count(*) FROM items"), "5000");

    let drift = d.dbops.run(&["drift", "--format", "json", "--deep"]);
    assert!(finding_ids(&drift).is_empty(), "{}", drift.stdout);

    // A drill from the bucket's newest set records its evidence in the
    // bucket, under the dumps' own prefix.
    let out = d
        .dbops
        .run(&["restore-test", "--source", "dumps", "--format", "json"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let document: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(document["evidence"]["passed"], true);
    let uri = document["evidence_uri"].as_str().unwrap();
    let key = uri.strip_prefix("s3://db-backups/").unwrap();
    assert!(key.starts_with("dumps/dump-tests/"), "{uri}");
    let recorded: serde_json::Value =
        serde_json::from_slice(&client.get("db-backups", key)).unwrap();
    assert_eq!(recorded["source"], "dumps");
    // The newest complete set: the second, a daily one.
    let restored = recorded["sets"][0]["location"].as_str().unwrap();
    assert!(restored.starts_with("dumps/daily/app/"), "{restored}");

    // Requests follow the retention, not the history: years of old sets
    // (outside every listing window) change nothing.
    let requests = || {
        let out = d.dbops.run(&["drift", "--log-format", "json"]);
        out.stderr
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|e| e["event"] == "dumps.health.read")
            .map(|e| e["details"]["s3_requests"].as_u64().unwrap())
            .unwrap()
    };
    let before = requests();
    let old: Vec<String> = (0..1500)
        .map(|i| {
            format!(
                "dumps/daily/app/2019/{:02}/{:02}/{:06}Z/app.dump",
                i % 12 + 1,
                i % 28 + 1,
                i
            )
        })
        .collect();
    client.put_many("db-backups", &old);
    assert_eq!(requests(), before);
    assert!(before <= 20, "{before}");

    // A corrupted newest dump, same size: found by `--deep`.
    let newest_set = daily
        .iter()
        .find(|k| k.ends_with("/manifest.json"))
        .unwrap()
        .trim_end_matches("manifest.json")
        .to_string();
    let mut body = client.get("db-backups", &format!("{newest_set}app.dump"));
    let middle = body.len() / 2;
    body[middle] ^= 0xff;
    client.put_body("db-backups", &format!("{newest_set}app.dump"), &body);
    let deep = d.dbops.run(&["drift", "--format", "json", "--deep"]);
    assert_eq!(
        finding_ids(&deep),
        ["dumps.health.digest"],
        "{}",
        deep.stdout
    );

    // A declared rule that would expire the dumps before the policy: refused.
    let early = "[[bucket.db-backups.lifecycle]]\nid = \"everything\"\nprefix = \"\"\nexpire_after_days = 3\n";
    d.dbops.write_config(&bucket_config(early, ""));
    let out = d.dbops.run(&["validate"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("expires `dumps/daily/` after 3 day(s), sooner than"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_denied_bucket_fails_the_dump_clearly_and_writes_nothing() {
    let s3 = crate::support::s3::S3Server::moto_denying();
    let d = with_bucket(Deployment::with_config(&bucket_config("", "")), &s3);
    // The roles only: the bucket cannot be created with keys it refuses.
    let out = d
        .dbops
        .run(&["apply", "--auto-approve", "--target", "postgres"]);
    out.expect_code(0);
    let out = d.dbops.run(&["dump"]);
    out.expect_code(1);
    assert!(out.stderr.contains("was denied"), "{}", out.stderr);
    assert!(out.stderr.contains("`app` left nothing"), "{}", out.stderr);
    assert!(!out.all().contains(crate::support::s3::SECRET_KEY));
}

/// The bucket declares no lifecycle: the rules the dumps need are read
/// back like declared ones, so apply converges and the next plan is empty.
#[test]
fn the_dumps_lifecycle_rules_converge_on_a_bucket_that_declares_none() {
    let s3 = crate::support::s3::S3Server::moto();
    let d = with_bucket(Deployment::with_config(&bucket_config("", "")), &s3);
    let apply = d.dbops.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{}", apply.all());
    let plan = d.plan();
    assert_eq!(plan.code, 0, "{}", plan.all());
}

/// A database name full of quotes and spaces reaches pg_dump (its conninfo
/// is quoted as libpq parses it), the set's path and the manifest intact,
/// and the metrics file's label escaped.
#[test]
fn a_hostile_database_name_is_dumped_quoted_everywhere() {
    let root = tempfile::tempdir().unwrap();
    let name = "we'ird \"db\" \\ x";
    let d = Deployment::with_config(&format!(
        "{}\n[dumps]\ndirectory = \"{}\"\ninterval = \"24h\"\ndatabases = [{}]\n",
        standard_config(),
        root.path().display(),
        serde_json::Value::String(name.into())
    ));
    d.apply();
    d.server.sql_ok(&format!(
        "CREATE DATABASE \"{}\"",
        name.replace('"', "\"\"")
    ));
    let metrics = root.path().join("dbops-dump.prom");
    let out = d
        .dbops
        .run(&["dump", "--metrics-file", metrics.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.all());
    let found = sets(root.path(), name);
    assert_eq!(found.len(), 1, "{found:?}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(found[0].join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["database"], name);
    assert!(found[0].join(format!("{name}.dump")).is_file());
    let text = std::fs::read_to_string(&metrics).unwrap();
    let (code, said) = crate::support::monitoring::promtool(&["check", "metrics"], &text);
    assert_eq!(code, 0, "{said}\n{text}");
    assert!(
        text.contains(
            "dbops_dump_success{command=\"dump\",database=\"we'ird \\\"db\\\" \\\\ x\"} 1"
        ),
        "{text}"
    );

    // The drill restores it under the same name, quoted everywhere.
    d.server.sql(name, "CREATE TABLE t AS SELECT 1 AS x; ");
    d.dbops.run(&["dump"]).expect_code(0);
    d.dbops.write_config(&format!(
        "{}\n[dumps]\ndirectory = \"{}\"\ninterval = \"24h\"\ndatabases = [{}]\n\n[[restore_test.checks]]\nname = \"t\"\ndatabase = {}\nsql = \"SELECT x FROM t\"\nequals = \"1\"\n",
        standard_config(),
        root.path().display(),
        serde_json::Value::String(name.into()),
        serde_json::Value::String(name.into())
    ));
    let out = d.dbops.run(&["restore-test", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let document: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(document["evidence"]["checks"][0]["passed"], true);
}

/// pg_dump's directory format, in parallel: each file's digest in the
/// manifest, the dump's digest over their `sha256sum` listing, and a
/// parallel restore by hand.
#[test]
fn the_directory_format_dumps_in_parallel_and_restores() {
    let root = tempfile::tempdir().unwrap();
    let d = deployment(root.path(), "format = \"directory\"\njobs = 2\n", 3000);
    d.server.sql(
        "app",
        "CREATE TABLE more (id int); INSERT INTO more SELECT generate_series(1, 500); \
         ALTER TABLE more OWNER TO app_user;",
    );
    let out = d.dbops.run(&["dump"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let set = sets(root.path(), "app").pop().unwrap();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(set.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["format"], "directory");
    let files = manifest["files"].as_array().unwrap();
    assert!(files.len() >= 3, "{manifest:#}");
    let mut listing = String::new();
    let mut sorted: Vec<&serde_json::Value> = files.iter().collect();
    sorted.sort_by_key(|f| f["name"].as_str().unwrap().to_string());
    for file in sorted {
        let name = file["name"].as_str().unwrap();
        assert!(name.starts_with("app.dir/"), "{name}");
        assert_eq!(
            file["sha256"],
            sha256_file(&set.join(name)).as_str(),
            "{name}"
        );
        listing.push_str(&format!("{}  {name}\n", file["sha256"].as_str().unwrap()));
    }
    let digest: String = sha2::Sha256::digest(listing.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(manifest["sha256"], digest.as_str());

    let fresh = PgServer::start();
    fresh.sql_ok("CREATE ROLE app_user");
    fresh.sql_ok("CREATE DATABASE app");
    pg_restore(&fresh, &set.join("app.dir"), &["-j", "2"]);
    assert_eq!(
        fresh.sql(
            "app",
            "SELECT (SELECT count(*) FROM items) + (SELECT count(*) FROM more)"
        ),
        "3500"
    );
    let drift = d.dbops.run(&["drift", "--format", "json"]);
    assert!(finding_ids(&drift).is_empty(), "{}", drift.stdout);
}

/// `[restore_test]` with a work directory of its own and two checks: the
/// rows and the table's owner (so the roles came back).
fn drill_config(work: &Path, rows: &str) -> String {
    format!(
        "rto = \"10m\"\nrestore_test_max_age = \"1d\"\n\n[restore_test]\nwork_dir = \"{}\"\nverify = [\"amcheck\", \"read_all\", \"checksums\"]\n\n[[restore_test.checks]]\nname = \"items\"\ndatabase = \"app\"\nsql = \"SELECT count(*) FROM items\"\nequals = \"{rows}\"\n\n[[restore_test.checks]]\nname = \"owner\"\ndatabase = \"app\"\nsql = \"SELECT tableowner FROM pg_tables WHERE tablename = 'items'\"\nequals = \"app_user\"\n",
        work.display()
    )
}

/// Nothing of a drill is left in `work`: no folder, no server.
fn assert_drill_gone(work: &Path) {
    let left: Vec<_> = std::fs::read_dir(work)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    let work = work.display().to_string();
    let running: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(&work))
        .collect();
    assert!(running.is_empty(), "still running: {running:?}");
}

fn restore_test_json(d: &Deployment) -> (crate::support::Output, serde_json::Value) {
    let out = d
        .dbops
        .run(&["restore-test", "--source", "dumps", "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr));
    (out, document)
}

#[test]
fn a_restore_test_from_dumps_passes_and_fails_with_evidence_on_a_flipped_byte_or_a_failing_check() {
    let root = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let d = deployment(root.path(), &drill_config(work.path(), "300"), 300);
    d.dbops.run(&["dump"]).expect_code(0);
    // A dumps-only file: `source` defaults to the dumps, no flag needed.
    let out = d.dbops.run(&["restore-test"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("Restore test passed."),
        "{}",
        out.stdout
    );
    assert_drill_gone(work.path());

    let (out, document) = restore_test_json(&d);
    out.expect_code(0);
    let evidence = &document["evidence"];
    let violations = crate::support::schema::violations("evidence.schema.json", evidence);
    assert!(violations.is_empty(), "{violations:?}");
    assert_eq!(evidence["source"], "dumps");
    assert_eq!(evidence["passed"], true, "{evidence}");
    assert_eq!(evidence["rto_met"], true);
    assert_eq!(evidence["rpo_met"], true);
    assert!(evidence["data_loss_window_seconds"].as_f64().unwrap() < 600.0);
    let set = sets(root.path(), "app").pop().unwrap();
    assert_eq!(evidence["sets"][0]["database"], "app");
    assert_eq!(evidence["sets"][0]["location"], set.display().to_string());
    assert_eq!(
        evidence["sets"][0]["sha256"],
        sha256_file(&set.join("app.dump")).as_str()
    );
    let checks = evidence["checks"].as_array().unwrap();
    assert!(checks.iter().all(|c| c["passed"] == true), "{evidence}");
    // The restored data verified; a fresh initdb cluster has no checksums.
    let verify = evidence["verify"].as_array().unwrap();
    assert_eq!(verify.len(), 3, "{evidence}");
    assert!(verify.iter().all(|v| v["passed"] == true), "{evidence}");
    assert!(verify[2]["skipped"]
        .as_str()
        .unwrap()
        .contains("no data checksums"));
    // Stored under the dumps' own `dump-tests/`, never where the physical
    // drills' evidence lies; the second run of a second never overwrites.
    let uri = document["evidence_uri"].as_str().unwrap();
    let evidence_root = root.path().join("dump-tests");
    assert!(
        uri.starts_with(&evidence_root.display().to_string()),
        "{uri}"
    );
    assert!(Path::new(uri).is_file());
    assert!(Path::new(uri).with_file_name("restore.log").is_file());
    assert_drill_gone(work.path());
    let drift = d.dbops.run(&["drift", "--format", "json"]);
    assert!(finding_ids(&drift).is_empty(), "{}", drift.stdout);

    // One flipped byte in the newest dump: a failed test, with evidence
    // naming the mismatch, and drift reports it until a later one passes.
    let dump = set.join("app.dump");
    let original = std::fs::read(&dump).unwrap();
    let mut flipped = original.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    std::fs::write(&dump, &flipped).unwrap();
    let (out, document) = restore_test_json(&d);
    out.expect_code(1);
    let evidence = &document["evidence"];
    assert_eq!(evidence["passed"], false);
    let failure = evidence["failure"].as_str().unwrap();
    assert!(failure.contains("does not match its manifest"), "{failure}");
    assert!(out.stderr.contains("restore test failed"), "{}", out.stderr);
    let recorded: serde_json::Value =
        serde_json::from_slice(&std::fs::read(document["evidence_uri"].as_str().unwrap()).unwrap())
            .unwrap();
    assert_eq!(recorded["passed"], false);
    assert_drill_gone(work.path());
    let drift = d.dbops.run(&["drift", "--format", "json"]);
    assert_eq!(
        finding_ids(&drift),
        ["dumps.health.restore_test"],
        "{}",
        drift.stdout
    );
    assert!(
        drift
            .stdout
            .contains("the newest restore test from dumps failed"),
        "{}",
        drift.stdout
    );
    std::fs::write(&dump, &original).unwrap();

    // A check that does not hold: failed, with the value found.
    d.dbops.write_config(&dumps_config(
        root.path(),
        &drill_config(work.path(), "301"),
    ));
    let (out, document) = restore_test_json(&d);
    out.expect_code(1);
    let evidence = &document["evidence"];
    assert_eq!(evidence["failure"], "1 check(s) failed", "{evidence}");
    let items = &evidence["checks"][0];
    assert_eq!(items["passed"], false);
    assert_eq!(items["value"], "300");
    assert_eq!(evidence["checks"][1]["passed"], true);
    assert_drill_gone(work.path());

    // Flags only a physical drill takes are refused before anything runs.
    let out = d
        .dbops
        .run(&["restore-test", "--source", "dumps", "--target", "immediate"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("`--target` is for physical backups"),
        "{}",
        out.stderr
    );
}
