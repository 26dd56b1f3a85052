//! `--target DOMAIN`: a runner that sees PostgreSQL but not the database
//! host's files (nor, here, the bucket) plans and applies what it can see,
//! is warned like Terraform warns, never reads the rest, and a saved plan
//! keeps its targets.

use crate::support::{Dbops, PgServer};

fn config(unreachable: &std::path::Path) -> String {
    format!(
        r#"[postgres]
admin = {{ env = "DATABASE_ROOT_URL" }}

[roles.app_user]
dsn = {{ env = "DATABASE_URL" }}

[bucket.db-backups]
endpoint = "http://127.0.0.1:1"
access_key_id = {{ env = "BACKUP_AWS_ACCESS_KEY_ID" }}
secret_access_key = {{ env = "BACKUP_AWS_SECRET_ACCESS_KEY" }}
create = true
block_public_access = true

[backup]
tool = "wal-g"
rpo = "5m"
bucket = "db-backups"
prefix = "prod"
env_file = "{env}"
"#,
        env = unreachable.join("walg.env").display()
    )
}

#[test]
fn target_plans_and_applies_only_what_the_runner_can_see() {
    let pg = PgServer::start();
    let dbops = Dbops::new("")
        .env("DATABASE_ROOT_URL", &pg.admin_url())
        .env("DATABASE_URL", &pg.url("app_user", "app password", "app"))
        .env("BACKUP_AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
        .env("BACKUP_AWS_SECRET_ACCESS_KEY", "not-a-real-secret");
    // The env file's directory is a regular file: reading it fails, as a
    // path on another host would be missing.
    let not_a_dir = dbops.path("not-a-directory");
    std::fs::write(&not_a_dir, "").unwrap();
    dbops.write_config(&config(&not_a_dir));

    // Without a target, the bucket and the file are read, and fail.
    let full = dbops.run(&["plan"]);
    full.expect_code(1);
    assert!(
        full.stderr.contains("cannot reach http://127.0.0.1:1"),
        "{}",
        full.stderr
    );

    let plan = dbops.run(&["plan", "--target", "postgres", "--out", "targeted.plan"]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stderr.contains("warning: `--target` is in effect: planning `postgres` only; `bucket`, `backup` were not read and may have drifted. Run a full plan"),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stdout.contains("+ postgres.role.app_user"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("postgres.setting.archive_mode"),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("bucket.db-backups"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("backup.file"), "{}", plan.stdout);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dbops.path("targeted.plan")).unwrap())
            .unwrap();
    assert_eq!(saved["targets"], serde_json::json!(["postgres"]));

    // The saved plan carries its targets; another `--target` beside it is refused.
    let refused = dbops.run(&["apply", "--target", "bucket", "targeted.plan"]);
    refused.expect_code(1);
    assert!(
        refused
            .stderr
            .contains("`--target` cannot be given with a saved plan"),
        "{}",
        refused.stderr
    );
    let apply = dbops.run(&["apply", "targeted.plan"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert!(pg.can_login("app_user", "app password", "app"));

    // Converged for what it sees (archive_mode waits for a restart); drift agrees.
    pg.restart();
    dbops
        .run(&["plan", "--target", "postgres", "--detailed-exitcode"])
        .expect_code(0);
    let drift = dbops.run(&["drift", "--target", "postgres", "--fail-on", "drift"]);
    assert_eq!(drift.code, 0, "{}\n{}", drift.stdout, drift.stderr);

    // An unknown domain is a usage error naming the choices.
    let unknown = dbops.run(&["plan", "--target", "roles"]);
    unknown.expect_code(64);
    assert!(
        unknown
            .stderr
            .contains("[possible values: postgres, pooler, bucket, backup, dumps]"),
        "{}",
        unknown.stderr
    );
}
