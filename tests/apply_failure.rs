//! A step that fails after the role transaction committed: the events of what
//! was applied are already in the log, pgBouncer's auth file already holds the
//! verifiers PostgreSQL has (it is written right after the roles), and the
//! error names what was applied and what was not. The next apply finishes.

use crate::support::pgbouncer::pooler_table;
use crate::support::s3::{assert_no_keys, S3Server, ACCESS_KEY, SECRET_KEY};
use crate::support::{free_port, hostile_password, percent, PgServer};

fn config(dir: &std::path::Path, port: u16, env_file: &std::path::Path) -> String {
    format!(
        r#"[postgres]
admin = {{ env = "DATABASE_ROOT_URL" }}

[roles.app_user]
dsn = {{ env = "DATABASE_URL" }}

{pooler}
[bucket.db-backups]
endpoint = {{ env = "BACKUP_S3_ENDPOINT" }}
access_key_id = {{ env = "BACKUP_AWS_ACCESS_KEY_ID" }}
secret_access_key = {{ env = "BACKUP_AWS_SECRET_ACCESS_KEY" }}
create = true

[backup]
rpo = "5m"
bucket = "db-backups"
prefix = "prod"
archive_command = "true"
env_file = "{env_file}"
"#,
        pooler = pooler_table(dir, port, "PGBOUNCER_ADMIN_PASSWORD"),
        env_file = env_file.display()
    )
}

#[test]
fn a_later_step_fails_events_stay_and_the_auth_file_already_matches() {
    let pg = PgServer::start();
    let s3 = S3Server::moto();
    let dir = pg.writable_dir("pgbouncer");
    let port = free_port();
    // The env file's directory is a regular file: writing it must fail, even as root.
    let blocker = dir.join("blocker");
    std::fs::write(&blocker, "not a directory").unwrap();
    let env_file = blocker.join("walg.env");
    let password = hostile_password("failure");
    let dbops = crate::support::Dbops::new(&config(&dir, port, &env_file))
        .env("DATABASE_ROOT_URL", &pg.admin_url())
        .env(
            "DATABASE_URL",
            &format!(
                "postgres://app_user:{}@127.0.0.1:{port}/app",
                percent(&password)
            ),
        )
        .env("PGBOUNCER_ADMIN_PASSWORD", "bouncer admin pw")
        .env("BACKUP_S3_ENDPOINT", &s3.endpoint())
        .env("BACKUP_AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("BACKUP_AWS_SECRET_ACCESS_KEY", SECRET_KEY);

    let out = dbops.run(&["apply", "--auto-approve", "--log-format", "json"]);
    out.expect_code(1);
    assert_no_keys(&out.all());
    assert!(!out.all().contains(&password), "{}", out.all());

    // The events of what committed are in the log, each a JSON line, before the error.
    let events: Vec<serde_json::Value> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let has = |event: &str, address: &str| {
        events
            .iter()
            .any(|e| e["event"] == event && e["address"] == address)
    };
    assert!(
        has("role.created", "postgres.role.app_user"),
        "{}",
        out.stderr
    );
    assert!(
        has("database.created", "postgres.database.app"),
        "{}",
        out.stderr
    );
    assert!(
        has("file.written", "pooler.file.userlist.txt"),
        "{}",
        out.stderr
    );
    assert!(has("bucket.created", "bucket.db-backups"), "{}", out.stderr);
    // With `--log-format json` the error is the last JSON line.
    let lines: Vec<serde_json::Value> = out
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let last = lines.last().expect("an error");
    assert_eq!(last["event"], "error", "events come before the error");

    // The error says what failed, what was applied and what was not.
    for expected in [
        "cannot create directory",
        "applied before the failure:",
        "`postgres.role.app_user`",
        "not applied: `backup.file.walg.env`",
        "fix the cause and run `dbops apply` again",
    ] {
        assert!(
            out.stderr.contains(expected),
            "`{expected}` missing:\n{}",
            out.stderr
        );
    }

    // pgBouncer's auth file already holds exactly what PostgreSQL has.
    let stored = pg.sql_ok("SELECT rolpassword FROM pg_authid WHERE rolname = 'app_user'");
    let auth = std::fs::read_to_string(dir.join("userlist.txt")).unwrap();
    assert!(
        auth.contains(&format!("\"app_user\" \"{stored}\"")),
        "{auth}"
    );

    // Once the cause is gone, the next apply finishes the job.
    std::fs::remove_file(&blocker).unwrap();
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    assert!(env_file.exists());
    let plan = dbops.run(&["plan", "--detailed-exitcode"]);
    assert!(
        plan.code == 0 || plan.stdout.contains("wait for a restart"),
        "{}",
        plan.stdout
    );
}

#[test]
fn a_failed_auth_file_write_says_logins_through_the_pooler_fail_until_the_next_apply() {
    let pg = PgServer::start();
    let dir = pg.writable_dir("pgbouncer");
    let port = free_port();
    let blocker = dir.join("blocker");
    std::fs::write(&blocker, "not a directory").unwrap();
    let config = format!(
        r#"[postgres]
admin = {{ env = "DATABASE_ROOT_URL" }}

[roles.app_user]
dsn = {{ env = "DATABASE_URL" }}

[pooler]
config_file = "{dir}/pgbouncer.ini"
auth_file = "{dir}/blocker/userlist.txt"
listen_addr = "127.0.0.1"
listen_port = {port}
reload = {{ command = "true" }}
"#,
        dir = dir.display()
    );
    let dbops = crate::support::Dbops::new(&config)
        .env("DATABASE_ROOT_URL", &pg.admin_url())
        .env(
            "DATABASE_URL",
            &format!("postgres://app_user:pw@127.0.0.1:{port}/app"),
        );
    let out = dbops.run(&["apply", "--auto-approve"]);
    out.expect_code(1);
    for expected in [
        "postgres.role.app_user: role created",
        "not applied: `pooler.file.userlist.txt`",
        "PostgreSQL has the new password for `app_user`; pgBouncer's auth file was not rewritten",
    ] {
        assert!(
            out.stderr.contains(expected),
            "`{expected}` missing:\n{}",
            out.stderr
        );
    }
}
