//! Trust at the edges, each a regression test of a review finding: the admin
//! role is untouchable, hostile values never echo, reads are bounded, mistakes
//! are caught at plan rather than at apply, old secrets in files dbops takes
//! over are never printed, and an interrupted apply says what it means.

use std::time::{Duration, Instant};

use crate::support::deployment::{standard_config, Deployment};
use crate::support::s3::{dbops as s3_dbops, S3Server};
use crate::support::{Dbops, PgServer};

fn unreachable_admin(config: &str) -> Dbops {
    Dbops::new(config).env(
        "DATABASE_ROOT_URL",
        "postgres://postgres:pw@127.0.0.1:1/postgres",
    )
}

const BASE: &str = "[postgres]\nadmin = { env = \"DATABASE_ROOT_URL\" }\n";

// 1. The admin role.

#[test]
fn the_admin_dsns_user_cannot_be_a_managed_role() {
    let out = unreachable_admin(&format!(
        "{BASE}\n[roles.postgres]\nsuperuser = true\npassword = {{ env = \"OTHER\" }}\n"
    ))
    .env("OTHER", "rotated admin")
    .run(&["validate"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("role `postgres` is the admin user of `$DATABASE_ROOT_URL`; dbops connects as the admin and never manages it"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_bootstrap_superuser_is_never_demoted_or_locked() {
    let server = PgServer::start();
    server.sql_ok("CREATE ROLE dba SUPERUSER LOGIN PASSWORD 'dba pw'");
    let dbops = Dbops::new(&format!(
        "{BASE}\n[roles.postgres]\nlogin = false\nsuperuser = false\n"
    ))
    .env(
        "DATABASE_ROOT_URL",
        &server.url("dba", "dba pw", "postgres"),
    );
    for command in [&["plan"][..], &["apply", "--auto-approve"][..]] {
        let out = dbops.run(command);
        out.expect_code(1);
        assert!(
            out.stderr.contains("role `postgres` is the bootstrap superuser (the role `initdb` created); dbops never demotes or locks it: `superuser = false` would demote it, `login = false` would lock it out"),
            "{}",
            out.stderr
        );
    }
    assert_eq!(
        server.sql_ok("SELECT rolsuper AND rolcanlogin FROM pg_roles WHERE oid = 10"),
        "t"
    );
}

#[test]
fn a_plan_that_leaves_no_superuser_that_can_log_in_is_refused() {
    let server = PgServer::start();
    server.sql_ok("CREATE ROLE su2 SUPERUSER LOGIN PASSWORD 'su2 pw'");
    server.sql_ok("CREATE ROLE provisioner CREATEROLE LOGIN PASSWORD 'prov pw'");
    // su2 is now the only superuser that can log in.
    server
        .try_sql_as("su2", "su2 pw", "postgres", "ALTER ROLE postgres NOLOGIN")
        .unwrap();
    let out = Dbops::new(&format!(
        "{BASE}\n[roles.su2]\nsuperuser = false\nlogin = true\n"
    ))
    .env(
        "DATABASE_ROOT_URL",
        &server.url("provisioner", "prov pw", "postgres"),
    )
    .run(&["plan"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains(
            "the plan would leave the cluster without a superuser that can log in (today: `su2`)"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn the_pooler_admin_user_cannot_be_an_application_role() {
    let out = unreachable_admin(&format!(
        "{BASE}\n[roles.app_user]\npassword = {{ env = \"P\" }}\n\n[pooler]\nconfig_file = \"/tmp/x/pgbouncer.ini\"\nauth_file = \"/tmp/x/userlist.txt\"\nlisten_addr = \"127.0.0.1\"\nadmin_console = \"localhost\"\nadmin_user = \"app_user\"\nadmin_password = {{ env = \"P\" }}\n"
    ))
    .env("P", "pw")
    .run(&["validate"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("key `pooler.admin_user`: `app_user` is a role dbops manages"),
        "{}",
        out.stderr
    );
}

// 6. Smaller leaks and crashes.

#[test]
fn no_secret_value_is_echoed_whatever_its_type() {
    for value in [
        "918273645",
        "true",
        "91827.3645",
        "[\"918273645\"]",
        "1979-05-27T07:32:00Z",
    ] {
        let out = unreachable_admin(&format!("{BASE}\n[roles.app]\npassword = {value}\n"))
            .run(&["validate"]);
        out.expect_code(1);
        assert!(
            out.stderr
                .contains("key `roles.app.password`: expected a secret reference"),
            "{}",
            out.stderr
        );
        for fragment in ["918273645", "91827", "1979-05-27"] {
            assert!(
                !out.stderr.contains(fragment),
                "{value} echoed:\n{}",
                out.stderr
            );
        }
    }
}

#[test]
fn no_part_of_a_dsn_is_ever_echoed() {
    for admin in [
        "appuser:s3cret-pw@db.internal/app",
        "app_user:s3cret-pw@db.internal/app",
    ] {
        let out = Dbops::new(BASE)
            .env("DATABASE_ROOT_URL", admin)
            .run(&["validate"]);
        out.expect_code(1);
        for fragment in ["appuser", "app_user", "s3cret", "db.internal"] {
            assert!(!out.stderr.contains(fragment), "{}", out.stderr);
        }
        assert!(
            out.stderr
                .contains("key `postgres.admin`: the DSN in `$DATABASE_ROOT_URL` is not"),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn durations_and_counts_are_range_checked_never_a_panic() {
    for (backup, expected) in [
        (
            "rpo = \"10000000000000000000s\"",
            "key `backup.rpo`: `10000000000000000000s` is longer than the 100 years dbops accepts",
        ),
        (
            "rpo = \"99999999999999999999999999s\"",
            "key `backup.rpo`: `99999999999999999999999999s` is not a duration",
        ),
        ("rpo = \"0s\"", "key `backup.rpo`: `0s` is zero"),
        (
            "rpo = \"5m\"\nmax_wal_age = \"9999999999999999d\"",
            "key `backup.max_wal_age`",
        ),
        (
            "rpo = \"5m\"\nfull_backups = 0",
            "key `backup.full_backups`: must keep at least one full backup",
        ),
        (
            "rpo = \"5m\"\nfull_backups = 99999999999",
            "key `backup.full_backups`",
        ),
    ] {
        let out = unreachable_admin(&format!("{BASE}\n[backup]\n{backup}\n")).run(&["validate"]);
        assert_eq!(out.code, 1, "{backup}:\n{}", out.stderr);
        assert!(
            out.stderr.contains(expected),
            "`{expected}` missing:\n{}",
            out.stderr
        );
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    }
}

#[test]
fn secret_files_must_be_small_regular_files_and_never_hang() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let big = dir.path().join("big");
    std::fs::write(&big, vec![b'x'; 70 * 1024]).unwrap();
    let target = dir.path().join("target");
    std::fs::write(&target, "through a link\n").unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    for (path, expected) in [
        (fifo.as_path(), "it is a FIFO, not a regular file"),
        (
            std::path::Path::new("/dev/zero"),
            "it is a device, not a regular file",
        ),
        (big.as_path(), "it is larger than 64 KiB"),
    ] {
        let started = Instant::now();
        let mut dbops = unreachable_admin(&format!(
            "{BASE}\n[roles.app]\npassword = {{ file = \"{}\" }}\n",
            path.display()
        ));
        dbops.timeout = Duration::from_secs(20);
        let out = dbops.run(&["validate"]);
        out.expect_code(1);
        assert!(
            out.stderr.contains(expected),
            "`{expected}` missing:\n{}",
            out.stderr
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }
    // Docker and Kubernetes mount secrets through links: those are followed.
    unreachable_admin(&format!(
        "{BASE}\n[roles.app]\npassword = {{ file = \"{}\" }}\n",
        link.display()
    ))
    .run(&["validate"])
    .expect_code(0);
}

// 7. Caught at plan, not at apply.

#[test]
fn reserved_names_cycles_and_template_databases_are_refused_by_validate() {
    for (extra, expected) in [
        ("[roles.public]\n", "role `public`: `public` is reserved in SQL and cannot be a role name"),
        (
            "[roles.a]\nmember_of = [\"b\"]\n[roles.b]\nmember_of = [\"c\"]\n[roles.c]\nmember_of = [\"a\"]\n",
            "role memberships form a cycle: `a` -> `b` -> `c` -> `a`",
        ),
        ("[databases.template0]\n", "`template0` is a template database; dbops does not manage it"),
        ("[roles.owner]\n[databases.template1]\nowner = \"owner\"\n", "`template1` is a template database"),
    ] {
        let out = unreachable_admin(&format!("{BASE}\n{extra}")).run(&["validate"]);
        out.expect_code(1);
        assert!(out.stderr.contains(expected), "`{expected}` missing:\n{}", out.stderr);
    }
}

#[test]
fn membership_in_a_superuser_role_is_a_warning() {
    let d = Deployment::with_config(&format!(
        "{}\n[roles.reporting]\nmember_of = [\"postgres\"]\n",
        standard_config()
    ));
    let plan = d.plan();
    plan.expect_code(2);
    assert!(
        plan.stdout.contains("warning: role `reporting` is a member of `postgres`, a superuser: it can `SET ROLE postgres` and act as a superuser"),
        "{}",
        plan.stdout
    );
}

// 8. Messages.

#[test]
fn a_duplicate_table_names_the_key() {
    let out = unreachable_admin(&format!(
        "{BASE}\n[roles.app_user]\nlogin = true\n\n[roles.app_user]\nlogin = false\n"
    ))
    .run(&["validate"]);
    out.expect_code(1);
    assert!(out.stderr.contains("dbops.toml:7:"), "{}", out.stderr);
    assert!(out.stderr.contains("`app_user`"), "{}", out.stderr);
}

#[test]
fn a_stale_plan_says_a_secret_now_implies_other_changes() {
    let mut d = Deployment::new();
    d.apply();
    d.dbops.run(&["plan", "--out", "tfplan"]).expect_code(0);
    d.set_app_password("a new password after the plan was saved");
    let out = d.dbops.run(&["apply", "tfplan"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("refusing to apply the saved plan `tfplan`: the changes differ from the saved ones (a secret the file references changed"),
        "{}",
        out.stderr
    );
}

#[test]
fn sigterm_during_the_role_transaction_rolls_back_and_exits_143() {
    let d = Deployment::new();
    d.apply();
    // Another session holds app_user's catalog row: dbops's ALTER ROLE waits,
    // inside its role transaction, until it is interrupted.
    let mut holder = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "printf 'BEGIN;\\nALTER ROLE app_user CONNECTION LIMIT 7;\\nSELECT pg_sleep(30);\\n' | PGPASSWORD='{}' psql -X -q -h 127.0.0.1 -p {} -U postgres -d postgres",
            crate::support::postgres::SUPERUSER_PASSWORD,
            d.server.port
        ))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while d
        .server
        .sql_ok("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'")
        != "1"
    {
        assert!(Instant::now() < deadline, "the holder never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    d.dbops
        .write_config(&standard_config().replace("connection_limit = 50", "connection_limit = 60"));
    let child = d
        .dbops
        .command(&["apply", "--auto-approve"])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while d.server.sql_ok("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dbops' AND wait_event_type = 'Lock'") != "1" {
        assert!(Instant::now() < deadline, "dbops never waited on the lock");
        std::thread::sleep(Duration::from_millis(50));
    }
    unsafe { libc_kill(child.id() as i32, 15) };
    let out = child.wait_with_output().unwrap();
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(out.status.code(), Some(143));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: interrupted by SIGTERM: the role transaction was rolled back; run `dbops apply` again"),
        "{stderr}"
    );
    assert_eq!(
        d.server
            .sql_ok("SELECT rolconnlimit FROM pg_roles WHERE rolname = 'app_user'"),
        "50"
    );
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, signal: i32) -> i32;
}

// 3. No old secret is printed when dbops takes over a file.

#[test]
fn taking_over_a_walg_env_file_never_prints_what_it_held() {
    let pg = PgServer::start();
    let s3 = S3Server::moto();
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("walg.env");
    let old_secrets = [
        "old-aws-secret-9f8e7d",
        "old-libsodium-key-1a2b3c",
        "old-pg-password-4d5e6f",
    ];
    std::fs::write(
        &env_file,
        format!(
            "export AWS_SECRET_ACCESS_KEY={}\nWALG_LIBSODIUM_KEY={}\nPGPASSWORD={}\n# pasted by hand: {}\nAWS_REGION=eu-west-1\n",
            old_secrets[0], old_secrets[1], old_secrets[2], old_secrets[0]
        ),
    )
    .unwrap();
    let config = format!(
        "{BASE}\n[bucket.db-backups]\nendpoint = {{ env = \"BACKUP_S3_ENDPOINT\" }}\naccess_key_id = {{ env = \"BACKUP_AWS_ACCESS_KEY_ID\" }}\nsecret_access_key = {{ env = \"BACKUP_AWS_SECRET_ACCESS_KEY\" }}\ncreate = true\n\n[backup]\nrpo = \"5m\"\nbucket = \"db-backups\"\narchive_command = \"true\"\nenv_file = \"{}\"\n",
        env_file.display()
    );
    let dbops = s3_dbops(&pg, &s3, &config);
    let mut outputs = Vec::new();
    for format in ["text", "json", "markdown"] {
        let out = dbops.run(&["plan", "--format", format, "--out", "tfplan"]);
        out.expect_code(0);
        outputs.push(out.all());
        outputs.push(std::fs::read_to_string(dbops.path("tfplan")).unwrap());
    }
    outputs.push(dbops.run(&["drift"]).all());
    for output in &outputs {
        for secret in old_secrets {
            assert!(
                !output.contains(secret),
                "an old secret was printed:\n{output}"
            );
        }
    }
    assert!(
        outputs[0].contains("(line hidden: it may hold a secret)"),
        "{}",
        outputs[0]
    );
    assert!(
        outputs[0].contains("-AWS_REGION=eu-west-1"),
        "{}",
        outputs[0]
    );
}

#[test]
fn taking_over_a_pgbouncer_ini_never_prints_a_connection_string_password() {
    let pg = PgServer::start();
    let dir = pg.writable_dir("pgbouncer");
    std::fs::write(
        dir.join("pgbouncer.ini"),
        "[databases]\napp = host=db dbname=app password=old-db-password-7g8h\n[pgbouncer]\nlisten_port = 6432\n",
    )
    .unwrap();
    let config = format!(
        "{BASE}\n[roles.app_user]\ndsn = {{ env = \"DATABASE_URL\" }}\n\n[pooler]\nconfig_file = \"{dir}/pgbouncer.ini\"\nauth_file = \"{dir}/userlist.txt\"\nlisten_addr = \"127.0.0.1\"\nlisten_port = 6432\nreload = {{ command = \"true\" }}\n",
        dir = dir.display()
    );
    let dbops = Dbops::new(&config)
        .env("DATABASE_ROOT_URL", &pg.admin_url())
        .env("DATABASE_URL", "postgres://app_user:pw@127.0.0.1:6432/app");
    for format in ["text", "json", "markdown"] {
        let out = dbops.run(&["plan", "--format", format]);
        out.expect_code(0);
        assert!(!out.all().contains("old-db-password-7g8h"), "{}", out.all());
    }
}

#[test]
fn a_managed_file_that_is_a_symbolic_link_is_reported_not_read() {
    let pg = PgServer::start();
    let s3 = S3Server::moto();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("elsewhere.env");
    std::fs::write(&target, "AWS_SECRET_ACCESS_KEY=linked-secret-5j6k\n").unwrap();
    let env_file = dir.path().join("walg.env");
    std::os::unix::fs::symlink(&target, &env_file).unwrap();
    let config = format!(
        "{BASE}\n[bucket.db-backups]\nendpoint = {{ env = \"BACKUP_S3_ENDPOINT\" }}\naccess_key_id = {{ env = \"BACKUP_AWS_ACCESS_KEY_ID\" }}\nsecret_access_key = {{ env = \"BACKUP_AWS_SECRET_ACCESS_KEY\" }}\ncreate = true\n\n[backup]\nrpo = \"5m\"\nbucket = \"db-backups\"\narchive_command = \"true\"\nenv_file = \"{}\"\n",
        env_file.display()
    );
    let dbops = s3_dbops(&pg, &s3, &config);
    for command in [
        &["plan"][..],
        &["apply", "--auto-approve"][..],
        &["drift"][..],
    ] {
        let out = dbops.run(command);
        out.expect_code(1);
        assert!(
            out.stderr.contains(&format!(
                "`{}` (backup.file.walg.env) is a symbolic link",
                env_file.display()
            )),
            "{}",
            out.stderr
        );
        assert!(!out.all().contains("linked-secret-5j6k"), "{}", out.all());
    }
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "AWS_SECRET_ACCESS_KEY=linked-secret-5j6k\n",
        "nothing was written through the link"
    );
}
