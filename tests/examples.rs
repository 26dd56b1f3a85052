//! Every file in `examples/` validates, and the committed JSON Schema is the
//! one the parser's types generate.

use std::path::Path;

use crate::support::Dbops;

#[test]
fn every_example_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut checked = 0;
    for entry in walk(&dir) {
        if entry.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&entry).unwrap();
            let mut dbops = Dbops::new(&text)
                .env(
                    "DATABASE_ROOT_URL",
                    "postgres://postgres:admin@127.0.0.1:5432/postgres",
                )
                .env(
                    "DATABASE_URL",
                    "postgres://app_user:app%20pw@127.0.0.1:5432/app",
                )
                .env(
                    "DATABASE_SERVICE_URL",
                    "postgres://app_service:svc%40pw@127.0.0.1:5432/app",
                )
                .env("MIGRATOR_PASSWORD", "migrator pw")
                .env("BACKUP_S3_ENDPOINT", "http://127.0.0.1:9000")
                .env("BACKUP_AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
                .env("BACKUP_AWS_SECRET_ACCESS_KEY", "example/secret");
            // An example may ship its own environment (`env.example`).
            if let Ok(env) = std::fs::read_to_string(entry.with_file_name("env.example")) {
                for line in env.lines().filter(|l| !l.starts_with('#')) {
                    if let Some((key, value)) = line.split_once('=') {
                        dbops.set_env(key, value);
                    }
                }
            }
            let out = dbops.run(&["validate"]);
            assert_eq!(
                out.code,
                0,
                "{} does not validate:\n{}",
                entry.display(),
                out.stderr
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 4,
        "examples/ holds at least four dbops files, found {checked}"
    );
}

#[test]
fn the_committed_schema_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/dbops.schema.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let out = Dbops::new("").run(&["schema"]);
    out.expect_code(0);
    if std::env::var_os("DBOPS_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &out.stdout).unwrap();
        return;
    }
    assert!(
        committed == out.stdout,
        "schemas/dbops.schema.json is out of date: run `DBOPS_UPDATE_SCHEMA=1 cargo test the_committed_schema_is_up_to_date`"
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}
