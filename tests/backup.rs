//! The backup tool's side against a real S3-compatible server: rendered WAL-G
//! and pgBackRest configuration (mode 0600, keys never shown), and backup
//! health in drift from objects laid out the way each tool lays them out.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::support::s3::{assert_no_keys, dbops, S3Server, ACCESS_KEY, SECRET_KEY};
use crate::support::{Dbops, PgServer};

fn config(backup: &str) -> String {
    format!(
        r#"[postgres]
admin = {{ env = "DATABASE_ROOT_URL" }}

[bucket.db-backups]
endpoint = {{ env = "BACKUP_S3_ENDPOINT" }}
access_key_id = {{ env = "BACKUP_AWS_ACCESS_KEY_ID" }}
secret_access_key = {{ env = "BACKUP_AWS_SECRET_ACCESS_KEY" }}
create = true
block_public_access = true

[[bucket.db-backups.lifecycle]]
id = "expire-wal"
prefix = "prod/"
expire_after_days = 30

[backup]
bucket = "db-backups"
prefix = "prod"
archive_command = "true"
{backup}
"#
    )
}

#[test]
fn walg_env_file_is_rendered_private_idempotent_and_repaired() {
    let (pg, s3) = (PgServer::start(), S3Server::moto());
    let dbops = dbops(
        &pg,
        &s3,
        &config("tool = \"wal-g\"\nrpo = \"5m\"\nenv_file = \"walg/walg.env\"\n"),
    );
    let plan = dbops.run(&["plan"]);
    plan.expect_code(0);
    assert!(
        plan.stdout.contains("+ backup.file.walg.env"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("+AWS_SECRET_ACCESS_KEY=(sensitive)"),
        "{}",
        plan.stdout
    );
    assert_no_keys(&plan.stdout);
    let apply = dbops.run(&["apply", "--auto-approve", "--format", "json"]);
    apply.expect_code(0);
    assert_no_keys(&apply.all());

    let path = dbops.path("walg/walg.env");
    let content = std::fs::read_to_string(&path).unwrap();
    assert!(
        content.contains(&format!(
            "WALG_S3_PREFIX='s3://db-backups/prod'\nAWS_ENDPOINT='{}'\n",
            s3.endpoint()
        )),
        "{content}"
    );
    assert!(content.contains(&format!("AWS_SECRET_ACCESS_KEY='{SECRET_KEY}'\n")));
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);

    // Edited by hand and loosened: drift names it, without showing keys; apply repairs.
    std::fs::write(
        &path,
        content.replace(
            "WALG_COMPRESSION_METHOD='lz4'",
            "WALG_COMPRESSION_METHOD='brotli'",
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let drift = dbops.run(&["drift", "--format", "markdown"]);
    assert!(
        drift.stdout.contains("`backup.file.walg.env`"),
        "{}",
        drift.stdout
    );
    assert!(
        drift.stdout.contains(
            "      -WALG_COMPRESSION_METHOD='brotli'\n      +WALG_COMPRESSION_METHOD='lz4'"
        ),
        "{}",
        drift.stdout
    );
    assert!(
        drift.stdout.contains("`mode`: `\"0644\"` → `\"0600\"`"),
        "{}",
        drift.stdout
    );
    assert_no_keys(&drift.stdout);
    // A rotated secret key shows as sensitive, never as text.
    let rotated = dbops.env("BACKUP_AWS_SECRET_ACCESS_KEY", "rotated secret key value");
    let plan = rotated.run(&["plan"]);
    assert!(
        crate::support::squash(&plan.stdout).contains("~ secrets = (sensitive) will change"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("rotated secret key value"));
    rotated.run(&["apply", "--auto-approve"]).expect_code(0);
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .contains("AWS_SECRET_ACCESS_KEY='rotated secret key value'\n"));
}

#[test]
fn pgbackrest_conf_is_rendered() {
    let (pg, s3) = (PgServer::start(), S3Server::moto());
    let dbops = dbops(
        &pg,
        &s3,
        &config("tool = \"pgbackrest\"\nrpo = \"5m\"\nstanza = \"db\"\nfull_backups = 4\nfull_backup_interval = \"7d\"\nconfig_file = \"pgbackrest.conf\"\n"),
    );
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    let content = std::fs::read_to_string(dbops.path("pgbackrest.conf")).unwrap();
    for line in [
        "repo1-type=s3\n",
        "repo1-s3-endpoint=127.0.0.1\n",
        &format!("repo1-storage-port={}\n", s3.port),
        "repo1-s3-bucket=db-backups\n",
        "repo1-s3-uri-style=path\n",
        "repo1-path=/prod\n",
        "repo1-retention-full=4\n",
        "[db]\npg1-path=/var/lib/postgresql/data\n",
    ] {
        assert!(content.contains(line), "`{line}` missing from\n{content}");
    }
    dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);
}

#[test]
fn walg_layout_health_fresh_and_stale() {
    let (pg, s3) = (PgServer::start(), S3Server::moto());
    let dbops = dbops(
        &pg,
        &s3,
        &config("tool = \"wal-g\"\nrpo = \"5m\"\nmax_wal_age = \"4s\"\nmax_base_backup_age = \"1h\"\nrestore_test_max_age = \"35d\"\n"),
    );
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    // archive_mode waits for a restart; restart so only backup health remains.
    pg.restart();

    // Nothing archived yet: every check fails, with its threshold.
    let drift = dbops.run(&["drift"]);
    drift.expect_code(2);
    assert!(
        drift.stdout.contains(
            "! backup.health.wal: no archived WAL found under `prod/wal_005/` (threshold 4s)"
        ),
        "{}",
        drift.stdout
    );
    assert!(drift.stdout.contains("! backup.health.base_backup: no full backup found under `prod/basebackups_005/` (threshold 1h)"), "{}", drift.stdout);
    assert!(
        drift
            .stdout
            .contains("! backup.health.restore_test: no restore-test evidence found"),
        "{}",
        drift.stdout
    );

    // A month of segments, more than one listing page, then a full backup and evidence.
    let client = s3.client();
    let segments: Vec<String> = (1..=1100)
        .map(|i| format!("prod/wal_005/0000000100000000{i:08X}.lz4"))
        .collect();
    client.put_many("db-backups", &segments);
    client.put(
        "db-backups",
        "prod/basebackups_005/base_000000010000000000000002/tar_partitions/part_1.tar.lz4",
    );
    client.put(
        "db-backups",
        "prod/basebackups_005/base_000000010000000000000002_backup_stop_sentinel.json",
    );
    let today =
        humantime::format_rfc3339(std::time::SystemTime::now()).to_string()[..10].to_string();
    client.put(
        "db-backups",
        &format!("prod/restore-tests/{today}/evidence.txt"),
    );
    std::thread::sleep(Duration::from_secs(5));

    // The WAL is now older than 4s: stale; the rest is fresh.
    let drift = dbops.run(&["drift", "--format", "json"]);
    drift.expect_code(2);
    let document: serde_json::Value = serde_json::from_str(&drift.stdout).unwrap();
    let violations = crate::support::schema::violations("report.schema.json", &document);
    assert!(violations.is_empty(), "{violations:?}");
    assert_eq!(
        document["drift"],
        serde_json::json!({"configuration": false, "findings": true})
    );
    let findings = document["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{}", drift.stdout);
    assert_eq!(findings[0]["address"], "backup.health.wal");
    assert!(findings[0]["message"]
        .as_str()
        .unwrap()
        .contains("older than the threshold of 4s"));
    // The figures behind the message, for a job to route on.
    assert_eq!(findings[0]["details"]["threshold_seconds"], 4);
    assert!(findings[0]["details"]["age_seconds"].as_u64().unwrap() > 4);
    assert_eq!(findings[0]["details"]["prefix"], "prod/wal_005/");
    // Paging on configuration drift only: health findings alone exit 0.
    dbops.run(&["drift", "--fail-on", "drift"]).expect_code(0);
    dbops.run(&["drift", "--fail-on", "health"]).expect_code(2);

    // A new segment sorts last, on the second listing page: fresh again.
    client.put("db-backups", "prod/wal_005/000000010000000000000FFF.lz4");
    let drift = dbops.run(&["drift"]);
    drift.expect_code(0);
    assert!(drift.stdout.contains("No drift."), "{}", drift.stdout);
}

#[test]
fn pgbackrest_layout_health_fresh_and_stale() {
    let (pg, s3) = (PgServer::start(), S3Server::moto());
    let dbops = dbops(
        &pg,
        &s3,
        &config("tool = \"pgbackrest\"\nrpo = \"5m\"\nstanza = \"main\"\nmax_wal_age = \"4s\"\nmax_base_backup_age = \"4s\"\n"),
    );
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    pg.restart();
    let client = s3.client();
    client.put("db-backups", "prod/archive/main/archive.info");
    client.put(
        "db-backups",
        "prod/archive/main/15-1/0000000100000000/000000010000000000000001-abc.gz",
    );
    client.put(
        "db-backups",
        "prod/archive/main/15-1/0000000100000000/000000010000000000000002-def.gz",
    );
    client.put(
        "db-backups",
        "prod/backup/main/20261123-101010F/backup.manifest",
    );
    client.put("db-backups", "prod/backup/main/backup.info");
    dbops.run(&["drift"]).expect_code(0);

    std::thread::sleep(Duration::from_secs(5));
    let drift = dbops.run(&["drift"]);
    drift.expect_code(2);
    assert!(
        drift
            .stdout
            .contains("! backup.health.wal: newest archived WAL is"),
        "{}",
        drift.stdout
    );
    assert!(
        drift
            .stdout
            .contains("! backup.health.base_backup: newest full backup is"),
        "{}",
        drift.stdout
    );

    client.put(
        "db-backups",
        "prod/archive/main/15-1/0000000100000001/000000010000000100000000-aaa.gz",
    );
    client.put("db-backups", "prod/backup/main/backup.info");
    dbops.run(&["drift"]).expect_code(0);
}

#[test]
fn retention_cross_checks_are_reported_before_connecting() {
    let short = config("tool = \"wal-g\"\nrpo = \"5m\"\nfull_backups = 40\n");
    let out = Dbops::new(&short)
        .env(
            "DATABASE_ROOT_URL",
            "postgres://postgres:pw@127.0.0.1:1/postgres",
        )
        .env("BACKUP_S3_ENDPOINT", "http://127.0.0.1:1")
        .env("BACKUP_AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("BACKUP_AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .run(&["validate"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("lifecycle rule `expire-wal` expires WAL after 30d, but the oldest full backup kept (40 x 1d) is 40d old: point-in-time recovery from it would break"),
        "{}",
        out.stderr
    );
}

/// Runs pgBackRest as the server's OS user.
fn pgbackrest(pg: &PgServer, conf: &std::path::Path, command: &str) -> String {
    let mut cmd = if crate::support::postgres::is_root() {
        let mut c = std::process::Command::new("runuser");
        c.args(["-u", "postgres", "--", "pgbackrest"]);
        c
    } else {
        std::process::Command::new("pgbackrest")
    };
    cmd.arg(format!("--config={}", conf.display()))
        .args([
            "--stanza=main",
            "--log-level-console=warn",
            "--log-level-file=off",
        ])
        .arg(format!("--pg1-socket-path={}", pg.socket_dir().display()))
        .arg(format!("--pg1-port={}", pg.port))
        .arg(command);
    crate::support::run_checked(&mut cmd)
}

#[test]
fn pgbackrest_archives_and_backs_up_for_real_through_tls_and_drift_sees_it() {
    let pg = PgServer::start();
    let s3 = S3Server::moto();
    let proxy = crate::support::tls_proxy::TlsProxy::start(s3.port);
    let dir = pg.writable_dir("pgbackrest");
    let conf = dir.join("pgbackrest.conf");
    let owner = if crate::support::postgres::is_root() {
        "file_owner = \"postgres\"\n"
    } else {
        ""
    };
    let config = format!(
        r#"[postgres]
admin = {{ env = "DATABASE_ROOT_URL" }}

[server]
restart_command = {restart}

[bucket.db-backups]
endpoint = {{ env = "BACKUP_S3_ENDPOINT" }}
access_key_id = {{ env = "BACKUP_AWS_ACCESS_KEY_ID" }}
secret_access_key = {{ env = "BACKUP_AWS_SECRET_ACCESS_KEY" }}
create = true
block_public_access = true

[[bucket.db-backups.lifecycle]]
id = "expire-old"
prefix = "prod/"
expire_after_days = 30

[backup]
tool = "pgbackrest"
rpo = "5m"
bucket = "db-backups"
prefix = "prod"
stanza = "main"
tool_endpoint = "https://localhost:{tls_port}"
ca_file = "{cert}"
config_file = "{conf}"
pg_data = "{data}"
archive_command = "pgbackrest --config={conf} --stanza=main --log-level-file=off archive-push %p"
max_wal_age = "10m"
max_base_backup_age = "1h"
{owner}"#,
        restart = serde_json::Value::String(pg.restart_command()),
        tls_port = proxy.port,
        cert = proxy.cert.display(),
        conf = conf.display(),
        data = pg.data_dir().display(),
    );
    let dbops = dbops(&pg, &s3, &config);
    dbops
        .run(&["apply", "--auto-approve", "--allow-restart"])
        .expect_code(0);
    assert_eq!(pg.sql_ok("SHOW archive_mode"), "on");
    let rendered = std::fs::read_to_string(&conf).unwrap();
    assert!(
        rendered.contains(&format!(
            "repo1-s3-endpoint=localhost\nrepo1-storage-port={}\n",
            proxy.port
        )),
        "{rendered}"
    );

    // The real tool, against the real server, through TLS, into the bucket dbops made.
    pgbackrest(&pg, &conf, "stanza-create");
    pgbackrest(&pg, &conf, "check");
    pgbackrest(&pg, &conf, "backup");
    let archived: i64 = pg
        .sql_ok("SELECT archived_count FROM pg_stat_archiver")
        .parse()
        .unwrap();
    assert!(archived > 0);

    let drift = dbops.run(&["drift"]);
    assert_eq!(drift.code, 0, "{}\n{}", drift.stdout, drift.stderr);
    assert_no_keys(&drift.all());
}
