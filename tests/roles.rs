//! Role convergence end to end: from empty, the stale-volume password case,
//! every attribute kind, memberships, databases and owners; each followed by
//! an empty plan.

use crate::support::deployment::{Deployment, APP_USER, DATABASE, SERVICE_USER};

#[test]
fn from_empty_apply_creates_roles_database_and_connect_then_plan_is_empty() {
    let d = Deployment::new();
    let plan = d.plan();
    plan.expect_code(2);
    for address in [
        "postgres.database.app",
        "postgres.role.app_user",
        "postgres.role.app_service",
        "postgres.grant.app_user.app.database",
        "postgres.grant.app_service.app.database",
    ] {
        assert!(
            plan.stdout.contains(address),
            "{address} missing from\n{}",
            plan.stdout
        );
    }
    assert!(
        plan.stdout
            .contains("Plan: 5 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );

    d.apply();
    assert!(d.server.can_login(APP_USER, &d.app_password, DATABASE));
    assert!(d
        .server
        .can_login(SERVICE_USER, &d.service_password, DATABASE));
    assert_eq!(
        d.server
            .sql_ok("SELECT rolbypassrls, rolconnlimit FROM pg_roles WHERE rolname = 'app_user'"),
        "f|50"
    );
    assert_eq!(
        d.server
            .sql_ok("SELECT rolbypassrls FROM pg_roles WHERE rolname = 'app_service'"),
        "t"
    );
    assert_eq!(
        d.server
            .sql_ok("SELECT has_database_privilege('app_user', 'app', 'CONNECT')"),
        "t"
    );
    d.assert_converged();
}

#[test]
fn stale_volume_old_password_is_rotated_and_verifier_kept_when_unchanged() {
    let mut d = Deployment::new();
    d.server.sql_ok("CREATE DATABASE app");
    d.server.sql_ok(
        "CREATE ROLE app_user LOGIN CONNECTION LIMIT 50 PASSWORD 'old password from provision.sh'",
    );
    d.apply();
    let verifier = |d: &Deployment| {
        d.server
            .sql_ok("SELECT rolpassword FROM pg_authid WHERE rolname = 'app_user'")
    };
    let first = verifier(&d);

    // A second apply changes nothing: the verifier stays byte-identical.
    let again = d.dbops.run(&["apply", "--auto-approve"]);
    again.expect_code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
    assert_eq!(verifier(&d), first);

    // The stale volume: the role keeps an old password; the DSN has a new one.
    d.server.sql_ok("ALTER ROLE app_user PASSWORD 'stale'");
    d.set_app_password("brand new: p@ss/%' \"");
    let plan = d.plan();
    plan.expect_code(2);
    assert!(
        plan.stdout.contains("~ postgres.role.app_user"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("password") && plan.stdout.contains("(sensitive) will change"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );

    d.apply();
    assert!(d
        .server
        .can_login(APP_USER, "brand new: p@ss/%' \"", DATABASE));
    assert!(!d.server.can_login(APP_USER, "stale", DATABASE));
    d.assert_converged();
}

#[test]
fn md5_stored_password_is_replaced_by_scram_with_a_reason() {
    let d = Deployment::new();
    d.apply();
    d.server.sql_ok(&format!(
        "SET password_encryption = 'md5'; ALTER ROLE app_user PASSWORD {}",
        literal(&d.app_password)
    ));
    let plan = d.plan();
    plan.expect_code(2);
    assert!(
        plan.stdout.contains("stored as an MD5 hash"),
        "{}",
        plan.stdout
    );
    d.apply();
    assert!(d
        .server
        .sql_ok("SELECT rolpassword FROM pg_authid WHERE rolname = 'app_user'")
        .starts_with("SCRAM-SHA-256$"));
    d.assert_converged();
}

#[test]
fn every_role_attribute_converges_and_stays_converged() {
    let config = r#"[postgres]
admin = { env = "DATABASE_ROOT_URL" }

[roles.app_user]
dsn = { env = "DATABASE_URL" }
createdb = true
createrole = true
inherit = false
replication = true
bypass_rls = true
connection_limit = 7
valid_until = "2099-01-02T03:04:05Z"
member_of = ["app_readers", "pg_read_all_stats"]

[roles.app_readers]

[roles.migrator]
password = { env = "MIGRATOR_PASSWORD" }
superuser = true

[databases.app]
owner = "migrator"
"#;
    let d = Deployment::with_config(config);
    let dbops = d.dbops;
    let dbops = dbops.env("MIGRATOR_PASSWORD", "migrate me");
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    assert_eq!(
        d.server.sql_ok(
            "SELECT rolcreatedb, rolcreaterole, rolinherit, rolreplication, rolbypassrls, rolconnlimit, \
             to_char(rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM pg_roles WHERE rolname = 'app_user'"
        ),
        "t|t|f|t|t|7|2099-01-02 03:04:05"
    );
    assert_eq!(
        d.server
            .sql_ok("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'app_readers'"),
        "f"
    );
    assert_eq!(
        d.server
            .sql_ok("SELECT rolsuper FROM pg_roles WHERE rolname = 'migrator'"),
        "t"
    );
    assert_eq!(
        d.server
            .sql_ok("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'app'"),
        "migrator"
    );
    assert_eq!(
        d.server.sql_ok(
            "SELECT string_agg(g.rolname, ',' ORDER BY g.rolname) FROM pg_auth_members m \
             JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = 'app_user'::regrole"
        ),
        "app_readers,pg_read_all_stats"
    );
    assert!(d.server.can_login("migrator", "migrate me", "postgres"));
    let plan = dbops.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(0);

    // Back to the defaults: every attribute is an in-place update.
    dbops.write_config(
        r#"[postgres]
admin = { env = "DATABASE_ROOT_URL" }

[roles.app_user]
dsn = { env = "DATABASE_URL" }
member_of = ["pg_read_all_stats"]

[roles.app_readers]

[roles.migrator]
password = { env = "MIGRATOR_PASSWORD" }
superuser = true

[databases.app]
owner = "app_user"
"#,
    );
    let plan = dbops.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(2);
    assert!(
        plan.stdout.contains("connection_limit = 7 -> -1"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("valid_until      = \"2099-01-02T03:04:05Z\" -> \"infinity\""),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("- postgres.membership.app_user.app_readers"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("owner = \"migrator\" -> \"app_user\""),
        "{}",
        plan.stdout
    );
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    assert_eq!(
        d.server.sql_ok(
            "SELECT rolcreatedb, rolcreaterole, rolinherit, rolreplication, rolbypassrls, rolconnlimit, \
             coalesce(rolvaliduntil::text, 'null') FROM pg_roles WHERE rolname = 'app_user'"
        ),
        "f|f|t|f|f|-1|infinity"
    );
    dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);
    dbops.run(&["drift"]).expect_code(0);
}

#[test]
fn roles_and_memberships_not_in_the_file_are_never_touched() {
    let d = Deployment::new();
    d.server
        .sql_ok("CREATE ROLE bystander LOGIN SUPERUSER PASSWORD 'x'");
    d.server.sql_ok("CREATE ROLE outside_group");
    d.apply();
    d.server.sql_ok("GRANT outside_group TO app_user");
    // Nothing to change; the undeclared superuser is a security finding,
    // not a change (drift fails on it, `--fail-on drift` does not).
    d.plan().expect_code(0);
    d.dbops.run(&["drift", "--fail-on", "drift"]).expect_code(0);
    let drift = d.dbops.run(&["drift"]);
    drift.expect_code(2);
    assert!(
        drift
            .stdout
            .contains("role `bystander` holds SUPERUSER but the file does not declare it"),
        "{}",
        drift.stdout
    );
    assert_eq!(
        d.server
            .sql_ok("SELECT rolsuper FROM pg_roles WHERE rolname = 'bystander'"),
        "t"
    );
    assert_eq!(
        d.server
            .sql_ok("SELECT count(*) FROM pg_auth_members WHERE member = 'app_user'::regrole"),
        "1"
    );
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}
