//! The backup tool's side against a real S3-compatible server: rendered WAL-G
//! and pgBackRest configuration (mode 0600, keys never shown), and backup
//! health in drift from objects laid out the way each tool lays them out.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::time::Duration;

use crate::support::s3::{assert_no_keys, dbops, S3Server, ACCESS_KEY, BUCKET, SECRET_KEY};
use crate::support::{Dbops, PgServer};

fn config(backup: &str) -> String {
    format!(
        r#"[postgres]
admin = {{ env = "DATABASE_ROOT_URL" }}

{BUCKET}
[[bucket.db-backups.lifecycle]]
id = "expire-wal"
prefix = "prod/"
expire_after_days = 40

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
            "-      WALG_COMPRESSION_METHOD='brotli'\n+      WALG_COMPRESSION_METHOD='lz4'"
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
    let apply = dbops.run(&["apply", "--auto-approve"]);
    apply.expect_code(0);
    // The old retention keys still work, with the replacement spelled out.
    assert!(
        apply.stderr.contains("`backup.full_backups` is deprecated"),
        "{}",
        apply.stderr
    );
    let content = std::fs::read_to_string(dbops.path("pgbackrest.conf")).unwrap();
    for line in [
        "repo1-type=s3\n",
        "repo1-s3-endpoint=127.0.0.1\n",
        &format!("repo1-storage-port={}\n", s3.port),
        "repo1-s3-bucket=db-backups\n",
        "repo1-s3-uri-style=path\n",
        "repo1-path=/prod\n",
        "repo1-retention-full-type=time\nrepo1-retention-full=28\n",
        "repo1-retention-archive-type=full\nrepo1-retention-archive=4\n",
        "archive-copy=y\n",
        "[db]\npg1-path=/var/lib/postgresql/data\n",
    ] {
        assert!(content.contains(line), "`{line}` missing from\n{content}");
    }
    dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);
}

/// Evidence as `dbops restore-test` writes it (format 1, unsigned), with
/// `passed` and the time given: consistent, naming the WAL-G backup the
/// tests lay out.
fn evidence(passed: bool, started_at: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "format": 1,
        "dbops_version": "0.1.0",
        "tool": "wal-g",
        "started_at": started_at,
        "finished_at": started_at,
        "target": "latest",
        "backup": {
            "name": "base_000000010000000000000002",
            "start_time": started_at,
            "stop_time": started_at,
            "start_lsn": "0/2000028",
            "stop_lsn": "0/2000100",
            "size_bytes": 1
        },
        "data_loss_definition": "",
        "durations": {"total_seconds": 1.0},
        "rto_seconds": 3600,
        "rpo_seconds": 300,
        "rto_met": passed,
        "rpo_met": true,
        "checks": [],
        "passed": passed,
        "failure": if passed { serde_json::Value::Null } else { "the restore took too long".into() }
    }))
    .unwrap()
}

/// Waits until the server has archived `segment` (or a later one).
fn wait_archived(pg: &PgServer, segment: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while pg
        .sql_ok("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
        .as_str()
        < segment
    {
        assert!(
            std::time::Instant::now() < deadline,
            "{segment} not archived"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn walg_health_reads_the_server_the_bucket_and_the_evidence() {
    let (pg, s3) = (PgServer::start(), S3Server::moto());
    // `archive_command = true` claims success and uploads nothing: archiving
    // to the wrong place.
    let dbops = dbops(
        &pg,
        &s3,
        &config("tool = \"wal-g\"\nrpo = \"5m\"\nmax_base_backup_age = \"1h\"\nrestore_test_max_age = \"35d\"\nrestore_test_grace = \"1h\"\n"),
    );
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    pg.restart();

    // Nothing backed up yet: the full backup is missing; no drill is due
    // before the first backup (grace).
    let drift = dbops.run(&["drift"]);
    drift.expect_code(2);
    assert!(drift.stdout.contains("! backup.health.base_backup: no full backup found under `prod/basebackups_005/` (threshold 1h)"), "{}", drift.stdout);
    assert!(
        !drift.stdout.contains("backup.health.restore_test"),
        "{}",
        drift.stdout
    );

    // The server archives a segment the bucket never receives.
    pg.sql_ok("CREATE TABLE t AS SELECT 1 AS x");
    let segment = pg.sql_ok("SELECT pg_walfile_name(pg_switch_wal())");
    wait_archived(&pg, &segment);
    let client = s3.client();
    // A month of other segments, more than one listing page.
    let others: Vec<String> = (1..=1100)
        .map(|i| format!("prod/wal_005/0000000100000000{:08X}.lz4", 0x1000 + i))
        .collect();
    client.put_many("db-backups", &others);
    client.put(
        "db-backups",
        "prod/basebackups_005/base_000000010000000000000002_backup_stop_sentinel.json",
    );
    let drift = dbops.run(&["drift", "--format", "json"]);
    drift.expect_code(2);
    let document: serde_json::Value = serde_json::from_str(&drift.stdout).unwrap();
    let violations = crate::support::schema::violations("report.schema.json", &document);
    assert!(violations.is_empty(), "{violations:?}");
    let findings = document["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{}", drift.stdout);
    assert_eq!(findings[0]["address"], "backup.health.wal");
    assert_eq!(findings[0]["details"]["segment"], segment.as_str());
    assert!(
        findings[0]["message"]
            .as_str()
            .unwrap()
            .contains("`archive_command` writes somewhere else"),
        "{}",
        drift.stdout
    );
    // Paging on configuration drift only: health findings alone exit 0.
    dbops.run(&["drift", "--fail-on", "drift"]).expect_code(0);
    dbops.run(&["drift", "--fail-on", "health"]).expect_code(2);

    // The segment lands where WAL-G puts it: healthy.
    client.put("db-backups", &format!("prod/wal_005/{segment}.lz4"));
    let drift = dbops.run(&["drift"]);
    assert_eq!(drift.code, 0, "{}", drift.stdout);

    // Past the grace period (shortened now rather than waited for, so a slow
    // machine cannot end it early above), only evidence that parses and
    // passed counts: not a folder name, not an empty object, not a failed
    // test, not a date in the future.
    dbops.write_config(&config("tool = \"wal-g\"\nrpo = \"5m\"\nmax_base_backup_age = \"1h\"\nrestore_test_max_age = \"35d\"\nrestore_test_grace = \"1s\"\n"));
    std::thread::sleep(Duration::from_secs(2));
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let today = &now[..10];
    client.put(
        "db-backups",
        &format!("prod/restore-tests/{today}/evidence.txt"),
    );
    client.put(
        "db-backups",
        &format!("prod/restore-tests/{today}/000001Z/evidence.json"),
    );
    client.put_body(
        "db-backups",
        &format!("prod/restore-tests/{today}/000002Z/evidence.json"),
        &evidence(false, &now),
    );
    client.put_body(
        "db-backups",
        "prod/restore-tests/2099-01-01/000000Z/evidence.json",
        &evidence(true, "2099-01-01T00:00:00Z"),
    );
    let drift = dbops.run(&["drift"]);
    drift.expect_code(2);
    // The failed test is the newest: it stands until a later one passes.
    assert!(
        drift
            .stdout
            .contains("! backup.health.restore_test: the newest restore test failed"),
        "{}",
        drift.stdout
    );
    assert!(drift.stdout.contains("no passing restore-test evidence under `prod/restore-tests/`, and the first full backup is older than the grace period (1s)"), "{}", drift.stdout);
    assert!(drift.stdout.contains("evidence folder `prod/restore-tests/2099-01-01/` is dated in the future and does not count"), "{}", drift.stdout);

    // A passing test today counts; the future folder is still named until
    // removed. Without `evidence_key`, drift says the evidence is
    // unauthenticated (a note, not a finding).
    client.put_body(
        "db-backups",
        &format!("prod/restore-tests/{today}/000003Z/evidence.json"),
        &evidence(true, &now),
    );
    let drift = dbops.run(&["drift"]);
    assert!(
        !drift.stdout.contains("no passing restore-test evidence"),
        "{}",
        drift.stdout
    );
    assert!(
        drift
            .stdout
            .contains("note: restore-test evidence is unauthenticated"),
        "{}",
        drift.stdout
    );

    // Forged evidence, newer than the real one, does not count and is named:
    // one that says it passed with the RTO blown and no backup the catalogue
    // holds. The real evidence still counts.
    let mut forged: serde_json::Value = serde_json::from_slice(&evidence(true, &now)).unwrap();
    forged["rto_met"] = false.into();
    client.put_body(
        "db-backups",
        &format!("prod/restore-tests/{today}/000004Z/evidence.json"),
        forged.to_string().as_bytes(),
    );
    forged["rto_met"] = true.into();
    forged["backup"]["name"] = "base_0000000100000000000000FF".into();
    client.put_body(
        "db-backups",
        &format!("prod/restore-tests/{today}/000005Z/evidence.json"),
        forged.to_string().as_bytes(),
    );
    let drift = dbops.run(&["drift"]);
    for wanted in [
        "000004Z/evidence.json` does not count: it says it passed, but it does not record that the restore met the RTO",
        "000005Z/evidence.json` does not count: it names backup `base_0000000100000000000000FF`, which the backup tool's catalogue does not hold",
    ] {
        assert!(drift.stdout.contains(wanted), "{wanted}\n{}", drift.stdout);
    }
    assert!(
        !drift.stdout.contains("no passing restore-test evidence"),
        "{}",
        drift.stdout
    );
    for key in ["000004Z", "000005Z"] {
        client
            .block(
                client
                    .s3
                    .delete_object()
                    .bucket("db-backups")
                    .key(format!("prod/restore-tests/{today}/{key}/evidence.json"))
                    .send(),
            )
            .unwrap();
    }
    client
        .block(
            client
                .s3
                .delete_object()
                .bucket("db-backups")
                .key("prod/restore-tests/2099-01-01/000000Z/evidence.json")
                .send(),
        )
        .unwrap();
    let drift = dbops.run(&["drift"]);
    assert_eq!(drift.code, 0, "{}", drift.stdout);
}

#[test]
fn pgbackrest_layout_health_finds_backups_in_backup_info_and_segments_by_name() {
    let (pg, s3) = (PgServer::start(), S3Server::moto());
    let dbops = dbops(
        &pg,
        &s3,
        &config("tool = \"pgbackrest\"\nrpo = \"5m\"\nstanza = \"main\"\nmax_base_backup_age = \"1h\"\n"),
    );
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    pg.restart();
    pg.sql_ok("CREATE TABLE t AS SELECT 1 AS x");
    let segment = pg.sql_ok("SELECT pg_walfile_name(pg_switch_wal())");
    wait_archived(&pg, &segment);
    let client = s3.client();
    client.put("db-backups", "prod/archive/main/archive.info");
    // An old archive id, and the current one without the segment yet.
    client.put(
        "db-backups",
        &format!("prod/archive/main/14-1/{}/{segment}-abc.gz", &segment[..16]),
    );
    client.put(
        "db-backups",
        "prod/archive/main/15-2/0000000100000000/0000000100000000000000F0-abc.gz",
    );
    let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let label = format!(
        "{}-{}F",
        stamp[..10].replace('-', ""),
        stamp[11..19].replace(':', "")
    );
    client.put(
        "db-backups",
        &format!("prod/backup/main/{label}/backup.manifest"),
    );
    client.put(
        "db-backups",
        &format!("prod/backup/main/{label}_20991231-000000I/backup.manifest"),
    );
    // Only what backup.info lists counts: a folder alone is a backup that
    // has not completed (yet).
    client.put("db-backups", "prod/backup/main/backup.info");
    let drift = dbops.run(&["drift"]);
    assert!(
        drift.stdout.contains(
            "! backup.health.base_backup: no full backup found under `prod/backup/main/`"
        ),
        "{}",
        drift.stdout
    );
    let stop = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    client.put_body(
        "db-backups",
        "prod/backup/main/backup.info",
        format!(
            "[backrest]\nbackrest-format=5\n\n[backup:current]\n{label}={{\"backup-timestamp-start\":{},\"backup-timestamp-stop\":{stop},\"backup-type\":\"full\"}}\n{label}_20991231-000000I={{\"backup-timestamp-stop\":{stop},\"backup-type\":\"incr\"}}\n\n[db]\ndb-id=1\n",
            stop - 5
        )
        .as_bytes(),
    );
    let drift = dbops.run(&["drift"]);
    assert_eq!(drift.code, 2, "{}", drift.stderr);
    assert!(drift.stdout.contains(&format!("! backup.health.wal: the server archived `{segment}`, but the bucket has no such segment under `prod/archive/main/`")), "{}", drift.stdout);
    assert!(!drift.stdout.contains("base_backup"), "{}", drift.stdout);

    client.put(
        "db-backups",
        &format!("prod/archive/main/15-2/{}/{segment}-def.gz", &segment[..16]),
    );
    let drift = dbops.run(&["drift"]);
    assert_eq!(drift.code, 0, "{}", drift.stdout);
}

#[test]
fn a_failing_archiver_and_unarchived_writes_are_findings_and_an_idle_server_is_not() {
    let pg = PgServer::start();
    let s3 = S3Server::moto();
    let archive = pg.writable_dir("archive");
    let config = config(&format!(
        "tool = \"wal-g\"\nrpo = \"5m\"\nmax_wal_age = \"3s\"\nmax_base_backup_age = \"1h\"\narchive_command = \"test ! -f {dir}/%f && cp %p {dir}/%f && touch {dir}/done\"\n",
        dir = archive.display()
    ))
    .replace("archive_command = \"true\"\n", "");
    let dbops = dbops(&pg, &s3, &config);
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    pg.restart();
    let client = s3.client();
    client.put(
        "db-backups",
        "prod/basebackups_005/base_000000010000000000000002_backup_stop_sentinel.json",
    );

    // Archive one segment, mirror it into the bucket, then stay idle.
    pg.sql_ok("CREATE TABLE t AS SELECT 1 AS x");
    let segment = pg.sql_ok("SELECT pg_walfile_name(pg_switch_wal())");
    wait_archived(&pg, &segment);
    client.put("db-backups", &format!("prod/wal_005/{segment}.lz4"));
    std::thread::sleep(Duration::from_secs(4));
    let drift = dbops.run(&["drift"]);
    assert_eq!(
        drift.code, 0,
        "an idle server is healthy:\n{}",
        drift.stdout
    );

    // A restart writes a shutdown checkpoint past the archived segment: still quiet.
    pg.restart();
    let last = pg.sql_ok("SELECT last_archived_wal FROM pg_stat_archiver");
    client.put("db-backups", &format!("prod/wal_005/{last}.lz4"));
    std::thread::sleep(Duration::from_secs(4));
    let drift = dbops.run(&["drift"]);
    assert_eq!(
        drift.code, 0,
        "a restarted idle server is healthy:\n{}",
        drift.stdout
    );

    // Writes that are not archived within the threshold are stale.
    pg.sql_ok("INSERT INTO t SELECT generate_series(1, 1000)");
    std::thread::sleep(Duration::from_secs(4));
    let drift = dbops.run(&["drift", "--format", "json"]);
    drift.expect_code(2);
    let document: serde_json::Value = serde_json::from_str(&drift.stdout).unwrap();
    let wal = &document["findings"][0];
    assert_eq!(wal["address"], "backup.health.wal", "{}", drift.stdout);
    assert!(
        wal["message"]
            .as_str()
            .unwrap()
            .contains(&format!("WAL written since segment `{last}` was archived")),
        "{}",
        drift.stdout
    );
    assert_eq!(wal["details"]["threshold_seconds"], 3);
    assert!(wal["details"]["age_seconds"].as_u64().unwrap() >= 3);

    // The archive destination becomes unwritable: the archiver fails.
    crate::support::run_checked(
        std::process::Command::new("chmod")
            .arg("0500")
            .arg(&archive),
    );
    let next = pg.sql_ok("SELECT pg_walfile_name(pg_switch_wal())");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while pg.sql_ok("SELECT failed_count FROM pg_stat_archiver") == "0" {
        assert!(
            std::time::Instant::now() < deadline,
            "archiving {next} never failed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let drift = dbops.run(&["drift", "--format", "json"]);
    drift.expect_code(2);
    let document: serde_json::Value = serde_json::from_str(&drift.stdout).unwrap();
    let archiver = document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["address"] == "backup.health.archiver")
        .unwrap_or_else(|| panic!("no archiver finding: {}", drift.stdout));
    assert!(
        archiver["message"]
            .as_str()
            .unwrap()
            .starts_with("archiving is failing: `archive_command` failed"),
        "{}",
        drift.stdout
    );
    assert_eq!(archiver["details"]["segment"], next.as_str());
    assert!(archiver["details"]["failed_count"].as_i64().unwrap() >= 1);
    crate::support::run_checked(
        std::process::Command::new("chmod")
            .arg("0700")
            .arg(&archive),
    );
}

/// A file with `[backup]` plus `extra`, and `rules` as its lifecycle.
fn lint_config(tool: &str, rules: &str, extra: &str) -> String {
    format!(
        r#"[postgres]
admin = {{ env = "DATABASE_ROOT_URL" }}

[bucket.db-backups]
endpoint = {{ env = "BACKUP_S3_ENDPOINT" }}
access_key_id = {{ env = "BACKUP_AWS_ACCESS_KEY_ID" }}
secret_access_key = {{ env = "BACKUP_AWS_SECRET_ACCESS_KEY" }}
block_public_access = true
{rules}
[backup]
tool = "{tool}"
rpo = "5m"
bucket = "db-backups"
prefix = "prod"
{extra}
"#
    )
}

fn validate(config: &str) -> crate::support::Output {
    Dbops::new(config)
        .env(
            "DATABASE_ROOT_URL",
            "postgres://postgres:pw@127.0.0.1:1/postgres",
        )
        .env("BACKUP_S3_ENDPOINT", "http://127.0.0.1:1")
        .env("BACKUP_AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("BACKUP_AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .run(&["validate"])
}

fn rule(prefix: &str, body: &str) -> String {
    format!("\n[[bucket.db-backups.lifecycle]]\nid = \"r\"\nprefix = \"{prefix}\"\n{body}\n")
}

#[test]
fn retention_cross_checks_are_reported_before_connecting() {
    let retention = "[backup.retention]\ndaily = 7\nweekly = 4\nwal_days = 30\n";
    let refused = |tool: &str, rules: &str, extra: &str, message: &str| {
        let out = validate(&lint_config(tool, rules, extra));
        out.expect_code(1);
        assert!(
            out.stderr.contains(message),
            "{message}\nnot in\n{}",
            out.stderr
        );
    };
    // WAL expired before `wal_days`.
    refused(
        "pgbackrest",
        &rule("prod/archive/", "expire_after_days = 10"),
        retention,
        "lifecycle rule `r` expires WAL after 10d, but `wal_days = 30` promises point-in-time recovery that far back",
    );
    // WAL-G: exactly the span leaves no margin for one failed nightly backup.
    refused(
        "wal-g",
        &rule("prod/wal_005/", "expire_after_days = 30"),
        retention,
        "lifecycle rule `r` expires WAL after 30d, but full backups are kept up to 31d",
    );
    // Archive classes that need a restore request: the RTO cannot hold.
    refused(
        "wal-g",
        &format!(
            "{}{}",
            rule("prod/wal_005/", "expire_after_days = 40\ntransition_after_days = 1\ntransition_storage_class = \"GLACIER\""),
            rule("prod/basebackups_005/", "transition_after_days = 2\ntransition_storage_class = \"DEEP_ARCHIVE\"").replace("id = \"r\"", "id = \"cold\"")
        ),
        retention,
        "lifecycle rule `r` moves WAL to `GLACIER` after 1d: neither backup tool can read it without a restore request that takes hours, so the RTO cannot hold",
    );
    refused(
        "wal-g",
        &rule(
            "prod/basebackups_005/",
            "transition_after_days = 2\ntransition_storage_class = \"DEEP_ARCHIVE\"",
        ),
        retention,
        "moves full backups to `DEEP_ARCHIVE` after 2d",
    );
    // Evidence expiring before drift would look for it.
    refused(
        "wal-g",
        &rule("prod/restore-tests/", "expire_after_days = 20"),
        &format!("restore_test_max_age = \"35d\"\n{retention}"),
        "expires restore-test evidence after 20d, sooner than `restore_test_max_age` (35d)",
    );
    // GLACIER_IR is readable at once: fine.
    let ok = validate(&lint_config(
        "wal-g",
        &rule("prod/", "expire_after_days = 60\ntransition_after_days = 1\ntransition_storage_class = \"GLACIER_IR\""),
        retention,
    ));
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    // The old keys keep working, with a deprecation warning naming the replacement.
    let old = validate(&lint_config(
        "wal-g",
        &rule("prod/", "expire_after_days = 60"),
        "full_backups = 7\nfull_backup_interval = \"1d\"\nwal_days = 30",
    ));
    assert_eq!(old.code, 0, "{}", old.stderr);
    assert!(old.stderr.contains("`backup.full_backups` is deprecated; write `[backup.retention]` with `daily = 7`, `weekly = 0`, `monthly = 0` and `wal_days = 30`"), "{}", old.stderr);
    // Both forms at once: which one wins would be a guess.
    refused(
        "wal-g",
        "",
        &format!("full_backups = 7\n{retention}"),
        "key `backup.full_backups`: cannot be combined with `[backup.retention]`",
    );
}

#[test]
fn pgbackrest_archives_and_backs_up_for_real_through_tls_and_drift_sees_it() {
    // apply (with the restart archiving needs) happened in `stack()`.
    let stack = crate::restore_test::stack();
    assert_eq!(stack.pg.sql_ok("SHOW archive_mode"), "on");
    let rendered = std::fs::read_to_string(&stack.conf).unwrap();
    assert!(
        rendered.contains("repo1-s3-endpoint=localhost\nrepo1-storage-port="),
        "{rendered}"
    );
    // The real tool, with the rendered file alone, against the real server,
    // through TLS, into the bucket dbops made.
    stack.pgbackrest("stanza-create");
    stack.pgbackrest("check");
    stack.pgbackrest("backup");
    let archived: i64 = stack
        .pg
        .sql_ok("SELECT archived_count FROM pg_stat_archiver")
        .parse()
        .unwrap();
    assert!(archived > 0);
    let drift = stack
        .dbops("")
        .env("BACKUP_SIDECAR_URL", &crate::restore_test::sidecar(&stack))
        .run(&["drift"]);
    assert_eq!(drift.code, 0, "{}\n{}", drift.stdout, drift.stderr);
    assert_no_keys(&drift.all());
}

/// The `archive_command` dbops derives archives on the configuration dbops
/// renders (`--config`), even when the server's environment names another
/// file (`PGBACKREST_CONFIG`, a decoy with a repository of its own): every
/// segment lands in dbops's repository, none in the decoy's.
#[test]
fn the_derived_archive_command_archives_on_dbops_configuration_not_the_environment() {
    let decoy_dir = tempfile::tempdir().unwrap();
    let decoy_repo = decoy_dir.path().join("repo");
    std::fs::create_dir_all(&decoy_repo).unwrap();
    crate::support::postgres::give_to_server_user(decoy_dir.path());
    let decoy = decoy_dir.path().join("decoy.conf");
    // Written before the stack exists, so the stanza is filled in below.
    let stack = {
        std::fs::write(&decoy, "[global]\n").unwrap();
        crate::restore_test::stack_with(
            None,
            &[("PGBACKREST_CONFIG", &decoy.display().to_string())],
            "",
        )
    };
    std::fs::write(
        &decoy,
        format!(
            "[global]\nrepo1-type=posix\nrepo1-path={}\nlog-level-file=off\n\n[{}]\npg1-path={}\n",
            decoy_repo.display(),
            stack.stanza,
            stack.pg.data_dir().display()
        ),
    )
    .unwrap();
    crate::support::postgres::give_to_server_user(decoy_dir.path());
    // The derived command names dbops's file.
    let command = stack.pg.sql_ok("SHOW archive_command");
    assert_eq!(
        command,
        format!(
            "pgbackrest --config={} --stanza={} archive-push %p",
            stack.conf.display(),
            stack.stanza
        )
    );
    // The server runs with the decoy in its environment.
    let pid = std::fs::read_to_string(stack.pg.data_dir().join("postmaster.pid"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    assert!(
        String::from_utf8_lossy(&environ)
            .contains(&format!("PGBACKREST_CONFIG={}", decoy.display())),
        "the server does not have the decoy in its environment"
    );
    stack.pgbackrest("stanza-create");
    let segment = stack.pg.sql_ok("SELECT pg_walfile_name(pg_switch_wal())");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while stack
        .pg
        .sql_ok("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
        < segment
    {
        assert!(
            std::time::Instant::now() < deadline,
            "{segment} was not archived: {}",
            stack
                .pg
                .sql_ok("SELECT last_failed_wal FROM pg_stat_archiver")
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let archived = stack
        .s3
        .client()
        .keys("db-backups", &format!("prod/archive/{}/", stack.stanza));
    assert!(
        archived.iter().any(|k| k.contains(&segment)),
        "{segment} is not in dbops's repository: {archived:?}"
    );
    let in_decoy: Vec<_> = walkdir(&decoy_repo);
    assert!(in_decoy.is_empty(), "the decoy received {in_decoy:?}");
}

fn walkdir(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// A full backup stopped halfway (SIGTERM) leaves a folder pgBackRest never
/// lists in backup.info: drift counts only the complete one (now older than
/// `max_base_backup_age`, a finding) and reports the dead one on its own.
#[test]
fn a_full_backup_killed_halfway_never_counts_and_is_reported() {
    let stack = crate::restore_test::stack_with(
        Some("pgbackrest --config={conf} --stanza={stanza} --log-level-file=off archive-push %p"),
        &[],
        "max_base_backup_age = \"2s\"\nincomplete_backup_grace = \"1s\"",
    );
    stack.pgbackrest("stanza-create");
    stack.pgbackrest("backup");
    let client = stack.s3.client();
    let prefix = format!("prod/backup/{}/", stack.stanza);
    let labels = |client: &crate::support::s3::Client| -> std::collections::BTreeSet<String> {
        client
            .keys("db-backups", &prefix)
            .into_iter()
            .filter_map(|k| {
                let rest = k.strip_prefix(&prefix)?;
                let (label, _) = rest.split_once('/')?;
                (label.len() >= 16 && label.as_bytes()[8] == b'-').then(|| label.to_string())
            })
            .collect()
    };
    let complete = labels(&client);
    assert_eq!(complete.len(), 1, "{complete:?}");
    // Some hundred MB that compress badly, so the next backup is still running.
    stack.pg.sql_ok(
        "CREATE TABLE filler AS SELECT g, (SELECT string_agg(md5(random()::text || g || i), '') FROM generate_series(1, 24) i) AS pad FROM generate_series(1, 250000) g",
    );
    let mut backup = stack
        .pgbackrest_command("backup")
        .process_group(0)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let dying = loop {
        let now = labels(&client);
        if let Some(new) = now.difference(&complete).next() {
            break new.clone();
        }
        assert!(
            backup.try_wait().unwrap().is_none(),
            "the backup ended before it could be stopped"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "the second backup never started writing"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    // SIGTERM to the backup's process group: pgBackRest and its workers.
    crate::support::stop_group(&mut backup);
    std::thread::sleep(std::time::Duration::from_secs(3));
    let info = client.get("db-backups", &format!("{prefix}backup.info"));
    assert!(
        !String::from_utf8_lossy(&info).contains(&dying),
        "the stopped backup completed: {}",
        String::from_utf8_lossy(&info)
    );
    let drift = stack
        .dbops("")
        .env("BACKUP_SIDECAR_URL", &crate::restore_test::sidecar(&stack))
        .run(&["drift", "--format", "json"]);
    drift.expect_code(2);
    let document: serde_json::Value = serde_json::from_str(&drift.stdout).unwrap();
    let findings = document["findings"].as_array().unwrap();
    let by_id = |id: &str| {
        findings
            .iter()
            .find(|f| f["id"] == id)
            .unwrap_or_else(|| panic!("no {id} in {}", drift.stdout))
    };
    let stale = by_id("backup.health.base_backup");
    assert_eq!(
        stale["details"]["object"],
        complete.iter().next().unwrap().as_str()
    );
    let incomplete = by_id("backup.health.incomplete_backup");
    assert_eq!(incomplete["details"]["object"], dying.as_str());
    assert_no_keys(&drift.all());
}

/// WAL-G lays a backup out as `basebackups_005/base_X/...` and writes its
/// stop sentinel last: a folder without one is a backup that never
/// completed, a finding once nothing was written to it for the grace.
#[test]
fn a_walg_backup_without_its_sentinel_is_incomplete() {
    let (pg, s3) = (PgServer::start(), S3Server::moto());
    let dbops = dbops(
        &pg,
        &s3,
        &config("tool = \"wal-g\"\nrpo = \"5m\"\nmax_base_backup_age = \"1h\"\nincomplete_backup_grace = \"1s\"\n"),
    );
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    pg.restart();
    let client = s3.client();
    client.put(
        "db-backups",
        "prod/basebackups_005/base_000000010000000000000002_backup_stop_sentinel.json",
    );
    client.put(
        "db-backups",
        "prod/basebackups_005/base_000000010000000000000002/tar_partitions/part_1.tar.lz4",
    );
    client.put(
        "db-backups",
        "prod/basebackups_005/base_000000010000000000000004/tar_partitions/part_1.tar.lz4",
    );
    std::thread::sleep(Duration::from_secs(2));
    let drift = dbops.run(&["drift", "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(&drift.stdout).unwrap();
    let ids: Vec<&str> = document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec!["backup.health.incomplete_backup"],
        "{}",
        drift.stdout
    );
    assert_eq!(
        document["findings"][0]["details"]["object"],
        "base_000000010000000000000004"
    );
}

/// The `backup.health.wal_chain` findings of a `drift --format json` run.
fn chain_findings(out: &crate::support::Output) -> Vec<serde_json::Value> {
    let document: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "backup.health.wal_chain")
        .cloned()
        .collect()
}

/// `drift --deep` proves the WAL chain from the oldest retained full backup
/// to the server's present: whole at first (a note), then one segment in
/// the middle deleted from the archive is a `backup.health.wal_chain`
/// finding naming it and the backup it cuts off; the default drift does not
/// list the archive.
#[test]
fn a_segment_missing_in_the_middle_of_the_archive_breaks_the_chain_and_names_the_backup() {
    let state_dir = tempfile::tempdir().unwrap();
    let state = state_dir.path().join("wal-chain.json");
    let stack = crate::restore_test::stack_with(
        Some("pgbackrest --config={conf} --stanza={stanza} --log-level-file=off archive-push %p"),
        &[],
        &format!("wal_chain_state = \"{}\"", state.display()),
    );
    let sidecar = crate::restore_test::sidecar(&stack);
    crate::restore_test::backup_with_a_target(&stack);
    let label = {
        let info =
            crate::support::run_checked(stack.pgbackrest_command("info").arg("--output=json"));
        let document: serde_json::Value = serde_json::from_str(&info).unwrap();
        document[0]["backup"][0]["label"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // A few more segments after the backup, all archived.
    let mut last = String::new();
    for i in 0..3 {
        stack
            .pg
            .sql("shop", &format!("INSERT INTO orders VALUES ({})", 10 + i));
        last = stack.pg.sql_ok("SELECT pg_walfile_name(pg_switch_wal())");
    }
    wait_archived(&stack.pg, &last);
    let dbops = stack.dbops("").env("BACKUP_SIDECAR_URL", &sidecar);
    let deep = dbops.run(&["drift", "--deep", "--format", "json"]);
    assert!(chain_findings(&deep).is_empty(), "{}", deep.stdout);
    let text = dbops.run(&["drift", "--deep"]);
    assert!(
        text.stdout.contains("the WAL chain is whole"),
        "{}",
        text.stdout
    );
    let watermark: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    let through = watermark["verified_through"].as_str().unwrap().to_string();

    // With the watermark, a plain drift lists only what was archived since:
    // a constant number of requests, whatever the archive holds.
    let chain_requests = || {
        let out = dbops.run(&["drift", "--log-format", "json"]);
        out.stderr
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|e| e["event"] == "backup.health.read")
            .map(|e| e["details"]["wal_chain_s3_requests"].as_u64().unwrap())
            .unwrap()
    };
    for i in 0..2 {
        stack
            .pg
            .sql("shop", &format!("INSERT INTO orders VALUES ({})", 20 + i));
        last = stack.pg.sql_ok("SELECT pg_walfile_name(pg_switch_wal())");
    }
    wait_archived(&stack.pg, &last);
    assert!(chain_requests() <= 3);
    let watermark: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert!(
        watermark["verified_through"].as_str().unwrap() > through.as_str(),
        "{watermark}"
    );

    // Delete the segment before the last one: inside the chain.
    let client = stack.s3.client();
    let keys = client.keys("db-backups", &format!("prod/archive/{}/", stack.stanza));
    let mut segments: Vec<&String> = keys
        .iter()
        .filter(|k| {
            let name = k.rsplit('/').next().unwrap();
            name.len() > 24
                && name[..24].bytes().all(|b| b.is_ascii_hexdigit())
                && !name.contains(".backup")
        })
        .collect();
    segments.sort();
    let victim = segments[segments.len() - 2].clone();
    let name = victim.rsplit('/').next().unwrap()[..24].to_string();
    client.delete("db-backups", &victim);
    let deep = dbops.run(&["drift", "--deep", "--format", "json"]);
    let found = chain_findings(&deep);
    assert_eq!(found.len(), 1, "{}", deep.stdout);
    assert_eq!(found[0]["details"]["first_missing"], name.as_str());
    assert_eq!(found[0]["details"]["backups_cut_off"][0], label.as_str());
    assert!(
        found[0]["message"].as_str().unwrap().contains(&format!(
            "full backup(s) `{label}` cannot be restored past it"
        )),
        "{}",
        deep.stdout
    );
    // A segment lost behind the watermark is found by `--deep` only (the
    // watermark does not move past a gap); one lost after it, by every run.
    let shallow = dbops.run(&["drift", "--format", "json"]);
    assert!(chain_findings(&shallow).is_empty(), "{}", shallow.stdout);
    stack.pg.sql("shop", "INSERT INTO orders VALUES (30)");
    let lost = stack.pg.sql_ok("SELECT pg_walfile_name(pg_switch_wal())");
    std::thread::sleep(Duration::from_millis(1100));
    // A point after the gaps, with a commit after it (order 31).
    let after_gap = stack
        .pg
        .sql_ok("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')");
    std::thread::sleep(Duration::from_millis(1100));
    stack.pg.sql("shop", "INSERT INTO orders VALUES (31)");
    let newest = stack.pg.sql_ok("SELECT pg_walfile_name(pg_switch_wal())");
    wait_archived(&stack.pg, &newest);
    let key = client
        .keys("db-backups", &format!("prod/archive/{}/", stack.stanza))
        .into_iter()
        .find(|k| k.rsplit('/').next().unwrap().starts_with(&lost))
        .unwrap();
    client.delete("db-backups", &key);
    let shallow = dbops.run(&["drift", "--format", "json"]);
    let found = chain_findings(&shallow);
    assert_eq!(found.len(), 1, "{}", shallow.stdout);
    assert_eq!(found[0]["details"]["first_missing"], lost.as_str());

    // As predicted: from that backup, no point after the gap restores,
    // and replay to `latest` stops short of the archive's end.
    let drills = stack
        .dbops(&crate::restore_test::restore_test(&stack.work, "", ""))
        .env("BACKUP_SIDECAR_URL", &sidecar);
    let out = drills.run(&["restore-test", "--target-time", &after_gap]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("recovery ended before")
            || out.stderr.contains("recovery ended before"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    let out = drills.run(&["restore-test"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains(&format!("short of the newest archived segment `{newest}`")),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    stack.assert_clean();
}

/// A real timeline switch (the server restarted into archive recovery and
/// promoted onto timeline 2, as after a failover or a point-in-time
/// restore) is followed through its `.history` file; that file lost from
/// the archive, and then the archive taken over by another cluster
/// (`archive.info` and an archive directory of another system identifier,
/// laid out as pgBackRest lays them), are each a `backup.health.wal_chain`
/// finding.
#[test]
fn a_timeline_switch_is_followed_and_a_lost_history_file_or_a_foreign_archive_is_found() {
    let stack = crate::restore_test::stack_with(
        Some("pgbackrest --config={conf} --stanza={stanza} --log-level-file=off archive-push %p"),
        &[],
        "",
    );
    let sidecar = crate::restore_test::sidecar(&stack);
    crate::restore_test::backup_with_a_target(&stack);
    let restore_command = format!(
        "pgbackrest --config={} --stanza={} --log-level-file=off archive-get %f \"%p\"",
        stack.conf.display(),
        stack.stanza
    );
    let data = stack.pg.data_dir();
    crate::restore_test::with_server_stopped(&stack.pg, || {
        std::fs::write(data.join("recovery.signal"), "").unwrap();
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.auto.conf"))
            .unwrap();
        std::io::Write::write_all(
            &mut conf,
            format!(
                "restore_command = '{}'\n",
                restore_command.replace('\'', "''")
            )
            .as_bytes(),
        )
        .unwrap();
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while stack.pg.sql_ok("SELECT pg_is_in_recovery()") == "t" {
        assert!(std::time::Instant::now() < deadline, "never promoted");
        std::thread::sleep(Duration::from_millis(200));
    }
    stack.pg.sql("shop", "INSERT INTO orders VALUES (40)");
    let last = stack.pg.sql_ok("SELECT pg_walfile_name(pg_switch_wal())");
    assert!(last.starts_with("00000002"), "{last}");
    wait_archived(&stack.pg, &last);
    let client = stack.s3.client();
    let archive = format!("prod/archive/{}/", stack.stanza);
    let history = client
        .keys("db-backups", &archive)
        .into_iter()
        .find(|k| k.ends_with("00000002.history"))
        .expect("the switch archived its history file");

    let dbops = stack.dbops("").env("BACKUP_SIDECAR_URL", &sidecar);
    let chain = |out: &crate::support::Output| -> Vec<String> {
        chain_findings(out)
            .iter()
            .map(|f| f["message"].as_str().unwrap().to_string())
            .collect()
    };
    let whole = dbops.run(&["drift", "--deep", "--format", "json"]);
    assert!(chain(&whole).is_empty(), "{}", whole.stdout);
    let text = dbops.run(&["drift", "--deep"]);
    assert!(
        text.stdout.contains("the WAL chain is whole"),
        "{}",
        text.stdout
    );

    // The history file lost: a restore cannot follow the switch.
    let body = client.get("db-backups", &history);
    client.delete("db-backups", &history);
    let lost = dbops.run(&["drift", "--deep", "--format", "json"]);
    assert_eq!(
        chain(&lost),
        ["the archive lacks `00000002.history`: a restore cannot follow the timeline switch it records"],
        "{}",
        lost.stdout
    );
    client.put_body("db-backups", &history, &body);

    // Another cluster's archive laid over production's, as pgBackRest
    // lays one out (`archive.info` naming it, its own archive directory).
    let info_key = format!("{archive}archive.info");
    let info = String::from_utf8(client.get("db-backups", &info_key)).unwrap();
    let ours = info
        .lines()
        .find_map(|l| l.strip_prefix("db-system-id="))
        .unwrap()
        .to_string();
    let foreign = "7000000000000000001";
    assert_ne!(ours, foreign);
    let laid = info.replace("db-id=1", "db-id=2").replace(
        &format!("db-system-id={ours}"),
        &format!("db-system-id={foreign}"),
    );
    for key in [info_key.clone(), format!("{info_key}.copy")] {
        client.put_body("db-backups", &key, laid.as_bytes());
    }
    client.put_body(
        "db-backups",
        &format!("{archive}15-2/0000000100000000/000000010000000000000001-0000000000000000000000000000000000000000.gz"),
        b"another cluster's segment",
    );
    let taken = dbops.run(&["drift", "--deep", "--format", "json"]);
    let found = chain(&taken);
    assert!(
        found.iter().any(|m| m.contains(&format!(
            "the archive belongs to another cluster: its system identifier is {foreign}, not the server's"
        ))),
        "{}",
        taken.stdout
    );
}
