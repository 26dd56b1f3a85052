//! Role and database names with quotes, spaces, upper case and non-ASCII are
//! quoted correctly and round-trip: created, logged in, converged.

use crate::support::{Dbops, PgServer};

#[test]
fn hostile_role_and_database_names_round_trip() {
    let server = PgServer::start();
    let role = "App \"Ü$er\" 'x'";
    let group = "Readers; DROP ROLE postgres";
    let database = "Dätä \"base\" with spaces";
    let password = "pw: @/%'\" ";
    let config = format!(
        r#"[postgres]
admin = {{ env = "DATABASE_ROOT_URL" }}

[roles.{role_key}]
dsn = {{ env = "DATABASE_URL" }}
member_of = [{group_key}]

[roles.{group_key}]

[databases.{database_key}]
owner = {role_key}
"#,
        role_key = toml_quote(role),
        group_key = toml_quote(group),
        database_key = toml_quote(database),
    );
    let dbops = Dbops::new(&config)
        .env("DATABASE_ROOT_URL", &server.admin_url())
        .env("DATABASE_URL", &server.url(role, password, database));
    dbops.run(&["validate"]).expect_code(0);
    let plan = dbops.run(&["plan"]);
    plan.expect_code(0);
    assert!(
        plan.stdout.contains(r#"postgres.role."App \"Ü$er\" 'x'""#),
        "{}",
        plan.stdout
    );
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);

    assert!(server.can_login(role, password, database));
    assert_eq!(
        server.sql_ok(&format!(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = {}",
            sql_literal(database)
        )),
        role
    );
    assert_eq!(
        server.sql_ok(&format!(
            "SELECT count(*) FROM pg_roles WHERE rolname = {}",
            sql_literal(group)
        )),
        "1"
    );
    assert_eq!(
        server.sql_ok("SELECT count(*) FROM pg_roles WHERE rolname = 'postgres'"),
        "1"
    );
    dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);
    dbops.run(&["drift"]).expect_code(0);
}

fn toml_quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn sql_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}
