//! Observing costs a constant number of statements, however many roles the
//! file manages: counted in the server's own statement log.

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
