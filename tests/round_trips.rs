//! Observing costs a constant number of statements, however many roles the
//! file manages, and one backend per database, however many domains read
//! it: counted in the server's own statement log.

use crate::support::{Dbops, PgServer};

fn config(roles: usize) -> String {
    let mut text = String::from("[postgres]\nadmin = { env = \"DATABASE_ROOT_URL\" }\n");
    for i in 0..roles {
        text.push_str(&format!(
            "\n[roles.rt_role_{i}]\npassword = {{ env = \"RT_PASSWORD\" }}\nconnection_limit = {i}\nmember_of = [\"rt_group\"]\n"
        ));
    }
    text.push_str("\n[roles.rt_group]\n\n[databases.rt_db]\n");
    text
}

fn statements_for_plan(server: &PgServer, roles: usize) -> usize {
    let dbops = Dbops::new(&config(roles))
        .env("DATABASE_ROOT_URL", &server.admin_url())
        .env("RT_PASSWORD", "round trip pw");
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    let before = server.log_text().len();
    dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);
    // Let the server flush its log.
    std::thread::sleep(std::time::Duration::from_millis(200));
    server.dbops_statements_since(before)
}

#[test]
fn plan_statement_count_does_not_grow_with_roles() {
    let server = PgServer::start();
    let few = statements_for_plan(&server, 3);
    let many = statements_for_plan(&server, 60);
    assert_eq!(
        few, many,
        "statements per plan grew with the number of roles"
    );
    assert!(few <= 2, "a plan sends at most 2 statements, sent {few}");
    assert!(few >= 1, "the log must show the observe statement");
}

#[test]
fn privileges_cost_one_statement_per_database_whatever_the_number_of_tables() {
    let server = PgServer::start();
    let config = "[postgres]\nadmin = { env = \"DATABASE_ROOT_URL\" }\n\n[roles.rt_reader]\n\n[databases.rt_app]\n\n\
                  [[grants]]\nrole = \"rt_reader\"\ndatabase = \"rt_app\"\nschema = \"public\"\non = \"tables\"\nprivileges = [\"SELECT\"]\n\n\
                  [server.settings]\nstatement_timeout = \"5s\"\n";
    let dbops = Dbops::new(config).env("DATABASE_ROOT_URL", &server.admin_url());
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    let count = |dbops: &Dbops| {
        dbops.run(&["apply", "--auto-approve"]).expect_code(0);
        let before = server.log_text().len();
        dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);
        std::thread::sleep(std::time::Duration::from_millis(200));
        server.dbops_statements_since(before)
    };
    server.sql(
        "rt_app",
        "CREATE TABLE t0 (id int); CREATE TABLE t1 (id int); CREATE TABLE t2 (id int)",
    );
    let few = count(&dbops);
    let many_tables: String = (3..80)
        .map(|i| format!("CREATE TABLE t{i} (id int);"))
        .collect();
    server.sql("rt_app", &many_tables);
    let many = count(&dbops);
    assert_eq!(
        few, many,
        "statements per plan grew with the number of tables"
    );
    // The standby check, roles and databases, settings, and one per
    // database with grants.
    assert_eq!(few, 4);
}

/// Privileges at scale: the server ships only the objects that differ.
/// From empty, 400 tables take one `GRANT ... ON ALL TABLES IN SCHEMA` and
/// the plan's text says "400 tables lack SELECT" (JSON lists each); then a
/// missing grant, an extra one, a revoked default privilege and a table
/// created after it are found among them, listed alone, repaired one
/// statement each (through a saved plan), and the next plan is empty; a
/// `REVOKE ALL` by hand is undone by one statement again. Statements are
/// counted in the server's log.
#[test]
fn privileges_at_scale_list_only_the_exceptions_and_apply_by_schema() {
    let server = PgServer::start();
    let config = "[postgres]\nadmin = { env = \"DATABASE_ROOT_URL\" }\n\n[roles.rt_reader]\n\n[databases.rt_app]\n\n\
                  [[grants]]\nrole = \"rt_reader\"\ndatabase = \"rt_app\"\nschema = \"public\"\non = \"tables\"\nprivileges = [\"SELECT\"]\n\
                  default = true\nfor_role = \"postgres\"\n";
    let dbops = Dbops::new(config).env("DATABASE_ROOT_URL", &server.admin_url());
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    // Tables from before the default privileges: none holds SELECT.
    server.sql(
        "rt_app",
        "ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public REVOKE SELECT ON TABLES FROM rt_reader",
    );
    let tables: String = (0..400)
        .map(|i| format!("CREATE TABLE t{i:03} (id int);"))
        .collect();
    server.sql("rt_app", &tables);
    let counted = |args: &[&str]| {
        let before = server.log_text().len();
        let out = dbops.run(args);
        std::thread::sleep(std::time::Duration::from_millis(200));
        (out, server.dbops_statements_since(before))
    };
    let (plan, statements) = counted(&["plan", "--no-color"]);
    assert!(
        plan.stdout.contains("~ 400 tables lack SELECT"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("public.t001"), "{}", plan.stdout);
    assert_eq!(
        statements, 3,
        "standby check, roles and databases, one per database"
    );
    let json = dbops.run(&["plan", "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let change = document["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "postgres.grant.rt_reader.rt_app.public.tables")
        .unwrap();
    // Each table, and the default privilege.
    assert_eq!(change["attributes"].as_array().unwrap().len(), 401);
    let (apply, statements) = counted(&["apply", "--auto-approve"]);
    apply.expect_code(0);
    let log = server.log_text();
    assert!(
        log.contains("GRANT SELECT ON ALL TABLES IN SCHEMA \"public\" TO \"rt_reader\""),
        "the grant was not one statement per schema"
    );
    assert!(statements < 15, "apply sent {statements} statements");
    dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);

    // Drift among 400: one revoked, one extra, the default privilege
    // revoked, and a table created after that.
    server.sql(
        "rt_app",
        "REVOKE SELECT ON t017 FROM rt_reader; GRANT TRUNCATE ON t042 TO rt_reader; \
         ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public REVOKE SELECT ON TABLES FROM rt_reader; \
         CREATE TABLE t_new (id int)",
    );
    let plan = dbops.run(&["plan", "--no-color", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}", plan.stdout);
    let squashed = plan.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for line in [
        "public.t017 = [] -> [\"SELECT\"]",
        "public.t042 = [\"SELECT\", \"TRUNCATE\"] -> [\"SELECT\"]",
        "public.t_new = [] -> [\"SELECT\"]",
        "default for objects created by postgres = [] -> [\"SELECT\"]",
    ] {
        assert!(squashed.contains(line), "{line}\n{}", plan.stdout);
    }
    assert!(!plan.stdout.contains("public.t018"), "{}", plan.stdout);
    // Through a saved plan: the live state's digest covers the counts.
    dbops.run(&["plan", "--out", "tfplan"]).expect_code(0);
    let before = server.log_text().len();
    dbops.run(&["apply", "tfplan"]).expect_code(0);
    let log = server.log_text()[before..].to_string();
    assert!(log.contains("REVOKE TRUNCATE ON TABLE public.t042 FROM \"rt_reader\""));
    dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);

    // A hand-made REVOKE ALL: one statement puts it back.
    server.sql(
        "rt_app",
        "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM rt_reader",
    );
    let plan = dbops.run(&["plan", "--no-color"]);
    assert!(
        plan.stdout.contains("~ 401 tables lack SELECT"),
        "{}",
        plan.stdout
    );
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);
    assert_eq!(
        server.sql(
            "rt_app",
            "SELECT count(*) FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND has_table_privilege('rt_reader', c.oid, 'SELECT')"
        ),
        "401"
    );
}

/// Grants, owners and the `public` schema of one database are read on one
/// shared session to it, and the admin's own database on the admin session:
/// a drift of a file touching `rt_app` uses two backends, not four.
#[test]
fn every_domain_reading_a_database_shares_one_session_to_it() {
    let server = PgServer::start();
    let config = "[postgres]\nadmin = { env = \"DATABASE_ROOT_URL\" }\n\n\
                  [roles.rt_app_user]\ndsn = { env = \"RT_URL\" }\n\n[roles.rt_reader]\n\n\
                  [[grants]]\nrole = \"rt_reader\"\ndatabase = \"rt_app\"\nschema = \"public\"\non = \"tables\"\nprivileges = [\"SELECT\"]\n\n\
                  [[grants]]\nrole = \"rt_reader\"\ndatabase = \"postgres\"\nschema = \"public\"\non = \"tables\"\nprivileges = [\"SELECT\"]\n";
    let dbops = Dbops::new(config)
        .env("DATABASE_ROOT_URL", &server.admin_url())
        .env("RT_URL", &server.url("rt_app_user", "shared pw", "rt_app"));
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    server.sql("rt_app", "CREATE TABLE items (id int)");
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    let before = server.log_text().len();
    let out = dbops.run(&["drift"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(
        server.dbops_backends_since(before),
        2,
        "the admin session and one to `rt_app`"
    );
}
