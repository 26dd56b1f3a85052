//! Privileges against a real PostgreSQL 15: the RLS dual-role model with
//! default privileges for tables the migration role creates later, revocation
//! of hand-made grants inside a managed scope, and nothing touched outside.

use crate::support::deployment::{Deployment, APP_USER, DATABASE, SERVICE_USER};
use crate::support::squash;

const CONFIG: &str = r#"[postgres]
admin = { env = "DATABASE_ROOT_URL" }

[roles.app_user]
dsn = { env = "DATABASE_URL" }

[roles.app_service]
dsn = { env = "DATABASE_SERVICE_URL" }
bypass_rls = true

[roles.migrator]
password = { env = "MIGRATOR_PASSWORD" }

[databases.app]
owner = "migrator"

[[grants]]
role = "app_user"
database = "app"
schema = "public"
on = "schema"
privileges = ["USAGE"]

[[grants]]
role = "app_user"
database = "app"
schema = "public"
on = "tables"
privileges = ["SELECT", "INSERT", "UPDATE", "DELETE"]
default = true
for_role = "migrator"

[[grants]]
role = "app_user"
database = "app"
schema = "public"
on = "sequences"
privileges = ["USAGE", "SELECT"]
default = true
for_role = "migrator"

[[grants]]
role = "app_service"
database = "app"
schema = "public"
on = "tables"
privileges = ["ALL"]
default = true
for_role = "migrator"

[[grants]]
role = "app_service"
database = "app"
on = "database"
privileges = ["TEMPORARY"]

[[grants]]
role = "app_service"
database = "app"
schema = "public"
on = "functions"
privileges = ["EXECUTE"]
"#;

fn deployment() -> Deployment {
    let mut d = Deployment::with_config(CONFIG);
    d.dbops.set_env("MIGRATOR_PASSWORD", "migrator pw");
    d
}

fn as_migrator(d: &Deployment, sql: &str) {
    d.server
        .try_sql_as("migrator", "migrator pw", DATABASE, sql)
        .unwrap_or_else(|e| panic!("migrator could not run {sql}: {e}"));
}

#[test]
fn default_privileges_cover_tables_the_migration_role_creates_later() {
    let d = deployment();
    d.apply();
    d.assert_converged();

    // A migration runs after the deploy and creates a table.
    as_migrator(
        &d,
        "CREATE TABLE orders (id bigserial PRIMARY KEY, note text)",
    );
    d.server
        .try_sql_as(
            APP_USER,
            &d.app_password,
            DATABASE,
            "INSERT INTO orders (note) VALUES ('from the app')",
        )
        .expect("the app role can insert into a table created later");
    assert_eq!(
        d.server
            .try_sql_as(
                APP_USER,
                &d.app_password,
                DATABASE,
                "SELECT note FROM orders"
            )
            .unwrap(),
        "from the app"
    );
    assert!(d
        .server
        .try_sql_as(APP_USER, &d.app_password, DATABASE, "TRUNCATE orders")
        .is_err());
    d.server
        .try_sql_as(
            SERVICE_USER,
            &d.service_password,
            DATABASE,
            "TRUNCATE orders",
        )
        .expect("the service role holds ALL");
    assert_eq!(
        d.server.sql(
            DATABASE,
            "SELECT has_database_privilege('app_service', 'app', 'TEMPORARY')"
        ),
        "t"
    );
    // The new table already holds exactly the declared privileges.
    d.assert_converged();
}

#[test]
fn existing_objects_get_grants_and_hand_made_grants_in_scope_are_revoked() {
    let d = deployment();
    // Objects that exist before dbops ever ran (the database exists, created by hand).
    d.server.sql_ok("CREATE DATABASE app");
    d.server.sql(
        DATABASE,
        "CREATE TABLE legacy (id int); CREATE SCHEMA audit; CREATE TABLE audit.log (id int)",
    );
    d.server.sql(
        DATABASE,
        "CREATE FUNCTION public.answer() RETURNS int LANGUAGE sql AS 'SELECT 42'",
    );
    d.server.sql(
        DATABASE,
        "REVOKE EXECUTE ON FUNCTION public.answer() FROM PUBLIC",
    );
    let plan = d.plan();
    plan.expect_code(2);
    assert!(
        plan.stdout
            .contains("+ postgres.grant.app_user.app.public.tables"),
        "{}",
        plan.stdout
    );
    assert!(
        squash(&plan.stdout)
            .contains("public.legacy = [] -> [\"SELECT\", \"INSERT\", \"UPDATE\", \"DELETE\"]"),
        "{}",
        plan.stdout
    );
    assert!(
        squash(&plan.stdout).contains("public.answer() = [] -> [\"EXECUTE\"]"),
        "{}",
        plan.stdout
    );
    d.apply();
    assert_eq!(
        d.server.sql(
            DATABASE,
            "SELECT has_table_privilege('app_user', 'legacy', 'INSERT')"
        ),
        "t"
    );
    assert_eq!(
        d.server.sql(
            DATABASE,
            "SELECT has_function_privilege('app_service', 'public.answer()', 'EXECUTE')"
        ),
        "t"
    );
    d.assert_converged();

    // By hand: one grant inside a managed scope, one outside any scope.
    d.server
        .sql(DATABASE, "GRANT TRUNCATE ON legacy TO app_user");
    d.server
        .sql(DATABASE, "GRANT SELECT ON audit.log TO app_user");
    d.server
        .sql(DATABASE, "GRANT CREATE ON SCHEMA public TO app_user");
    let drift = d.dbops.run(&["drift"]);
    drift.expect_code(2);
    assert!(
        drift
            .stdout
            .contains("# postgres.grant.app_user.app.public.tables has drifted"),
        "{}",
        drift.stdout
    );
    assert!(squash(&drift.stdout).contains("public.legacy = [\"SELECT\", \"INSERT\", \"UPDATE\", \"DELETE\", \"TRUNCATE\"] -> [\"SELECT\", \"INSERT\", \"UPDATE\", \"DELETE\"]"), "{}", drift.stdout);
    assert!(
        drift
            .stdout
            .contains("# postgres.grant.app_user.app.public.schema has drifted"),
        "{}",
        drift.stdout
    );
    assert!(!drift.stdout.contains("audit"), "{}", drift.stdout);

    d.apply();
    assert_eq!(
        d.server.sql(
            DATABASE,
            "SELECT has_table_privilege('app_user', 'legacy', 'TRUNCATE')"
        ),
        "f"
    );
    assert_eq!(
        d.server.sql(
            DATABASE,
            "SELECT has_schema_privilege('app_user', 'public', 'CREATE')"
        ),
        "f"
    );
    assert_eq!(
        d.server.sql(
            DATABASE,
            "SELECT has_table_privilege('app_user', 'audit.log', 'SELECT')"
        ),
        "t"
    );
    d.assert_converged();
}

#[test]
fn invalid_grants_fail_before_any_change() {
    let d = deployment();
    let cases = [
        (
            CONFIG.replace(
                "privileges = [\"USAGE\", \"SELECT\"]",
                "privileges = [\"USAGE\", \"INSERT\"]",
            ),
            "key `grants[2].privileges[1]`: `INSERT` is not a privilege on sequences",
        ),
        (
            CONFIG.replace(
                "on = \"database\"",
                "on = \"database\"\nschema = \"public\"",
            ),
            "a database-level grant takes no schema",
        ),
        (
            CONFIG.replacen(
                "default = true\nfor_role = \"migrator\"",
                "default = true",
                1,
            ),
            "default privileges need `for_role`",
        ),
        (
            CONFIG.replace(
                "schema = \"public\"\non = \"functions\"",
                "schema = \"nope\"\non = \"functions\"",
            ),
            "schema `nope` does not exist in database `app`",
        ),
        (
            CONFIG.replacen("role = \"app_user\"", "role = \"nobody\"", 1),
            "names role `nobody`, which neither exists nor is declared",
        ),
    ];
    for (config, expected) in cases {
        d.dbops.write_config(&config);
        let out = d.dbops.run(&["apply", "--auto-approve"]);
        out.expect_code(1);
        assert!(
            out.stderr.contains(expected),
            "`{expected}` missing from\n{}",
            out.stderr
        );
        assert_eq!(
            d.server
                .sql_ok("SELECT count(*) FROM pg_roles WHERE rolname = 'app_user'"),
            "0"
        );
    }
}
