//! PostgreSQL's own pg_hba.conf, managed (`[server.hba]`), against real
//! PostgreSQL 15 and pgBouncer. pgBouncer reaches PostgreSQL over its Unix
//! socket, the application reaches pgBouncer over TCP: after convergence the
//! application role is refused directly on PostgreSQL's TCP port and
//! accepted through the pooler, and the admin still connects. A line
//! PostgreSQL refuses is caught through `pg_hba_file_rules` and the old file
//! put back, still in force; a file that would shut out dbops's own
//! connection is refused before anything is written.

use crate::pooler::{pooled_url, ADMIN_PASSWORD};
use crate::support::pgbouncer::{pooler_table, PgBouncer};
use crate::support::{free_port, hostile_password, Dbops, PgServer};

const HAND_WRITTEN: &str = "# provision.sh, 2021\nlocal all all trust\nhost all all 127.0.0.1/32 md5\nhost all all ::1/128 md5\n";

const ADMIN_RULE: &str = r#"
[[server.hba.rules]]
type = "host"
database = ["all"]
user = ["postgres"]
address = "127.0.0.1/32"
method = "scram-sha-256"
"#;

fn config(pg: &PgServer, dir: &std::path::Path, port: u16, rules: &str) -> String {
    let pooler = pooler_table(dir, port, "PGBOUNCER_ADMIN_PASSWORD").replace(
        "[pooler.settings]",
        &format!(
            "backend = {{ host = \"{}\", port = {} }}\n\n[pooler.settings]",
            pg.socket_dir().display(),
            pg.port
        ),
    );
    format!(
        r#"[postgres]
admin = {{ env = "DATABASE_ROOT_URL" }}

[roles.app_user]
dsn = {{ env = "DATABASE_URL" }}

{pooler}
[server.hba]
application_from = ["local"]
{rules}"#
    )
}

#[test]
fn the_hba_file_converges_and_the_pooler_becomes_the_only_way_in() {
    let pg = PgServer::start();
    let hba = pg.data_dir().join("pg_hba.conf");
    std::fs::write(&hba, HAND_WRITTEN).unwrap();
    crate::support::postgres::give_to_server_user(&hba);
    pg.sql_ok("SELECT pg_reload_conf()");
    let dir = pg.writable_dir("pgbouncer");
    let port = free_port();
    let app_password = hostile_password("hba-app");
    let dbops = Dbops::new(&config(&pg, &dir, port, ADMIN_RULE))
        .env("DATABASE_ROOT_URL", &pg.admin_url())
        .env("DATABASE_URL", &pooled_url(port, "app_user", &app_password))
        .env("PGBOUNCER_ADMIN_PASSWORD", ADMIN_PASSWORD);

    let plan = dbops.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(2);
    assert!(
        plan.stdout.contains("~ postgres.file.pg_hba.conf")
            && plan.stdout.contains("-local all all trust")
            && plan
                .stdout
                .contains("+local  \"app\"  \"app_user\"                scram-sha-256"),
        "{}",
        plan.stdout
    );
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    let bouncer = PgBouncer::start(&dir.join("pgbouncer.ini"), port, &dir.join("pgbouncer.log"));

    // The pooler is the only way in for the application; the admin still is.
    assert!(
        bouncer.can_login("app_user", &app_password, "app"),
        "{}",
        bouncer.log()
    );
    let direct = pg
        .try_sql_as("app_user", &app_password, "app", "SELECT 1")
        .unwrap_err();
    assert!(
        direct.contains("pg_hba.conf rejects connection"),
        "{direct}"
    );
    assert_eq!(pg.sql_ok("SELECT 1"), "1");
    dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);
    let drift = dbops.run(&["drift"]);
    assert!(
        !drift.stdout.contains("security.hba_method")
            && !drift.stdout.contains("postgres.hba.line"),
        "{}",
        drift.stdout
    );

    // Written but not loaded: the same bytes with a newer modification time
    // than the server's last configuration load are drift, and apply reloads.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let same = std::fs::read(&hba).unwrap();
    std::fs::write(&hba, &same).unwrap();
    let stale = dbops.run(&["drift"]);
    stale.expect_code(2);
    assert!(
        stale.stdout.contains("written but not loaded"),
        "{}",
        stale.stdout
    );
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);

    // A line PostgreSQL refuses (peer over TCP): caught through
    // pg_hba_file_rules, the old file put back, still in force.
    let converged = std::fs::read(&hba).unwrap();
    let bad = format!(
        "{ADMIN_RULE}\n[[server.hba.rules]]\ntype = \"host\"\ndatabase = [\"all\"]\nuser = [\"all\"]\naddress = \"10.0.0.0/8\"\nmethod = \"peer\"\n"
    );
    dbops.write_config(&config(&pg, &dir, port, &bad));
    let refused = dbops.run(&["apply", "--auto-approve"]);
    refused.expect_code(1);
    assert!(
        refused
            .stderr
            .contains("PostgreSQL refuses the new pg_hba.conf: line")
            && refused.stderr.contains("peer")
            && refused
                .stderr
                .contains("the old file is back on disk and still in force"),
        "{}",
        refused.stderr
    );
    assert_eq!(std::fs::read(&hba).unwrap(), converged);
    assert!(bouncer.can_login("app_user", &app_password, "app"));
    assert_eq!(pg.sql_ok("SELECT 1"), "1");

    // Without a rule for dbops's own connection (TCP from 127.0.0.1): refused
    // before anything is written, saying which rule is missing.
    dbops.write_config(&config(&pg, &dir, port, ""));
    let locked = dbops.run(&["plan"]);
    locked.expect_code(1);
    assert!(
        locked.stderr.contains("would shut out dbops's own connection (user `postgres` to database `postgres` from 127.0.0.1)")
            && locked.stderr.contains("address = \"127.0.0.1/32\""),
        "{}",
        locked.stderr
    );
    assert_eq!(std::fs::read(&hba).unwrap(), converged);

    // Hostile names are refused by validate.
    let hostile = format!(
        "{ADMIN_RULE}\n[[server.hba.rules]]\ntype = \"host\"\ndatabase = [\"all\"]\nuser = [\"a\\\"b\"]\naddress = \"all\"\nmethod = \"reject\"\n"
    );
    dbops.write_config(&config(&pg, &dir, port, &hostile));
    let out = dbops.run(&["validate"]);
    out.expect_code(1);
    assert!(out.stderr.contains("cannot quote"), "{}", out.stderr);
}
