//! Benchmark: privileges at the scale of a real schema. N tables in 20
//! schemas, created by a migration role; three roles granted on every table
//! of every schema (with default privileges for the migration role) and
//! USAGE on the schemas; one login role with a password. Each dbops run is
//! the whole process, timed with its peak RSS (`wait4`'s `ru_maxrss`),
//! beside a same-run floor:
//!
//! - the converged `dbops plan` against `psql` reading every table's ACL;
//! - `dbops apply` from empty, and again after a `REVOKE ALL` by hand,
//!   against the `GRANT ... ON ALL TABLES IN SCHEMA` script (per schema and
//!   role, one transaction) run by `psql`.
//!
//! Run with `cargo bench --bench grants` (`DBOPS_BENCH_SIZES=10000,50000`);
//! figures go in docs/performance.md.

#[path = "../tests/support/mod.rs"]
#[expect(dead_code, reason = "a bench uses part of the test support")]
mod support;

#[path = "common/mod.rs"]
#[expect(dead_code, reason = "its tables are its own")]
mod common;

use common::measure;

use std::process::Command;
use std::time::Duration;

use support::postgres::bindir;
use support::PgServer;

const SCHEMAS: usize = 20;
const ROLES: [(&str, &str); 3] = [
    ("r_read", "\"SELECT\""),
    ("r_write", "\"SELECT\", \"INSERT\", \"UPDATE\", \"DELETE\""),
    ("r_all", "\"ALL\""),
];
const PASSWORD: &str = "bench login pw";

fn config() -> String {
    let mut text = String::from(
        "[postgres]\nadmin = { env = \"DATABASE_ROOT_URL\" }\n\n\
         [roles.app_login]\npassword = { env = \"APP_PASSWORD\" }\n\n\
         [roles.migrator]\n\n[roles.r_read]\n\n[roles.r_write]\n\n[roles.r_all]\n\n\
         [databases.bench]\nowner = \"migrator\"\n",
    );
    for s in 0..SCHEMAS {
        for (role, privileges) in ROLES {
            text.push_str(&format!(
                "\n[[grants]]\nrole = \"{role}\"\ndatabase = \"bench\"\nschema = \"s{s:02}\"\non = \"schema\"\nprivileges = [\"USAGE\"]\n\n\
                 [[grants]]\nrole = \"{role}\"\ndatabase = \"bench\"\nschema = \"s{s:02}\"\non = \"tables\"\nprivileges = [{privileges}]\ndefault = true\nfor_role = \"migrator\"\n"
            ));
        }
    }
    text
}

/// `psql` on the bench database, one command.
fn psql(pg: &PgServer, sql: &str) -> Command {
    let mut command = Command::new(bindir().join("psql"));
    command
        .arg(bench_url(pg))
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-c", sql]);
    command
}

/// The admin URL with the bench database in place of `postgres`.
fn bench_url(pg: &PgServer) -> String {
    let url = pg.admin_url();
    let (base, _) = url.rsplit_once('/').expect("a database in the URL");
    format!("{base}/bench")
}

/// The floor of apply: every grant of the file as one script.
fn grant_script() -> String {
    let mut sql = String::from("BEGIN;");
    for s in 0..SCHEMAS {
        for (role, privileges) in ROLES {
            let privileges = privileges.replace('"', "");
            sql.push_str(&format!(
                "GRANT USAGE ON SCHEMA s{s:02} TO {role};\
                 GRANT {privileges} ON ALL TABLES IN SCHEMA s{s:02} TO {role};\
                 ALTER DEFAULT PRIVILEGES FOR ROLE migrator IN SCHEMA s{s:02} GRANT {privileges} ON TABLES TO {role};"
            ));
        }
    }
    sql.push_str("COMMIT;");
    sql
}

fn revoke_all() -> String {
    let mut sql = String::from("BEGIN;");
    for s in 0..SCHEMAS {
        for (role, _) in ROLES {
            sql.push_str(&format!(
                "REVOKE ALL ON ALL TABLES IN SCHEMA s{s:02} FROM {role};"
            ));
        }
    }
    sql.push_str("COMMIT;");
    sql
}

fn main() {
    let sizes: Vec<usize> = std::env::var("DBOPS_BENCH_SIZES")
        .unwrap_or_else(|_| "10000,50000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("sizes are numbers"))
        .collect();
    println!("| tables | run | dbops | floor | ratio | dbops peak RSS |");
    println!("|---:|---|---:|---:|---:|---:|");
    for size in sizes {
        let pg = PgServer::start();
        let dbops = support::Dbops::new(&config())
            .env("DATABASE_ROOT_URL", &pg.admin_url())
            .env("APP_PASSWORD", PASSWORD);
        // The roles and the database first (no schema yet: grants wait).
        pg.sql_ok("CREATE ROLE migrator");
        pg.sql_ok("CREATE DATABASE bench OWNER migrator");
        for s in 0..SCHEMAS {
            let mut sql = format!("SET ROLE migrator; CREATE SCHEMA s{s:02};");
            for t in 0..size / SCHEMAS {
                sql.push_str(&format!("CREATE TABLE s{s:02}.t{t:05} (id int);"));
            }
            pg.sql("bench", &sql);
        }
        let report = |run: &str, ours: (Duration, f64), floor: Duration| {
            println!(
                "| {size} | {run} | {:.2} s | {:.2} s | {:.2}x | {:.0} MiB |",
                ours.0.as_secs_f64(),
                floor.as_secs_f64(),
                ours.0.as_secs_f64() / floor.as_secs_f64(),
                ours.1
            );
        };
        // Apply from empty, against the script (on a copy of the state: the
        // script runs after a REVOKE that puts the state back).
        let applied = measure(&mut dbops.command(&["apply", "--auto-approve"]));
        dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);
        measure(&mut psql(&pg, &revoke_all()));
        let (floor, _) = measure(&mut psql(&pg, &grant_script()));
        report("apply from empty", applied, floor);
        dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);
        // Converged plan, against reading every ACL.
        let mut plans = Vec::new();
        let mut reads = Vec::new();
        for _ in 0..3 {
            plans.push(measure(
                &mut dbops.command(&["plan", "--detailed-exitcode"]),
            ));
            reads.push(
                measure(&mut psql(
                    &pg,
                    "SELECT c.oid, c.relacl FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname LIKE 's%'",
                ))
                .0,
            );
        }
        plans.sort_by_key(|p| p.0);
        reads.sort();
        report("converged plan (median of 3)", plans[1], reads[1]);
        // What the rest of that plan costs: the same file without grants.
        let rest = support::Dbops::new(config().split("\n[[grants]]").next().unwrap())
            .env("DATABASE_ROOT_URL", &pg.admin_url())
            .env("APP_PASSWORD", PASSWORD);
        let mut others: Vec<(Duration, f64)> = (0..3)
            .map(|_| measure(&mut rest.command(&["plan"])))
            .collect();
        others.sort_by_key(|p| p.0);
        report(
            "plan without `[[grants]]` (median of 3)",
            others[1],
            reads[1],
        );
        // After a REVOKE ALL by hand.
        measure(&mut psql(&pg, &revoke_all()));
        let reapplied = measure(&mut dbops.command(&["apply", "--auto-approve"]));
        measure(&mut psql(&pg, &revoke_all()));
        let (floor, _) = measure(&mut psql(&pg, &grant_script()));
        report("apply after `REVOKE ALL`", reapplied, floor);
        dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);
    }
}
