//! The sidecar's environment: the rendered WAL-G env file carries libpq's
//! `PG*` variables, so `sh` sourcing it reaches PostgreSQL with `psql` (which
//! reads the same variables WAL-G does), with a hostile password that never
//! shows in a plan; pgBackRest refuses what it cannot express.

use crate::support::s3::{assert_no_keys, dbops, S3Server, BUCKET};
use crate::support::{hostile_password, PgServer};

fn config(tool: &str, file: &str) -> String {
    format!(
        r#"[postgres]
admin = {{ env = "DATABASE_ROOT_URL" }}

{BUCKET}
[backup]
tool = "{tool}"
rpo = "5m"
bucket = "db-backups"
prefix = "prod"
archive_command = "true"
{file}
connection = {{ env = "BACKUP_SIDECAR_URL" }}
"#
    )
}

#[test]
fn the_walg_env_file_lets_the_sidecar_connect_with_libpq_variables() {
    let (pg, s3) = (PgServer::start(), S3Server::moto());
    // Everything hostile but a single quote, which the env file's quoting
    // cannot carry (refused below).
    let password = hostile_password("sidecar").replace('\'', "") + " $HOME `id` \\";
    pg.sql_ok(&format!(
        "CREATE ROLE backup_agent LOGIN REPLICATION PASSWORD '{}'",
        password.replace('\'', "''")
    ));
    let dbops = dbops(&pg, &s3, &config("wal-g", "env_file = \"walg.env\"")).env(
        "BACKUP_SIDECAR_URL",
        &pg.url("backup_agent", &password, "postgres"),
    );
    let plan = dbops.run(&["plan"]);
    plan.expect_code(0);
    assert!(
        plan.stdout.contains("+PGUSER='backup_agent'"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("+PGPASSWORD=(sensitive)"),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.all().contains(&password),
        "the password leaked:\n{}",
        plan.all()
    );
    let apply = dbops.run(&["apply", "--auto-approve"]);
    apply.expect_code(0);
    assert!(!apply.all().contains(&password));
    assert_no_keys(&apply.all());

    // What the sidecar does: source the file, then run a libpq client.
    let env_file = dbops.path("walg.env");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(
            "set -a; . \"$1\"; set +a; exec psql -X -Atc 'SELECT current_user, current_database()'",
        )
        .arg("sh")
        .arg(&env_file)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "backup_agent|postgres"
    );
    dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);

    // A password with a single quote cannot be written: refused, naming the key.
    let quoted = dbops.env(
        "BACKUP_SIDECAR_URL",
        &pg.url("backup_agent", &hostile_password("q"), "postgres"),
    );
    let out = quoted.run(&["validate"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("key `backup.connection`: cannot be written into the WAL-G env file: it holds a single quote"),
        "{}",
        out.stderr
    );
    assert!(!out.all().contains(&hostile_password("q")));
}

#[test]
fn pgbackrest_refuses_a_password_or_a_tcp_host_it_cannot_use() {
    let (pg, s3) = (PgServer::start(), S3Server::moto());
    let conf = config("pgbackrest", "config_file = \"pgbackrest.conf\"");
    let with_password = dbops(&pg, &s3, &conf).env(
        "BACKUP_SIDECAR_URL",
        "postgres://postgres:secret@localhost:5432/postgres?host=/var/run/postgresql",
    );
    let out = with_password.run(&["validate"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("key `backup.connection`: pgBackRest has no password option"),
        "{}",
        out.stderr
    );
    assert!(!out.all().contains("secret@"));
    let over_tcp = dbops(&pg, &s3, &conf).env(
        "BACKUP_SIDECAR_URL",
        "postgres://postgres@db.internal:5432/postgres",
    );
    let out = over_tcp.run(&["validate"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("pgBackRest reaches a local PostgreSQL through its Unix socket only"),
        "{}",
        out.stderr
    );
}
