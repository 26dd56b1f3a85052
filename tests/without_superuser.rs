//! An admin that is not a superuser cannot read `pg_authid`: dbops falls back
//! to a login attempt to tell whether a password drifted, and still converges.

use crate::support::{Dbops, PgServer};

const CONFIG: &str = r#"[postgres]
admin = { env = "DATABASE_ROOT_URL" }

[roles.app_user]
dsn = { env = "DATABASE_URL" }
connection_limit = 20
"#;

#[test]
fn password_drift_is_checked_by_login_when_pg_authid_is_not_readable() {
    let server = PgServer::start();
    server.sql_ok("CREATE ROLE provisioner LOGIN CREATEROLE CREATEDB PASSWORD 'prov pw'");
    let mut dbops = Dbops::new(CONFIG)
        .env(
            "DATABASE_ROOT_URL",
            &server.url("provisioner", "prov pw", "postgres"),
        )
        .env("DATABASE_URL", &server.url("app_user", "first pw", "app"));
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    assert!(server.can_login("app_user", "first pw", "app"));
    dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);

    dbops.set_env("DATABASE_URL", &server.url("app_user", "second pw", "app"));
    let plan = dbops.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(2);
    assert!(
        plan.stdout.contains("checked by a login attempt"),
        "{}",
        plan.stdout
    );
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    assert!(server.can_login("app_user", "second pw", "app"));
    assert!(!server.can_login("app_user", "first pw", "app"));
    dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);
    dbops.run(&["drift"]).expect_code(0);
}
