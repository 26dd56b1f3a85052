//! Adopting dbops on a cluster a provision script built: for each starting
//! state such a script leaves, the first apply converges in one run, every
//! change it made was in the plan (plan addresses against event addresses),
//! and the next plan is empty. Then `dbops import` writes a file from each
//! state that validates and plans with no change; and the lints that protect
//! the row-level-security model fire on real tables.

use std::collections::BTreeSet;

use crate::support::{percent, Dbops, PgServer};

/// A starting state: SQL run as the superuser, then a dbops.toml and its DSNs.
struct Case {
    name: &'static str,
    setup: &'static str,
    config: &'static str,
    /// (variable, user, password, database)
    dsns: &'static [(&'static str, &'static str, &'static str, &'static str)],
}

const ADMIN: &str = "[postgres]\nadmin = { env = \"DATABASE_ROOT_URL\" }\n";

const CASES: &[Case] = &[
    Case {
        name: "the reproduction: the DSN role owns its database, ownership moves",
        setup: "CREATE ROLE own_user LOGIN PASSWORD 'x'; CREATE DATABASE db_owned OWNER own_user;",
        config: "[roles.own_user]\ndsn = { env = \"DATABASE_URL\" }\n\n[roles.db_owner]\n\n[databases.db_owned]\nowner = \"db_owner\"\n",
        dsns: &[("DATABASE_URL", "own_user", "new pw", "db_owned")],
    },
    Case {
        name: "provision.sh: app database owned by the app role, md5, no BYPASSRLS, grants with defaults",
        setup: "SET password_encryption = 'md5';
                CREATE ROLE app_user LOGIN PASSWORD 'old app pw';
                CREATE ROLE app_service LOGIN PASSWORD 'old svc pw';
                CREATE DATABASE app OWNER app_user;",
        config: "[roles.app_user]\ndsn = { env = \"DATABASE_URL\" }\n\n[roles.app_service]\ndsn = { env = \"DATABASE_SERVICE_URL\" }\nbypass_rls = true\n\n[roles.migrator]\n\n[databases.app]\nowner = \"migrator\"\n\n[[grants]]\nrole = \"app_user\"\ndatabase = \"app\"\nschema = \"public\"\non = \"schema\"\nprivileges = [\"USAGE\"]\n\n[[grants]]\nrole = \"app_user\"\ndatabase = \"app\"\nschema = \"public\"\non = \"tables\"\nprivileges = [\"SELECT\", \"INSERT\", \"UPDATE\", \"DELETE\"]\ndefault = true\nfor_role = \"migrator\"\n\n[[grants]]\nrole = \"app_user\"\ndatabase = \"app\"\nschema = \"public\"\non = \"sequences\"\nprivileges = [\"USAGE\", \"SELECT\"]\ndefault = true\nfor_role = \"migrator\"\n",
        dsns: &[
            ("DATABASE_URL", "app_user", "new app pw", "app"),
            ("DATABASE_SERVICE_URL", "app_service", "new svc pw", "app"),
        ],
    },
    Case {
        name: "the app role owns the tables migrations created; ownership moves object by object",
        setup: "CREATE ROLE app_user LOGIN PASSWORD 'pw';
                CREATE ROLE migrator;
                CREATE DATABASE app OWNER migrator;
                GRANT CREATE ON DATABASE app TO app_user;
                \\c app
                GRANT CREATE ON SCHEMA public TO app_user;
                SET ROLE app_user;
                CREATE SCHEMA IF NOT EXISTS billing;
                CREATE TABLE public.orders (id serial PRIMARY KEY, tenant text);
                CREATE TABLE billing.invoices (id bigint GENERATED ALWAYS AS IDENTITY, total numeric);
                CREATE VIEW public.recent AS SELECT * FROM public.orders;
                CREATE FUNCTION public.tenant() RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$;
                RESET ROLE;",
        config: "[roles.app_user]\ndsn = { env = \"DATABASE_URL\" }\n\n[roles.migrator]\n\n[databases.app]\nowner = \"migrator\"\nreassign_owned_from = [\"app_user\"]\n\n[[grants]]\nrole = \"app_user\"\ndatabase = \"app\"\nschema = \"public\"\non = \"tables\"\nprivileges = [\"SELECT\", \"INSERT\", \"UPDATE\", \"DELETE\"]\n\n[[grants]]\nrole = \"app_user\"\ndatabase = \"app\"\nschema = \"public\"\non = \"sequences\"\nprivileges = [\"USAGE\", \"SELECT\"]\n\n[[grants]]\nrole = \"app_user\"\ndatabase = \"app\"\nschema = \"billing\"\non = \"schema\"\nprivileges = [\"USAGE\"]\n\n[[grants]]\nrole = \"app_user\"\ndatabase = \"app\"\nschema = \"billing\"\non = \"tables\"\nprivileges = [\"SELECT\"]\n",
        dsns: &[("DATABASE_URL", "app_user", "pw", "app")],
    },
    Case {
        name: "default privileges granted by another role, and PUBLIC's CONNECT revoked",
        setup: "CREATE ROLE app_user LOGIN PASSWORD 'pw';
                CREATE ROLE migrator;
                CREATE DATABASE app OWNER migrator;
                REVOKE CONNECT ON DATABASE app FROM PUBLIC;
                \\c app
                ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT SELECT ON TABLES TO app_user;
                GRANT CREATE ON SCHEMA public TO PUBLIC;",
        config: "[roles.app_user]\ndsn = { env = \"DATABASE_URL\" }\n\n[roles.migrator]\n\n[databases.app]\nowner = \"migrator\"\n\n[[grants]]\nrole = \"app_user\"\ndatabase = \"app\"\nschema = \"public\"\non = \"tables\"\nprivileges = [\"SELECT\", \"INSERT\"]\ndefault = true\nfor_role = \"migrator\"\n",
        dsns: &[("DATABASE_URL", "app_user", "pw", "app")],
    },
    Case {
        name: "PostgreSQL 15's defaults: nothing granted on public, the admin owns the database",
        setup: "CREATE DATABASE app;",
        config: "[roles.app_user]\ndsn = { env = \"DATABASE_URL\" }\n\n[roles.migrator]\n\n[databases.app]\nowner = \"migrator\"\n\n[[grants]]\nrole = \"app_user\"\ndatabase = \"app\"\nschema = \"public\"\non = \"schema\"\nprivileges = [\"USAGE\"]\n\n[[grants]]\nrole = \"migrator\"\ndatabase = \"app\"\nschema = \"public\"\non = \"schema\"\nprivileges = [\"USAGE\", \"CREATE\"]\n",
        dsns: &[("DATABASE_URL", "app_user", "pw", "app")],
    },
];

fn prepare(case: &Case) -> (PgServer, Dbops) {
    let server = PgServer::start();
    let out = std::process::Command::new("psql")
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "postgres",
        ])
        .arg("-p")
        .arg(server.port.to_string())
        .env("PGPASSWORD", crate::support::postgres::SUPERUSER_PASSWORD)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(case.setup.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(
        out.status.success(),
        "{}: setup failed: {}",
        case.name,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut dbops = Dbops::new(&format!("{ADMIN}\n{}", case.config))
        .env("DATABASE_ROOT_URL", &server.admin_url());
    for (variable, user, password, database) in case.dsns {
        dbops.set_env(
            variable,
            &format!(
                "postgres://{}:{}@127.0.0.1:{}/{}",
                percent(user),
                percent(password),
                server.port,
                percent(database)
            ),
        );
    }
    (server, dbops)
}

fn json_lines(stderr: &str) -> Vec<serde_json::Value> {
    stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn every_provision_script_state_converges_in_one_apply_that_does_what_the_plan_said() {
    for case in CASES {
        let (server, dbops) = prepare(case);
        let plan = dbops.run(&["plan", "--format", "json"]);
        plan.expect_code(0);
        let document: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
        let planned: BTreeSet<String> = document["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["address"].as_str().unwrap().to_string())
            .collect();
        assert!(!planned.is_empty(), "{}: nothing to do?", case.name);

        let apply = dbops.run(&["apply", "--auto-approve", "--log-format", "json"]);
        assert_eq!(
            apply.code, 0,
            "{}: the first apply failed:\n{}",
            case.name, apply.stderr
        );
        let done: BTreeSet<String> = json_lines(&apply.stderr)
            .iter()
            .filter(|e| e["level"] == "info")
            .filter_map(|e| e["address"].as_str().map(str::to_string))
            .collect();
        let unplanned: Vec<&String> = done.difference(&planned).collect();
        assert!(
            unplanned.is_empty(),
            "{}: apply did what the plan did not say: {unplanned:?}",
            case.name
        );
        let undone: Vec<&String> = planned.difference(&done).collect();
        assert!(
            undone.is_empty(),
            "{}: the plan said what apply did not do: {undone:?}",
            case.name
        );

        let next = dbops.run(&["plan", "--detailed-exitcode"]);
        assert_eq!(
            next.code, 0,
            "{}: the next plan is not empty:\n{}",
            case.name, next.stdout
        );
        // The application logs in with its new password.
        for (_, user, password, database) in case.dsns {
            assert!(
                server.can_login(user, password, database),
                "{}: {user}",
                case.name
            );
        }
        drop(server);
    }
}

#[test]
fn the_reproduction_plans_the_connect_it_needs() {
    let (_server, dbops) = prepare(&CASES[0]);
    let plan = dbops.run(&["plan"]);
    assert!(
        plan.stdout
            .contains("+ postgres.grant.own_user.db_owned.database"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(
            "holds CONNECT only as the owner of `db_owned`; it loses it when ownership moves"
        ),
        "{}",
        plan.stdout
    );
}

#[test]
fn the_rls_owner_bypass_lint_fires_and_is_silent_once_forced_or_moved() {
    let server = PgServer::start();
    server.sql_ok("CREATE ROLE app_user LOGIN PASSWORD 'pw'");
    server.sql_ok("CREATE ROLE migrator");
    server.sql_ok("CREATE DATABASE app OWNER migrator");
    server.sql("app", "GRANT CREATE ON SCHEMA public TO app_user; SET ROLE app_user; CREATE TABLE public.accounts (tenant text); ALTER TABLE public.accounts ENABLE ROW LEVEL SECURITY; RESET ROLE;");
    let config = |extra: &str| {
        format!(
        "{ADMIN}\n[roles.app_user]\ndsn = {{ env = \"DATABASE_URL\" }}\n\n[roles.migrator]\n\n[databases.app]\nowner = \"migrator\"\n{extra}"
    )
    };
    let dbops = Dbops::new(&config(""))
        .env("DATABASE_ROOT_URL", &server.admin_url())
        .env("DATABASE_URL", &server.url("app_user", "pw", "app"));
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    let drift = dbops.run(&["drift"]);
    drift.expect_code(2);
    assert!(
        drift.stdout.contains("`app_user`, a role the application logs in as, owns 1 object(s) in `app` (`public.accounts`)")
            && drift.stdout.contains("1 of them (`public.accounts`) have row-level security enabled but not forced, so `app_user` sees every row"),
        "{}",
        drift.stdout
    );
    assert!(
        drift
            .stdout
            .contains("`ALTER TABLE ... FORCE ROW LEVEL SECURITY` closes that"),
        "{}",
        drift.stdout
    );
    let plan = dbops.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(0);
    assert!(
        plan.stdout.contains("Security findings:"),
        "a warning in plan:\n{}",
        plan.stdout
    );

    server.sql(
        "app",
        "ALTER TABLE public.accounts FORCE ROW LEVEL SECURITY",
    );
    let drift = dbops.run(&["drift"]);
    assert!(!drift.stdout.contains("not forced"), "{}", drift.stdout);
    assert!(
        drift
            .stdout
            .contains("`app_user`, a role the application logs in as, owns 1 object(s) in `app`"),
        "{}",
        drift.stdout
    );

    // Moving ownership to the migration role silences both.
    dbops.write_config(&config("reassign_owned_from = [\"app_user\"]\n"));
    let plan = dbops.run(&["plan"]);
    assert!(
        plan.stdout
            .contains("~ postgres.owner.app.table.\"public.accounts\""),
        "{}",
        plan.stdout
    );
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    dbops.run(&["drift"]).expect_code(0);
    assert_eq!(
        server.sql(
            "app",
            "SELECT tableowner FROM pg_tables WHERE tablename = 'accounts'"
        ),
        "migrator"
    );
}

#[test]
fn a_restart_refuses_to_put_hand_made_pending_settings_in_force_unless_accepted() {
    let server = PgServer::start();
    server.sql_ok("ALTER SYSTEM SET max_connections = 150");
    let config = format!(
        "{ADMIN}\n[server]\nrestart_command = {}\n\n[server.settings]\nshared_buffers = \"64MB\"\n",
        serde_json::Value::String(server.restart_command())
    );
    let dbops = Dbops::new(&config).env("DATABASE_ROOT_URL", &server.admin_url());
    let plan = dbops.run(&["plan"]);
    assert!(
        plan.stdout.contains("! postgres.setting.max_connections = \"100\" now, \"150\" after restart (not in the file"),
        "{}",
        plan.stdout
    );
    let apply = dbops.run(&["apply", "--auto-approve", "--allow-restart"]);
    apply.expect_code(1);
    assert!(
        apply.stderr.contains("refusing to restart PostgreSQL: the restart would also put in force `postgres.setting.max_connections`"),
        "{}",
        apply.stderr
    );
    assert_eq!(
        server.sql_ok("SHOW max_connections"),
        "100",
        "not restarted"
    );
    assert_eq!(
        server.sql_ok("SELECT count(*) FROM pg_file_settings WHERE name = 'shared_buffers' AND sourcefile LIKE '%postgresql.auto.conf'"),
        "0",
        "refused before anything changed"
    );
    dbops
        .run(&[
            "apply",
            "--auto-approve",
            "--allow-restart",
            "--accept-pending-restart",
            "max_connections",
        ])
        .expect_code(0);
    assert_eq!(server.sql_ok("SHOW max_connections"), "150");
    assert_eq!(server.sql_ok("SHOW shared_buffers"), "64MB");
}

#[test]
fn import_writes_a_file_that_validates_and_plans_no_change() {
    for case in CASES {
        let (server, dbops) = prepare(case);
        // Converged first, so the file import writes describes the target state.
        dbops.run(&["apply", "--auto-approve"]).expect_code(0);
        let import = dbops.run(&["import", "--out", "imported.toml"]);
        assert_eq!(import.code, 0, "{}: {}", case.name, import.stderr);
        let text = std::fs::read_to_string(dbops.path("imported.toml")).unwrap();
        assert!(
            !text.contains("password ="),
            "{}: no password is imported",
            case.name
        );
        let validate = dbops.run(&["validate", "-f", "imported.toml"]);
        assert_eq!(
            validate.code, 0,
            "{}: {}\n{text}",
            case.name, validate.stderr
        );
        let plan = dbops.run(&["plan", "-f", "imported.toml", "--detailed-exitcode"]);
        assert_eq!(
            plan.code, 0,
            "{}: the imported file plans changes:\n{}\n{text}",
            case.name, plan.stdout
        );
        // The admin and the bootstrap superuser are never imported.
        assert!(!text.contains("[roles.postgres]"), "{text}");
        drop(server);
    }
}

#[test]
fn import_refuses_bad_input_and_writes_nothing() {
    let (server, dbops) = prepare(&CASES[1]);
    std::fs::write(dbops.path("existing.toml"), "keep me").unwrap();
    let out = dbops.run(&["import", "--out", "existing.toml"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("`existing.toml` already exists"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(dbops.path("existing.toml")).unwrap(),
        "keep me"
    );

    let out = dbops.run(&["import", "--roles", "nobody_*", "--out", "new.toml"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("`--roles` `nobody_*` matches no role"),
        "{}",
        out.stderr
    );
    assert!(!dbops.path("new.toml").exists());

    let closed = format!(
        "postgres://postgres:pw@127.0.0.1:{}/postgres",
        crate::support::free_port()
    );
    let unreachable = Dbops::new("").env("DATABASE_ROOT_URL", &closed);
    let out = unreachable.run(&["import", "--out", "new.toml"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("cannot connect to postgres://postgres:****@127.0.0.1:"),
        "{}",
        out.stderr
    );
    assert!(!unreachable.path("new.toml").exists());

    // Narrowed: one role, one database, to standard output.
    let out = dbops.run(&["import", "--roles", "app_u*", "--database", "app"]);
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("[roles.app_user]\ndsn = { env = \"DATABASE_URL\" }"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("[roles.app_service]"),
        "{}",
        out.stdout
    );
    drop(server);
}
