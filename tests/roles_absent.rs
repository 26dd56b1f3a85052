//! Roles that leave: `[roles.NAME] absent = true` against real PostgreSQL 15
//! and pgBouncer. A role that owns tables in two databases, receives the
//! migration role's default privileges and has an open session through the
//! pooler is refused without `reassign_to` (nothing changes), then dropped
//! with everything it held given away or revoked, its sessions ended and
//! its auth-file entry gone; the next plan is empty. Roles that merely
//! leave the file are named, never dropped; an upgraded deployment's first
//! plan shows no change for the marking.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::pooler::{config, pooled_url, Setup};
use crate::support::postgres::bindir;
use crate::support::{hostile_password, Dbops, PgServer};

const OLD_APP: &str = "\n[roles.old_app]\ndsn = { env = \"OLD_APP_URL\" }\n";
const MIGRATOR: &str = "\n[roles.migrator]\npassword = { env = \"MIGRATOR_PASSWORD\" }\n";

#[test]
fn an_absent_role_leaves_no_trace_or_is_refused_before_any_change() {
    let mut s = Setup::new();
    let old_password = hostile_password("old-app");
    s.dbops
        .set_env("OLD_APP_URL", &pooled_url(s.port, "old_app", &old_password));
    s.dbops
        .set_env("MIGRATOR_PASSWORD", &hostile_password("migrator"));
    let base = config(&s.dir, s.port, "default_pool_size = 5");
    s.dbops.write_config(&format!("{base}{MIGRATOR}{OLD_APP}"));
    s.dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    let bouncer = s.start_bouncer();

    // What the role holds: a table in each of two databases, the migration
    // role's default privileges, a session through the pooler.
    s.pg.sql_ok("CREATE DATABASE shop");
    for database in ["app", "shop"] {
        s.pg.sql(
            database,
            "CREATE TABLE old_table (x int); ALTER TABLE old_table OWNER TO old_app",
        );
    }
    s.pg.sql(
        "app",
        "ALTER DEFAULT PRIVILEGES FOR ROLE migrator IN SCHEMA public GRANT SELECT ON TABLES TO old_app",
    );
    let mut session = Command::new(bindir().join("psql"))
        .args(["-X", "-q", "-h", "127.0.0.1", "-p", &s.port.to_string()])
        .args(["-U", "old_app", "-d", "app"])
        .env("PGPASSWORD", &old_password)
        .env("PGAPPNAME", "old web")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = session.stdin.take().unwrap();
    writeln!(stdin, "BEGIN; SELECT 1;").unwrap();
    stdin.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while s
        .pg
        .sql_ok("SELECT count(*) FROM pg_stat_activity WHERE usename = 'old_app'")
        == "0"
    {
        assert!(
            Instant::now() < deadline,
            "the session never reached the server"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // Absent without `reassign_to`: refused before any change.
    let absent = "\n[roles.old_app]\nabsent = true\nterminate_sessions = true\n";
    s.dbops.write_config(&format!("{base}{MIGRATOR}{absent}"));
    let auth_before = std::fs::read(s.dir.join("userlist.txt")).unwrap();
    let refused = s.dbops.run(&["apply", "--auto-approve"]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains(
            "role `old_app` is `absent` but owns objects (1 in database app, 1 in database shop)"
        ) && refused.stderr.contains("hint: add `reassign_to"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        s.pg.sql_ok("SELECT count(*) FROM pg_roles WHERE rolname = 'old_app'"),
        "1"
    );
    assert_eq!(
        std::fs::read(s.dir.join("userlist.txt")).unwrap(),
        auth_before
    );
    assert!(
        session.try_wait().unwrap().is_none(),
        "the session was ended"
    );

    // With `reassign_to`: the plan names each item.
    let absent = format!("{absent}reassign_to = \"migrator\"\n");
    s.dbops.write_config(&format!("{base}{MIGRATOR}{absent}"));
    let plan = s.dbops.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(2);
    let squashed = crate::support::squash(&plan.stdout);
    for wanted in [
        "- postgres.role.old_app",
        "what it owns goes to `migrator`",
        "database app = \"owns 1, receives 1 default privilege(s)\" -> \"reassigned to migrator, revoked\"",
        "database shop = \"owns 1\" -> \"reassigned to migrator\"",
        "sessions = \"pid ",
        "`old web`)\" -> \"terminated\"",
        "~ pooler.file.userlist.txt",
    ] {
        assert!(squashed.contains(wanted), "{wanted}\n{}", plan.stdout);
    }
    let apply = s.dbops.run(&["apply", "--auto-approve"]);
    apply.expect_code(0);
    s.assert_clean(&apply);
    assert!(
        apply.stderr.contains("postgres.role.old_app: role dropped"),
        "{}",
        apply.stderr
    );

    // No trace: the role, its default privileges, its auth-file entry.
    assert_eq!(
        s.pg.sql_ok("SELECT count(*) FROM pg_roles WHERE rolname = 'old_app'"),
        "0"
    );
    for database in ["app", "shop"] {
        assert_eq!(
            s.pg.sql(
                database,
                "SELECT tableowner FROM pg_tables WHERE tablename = 'old_table'"
            ),
            "migrator"
        );
    }
    assert_eq!(
        s.pg.sql(
            "app",
            "SELECT count(*) FROM pg_default_acl WHERE defaclacl::text LIKE '%old_app%'"
        ),
        "0"
    );
    let auth = std::fs::read_to_string(s.dir.join("userlist.txt")).unwrap();
    assert!(!auth.contains("old_app"), "{auth}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while s
        .pg
        .sql_ok("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'old web'")
        != "0"
    {
        assert!(Instant::now() < deadline, "the session outlived its role");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(stdin);
    let _ = session.kill();
    let _ = session.wait();
    assert!(bouncer.can_login("app_user", &s.app_password, "app"));
    s.dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);
}

/// Roles dbops created are marked (`dbops.managed`); one that leaves the
/// file is a note, never dropped. Roles made before dbops (an upgraded
/// deployment) are not marked by a plan: its first plan is empty, and a role
/// is marked when it is next changed.
#[test]
fn a_role_that_leaves_the_file_is_named_never_dropped() {
    let server = PgServer::start();
    server.sql_ok("CREATE ROLE legacy NOLOGIN");
    let base = "[postgres]\nadmin = { env = \"DATABASE_ROOT_URL\" }\n";
    let dbops = Dbops::new(&format!(
        "{base}\n[roles.legacy]\n\n[roles.reporting]\nlogin = false\n"
    ))
    .env("DATABASE_ROOT_URL", &server.admin_url());
    // The first plan of an upgraded deployment: only the new role.
    let plan = dbops.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(2);
    assert!(
        plan.stdout.contains("+ postgres.role.reporting"),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("postgres.role.legacy"),
        "{}",
        plan.stdout
    );
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    assert_eq!(
        server.sql_ok("SELECT string_agg(r.rolname, ',') FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE 'dbops.managed=true' = ANY(s.setconfig)"),
        "reporting"
    );

    // Both leave the file: the one dbops created is named; neither is dropped.
    dbops.write_config(base);
    let plan = dbops.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(0);
    assert!(
        plan.stdout
            .contains("role `reporting` was managed by dbops and is no longer in the file")
            && !plan.stdout.contains("role `legacy`"),
        "{}",
        plan.stdout
    );
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    assert_eq!(
        server.sql_ok("SELECT count(*) FROM pg_roles WHERE rolname IN ('legacy', 'reporting')"),
        "2"
    );

    // `legacy` changed through the file: marked with the change.
    dbops.write_config(&format!("{base}\n[roles.legacy]\ncreatedb = true\n"));
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    dbops.write_config(base);
    let plan = dbops.run(&["plan"]);
    assert!(
        plan.stdout.contains("role `legacy` was managed by dbops"),
        "{}",
        plan.stdout
    );

    // Bad input: `absent` with attributes, and keys that need `absent`.
    for (role, expected) in [
        (
            "absent = true\nlogin = true\n",
            "is `absent` and also sets `login`",
        ),
        (
            "reassign_to = \"x\"\n",
            "`reassign_to` applies only to a role with `absent = true`",
        ),
    ] {
        dbops.write_config(&format!("{base}\n[roles.legacy]\n{role}"));
        let out = dbops.run(&["validate"]);
        out.expect_code(1);
        assert!(out.stderr.contains(expected), "{}", out.stderr);
    }
}
