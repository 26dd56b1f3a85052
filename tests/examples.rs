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
            let violations = crate::support::schema::config_violations(&text);
            assert!(
                violations.is_empty(),
                "{} does not match the JSON Schema:\n{}",
                entry.display(),
                violations.join("\n")
            );
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

/// The schema catches what `validate` catches, so editors flag it as you type.
#[test]
fn the_schema_rejects_values_the_parser_rejects() {
    let base = "[postgres]\nadmin = { env = \"DATABASE_ROOT_URL\" }\n";
    let pooler = "[pooler]\nconfig_file = \"/etc/pgbouncer/pgbouncer.ini\"\nauth_file = \"/etc/pgbouncer/userlist.txt\"\n";
    let cases = [
        (format!("{base}{pooler}pool_mode = \"transactional\"\n"), "/pooler/pool_mode"),
        (format!("{base}{pooler}auth_type = \"password\"\n"), "/pooler/auth_type"),
        (format!("{base}{pooler}admin_console = \"public\"\n"), "/pooler/admin_console"),
        (
            format!("{base}[bucket.b-1]\n[[bucket.b-1.lifecycle]]\nid = \"r\"\ntransition_after_days = 1\ntransition_storage_class = \"FROZEN\"\n"),
            "/bucket/b-1/lifecycle/0/transition_storage_class",
        ),
        (
            format!("{base}[[grants]]\nrole = \"r\"\ndatabase = \"d\"\non = \"tables\"\nschema = \"public\"\nprivileges = [\"SELEKT\"]\n"),
            "/grants/0/privileges/0",
        ),
        (format!("{base}[[grants]]\nrole = \"r\"\ndatabase = \"d\"\non = \"views\"\nprivileges = [\"SELECT\"]\n"), "/grants/0/on"),
        (format!("{base}[roles.r]\nconection_limit = 5\n"), "/roles/r"),
    ];
    for (config, path) in cases {
        let violations = crate::support::schema::config_violations(&config);
        // A violation at the key, or at an enclosing table (`anyOf` reports there).
        let at_or_above = |v: &String| {
            let at = v.split(':').next().unwrap_or("");
            !at.is_empty() && path.starts_with(at)
        };
        assert!(
            violations.iter().any(at_or_above),
            "the schema accepted {path}:\n{config}\n{violations:?}"
        );
        let out = Dbops::new(&config)
            .env(
                "DATABASE_ROOT_URL",
                "postgres://postgres:pw@127.0.0.1:1/postgres",
            )
            .run(&["validate"]);
        out.expect_code(1);
    }
    let good =
        format!("{base}{pooler}pool_mode = \"transaction\"\nauth_type = \"scram-sha-256\"\n");
    assert_eq!(
        crate::support::schema::config_violations(&good),
        Vec::<String>::new()
    );
}
