//! Server settings against a real PostgreSQL 15: `ALTER SYSTEM`, unit
//! normalization, restart awareness (pending restart, `--allow-restart`),
//! drift from a hand-made `ALTER SYSTEM`, unmanaged settings and pruning, and
//! real WAL archiving with the applied `archive_command`.

use std::time::{Duration, Instant};

use crate::support::deployment::{standard_config, Deployment};
use crate::support::{Dbops, PgServer};

fn dbops(server: &PgServer, config: &str) -> Dbops {
    Dbops::new(config).env("DATABASE_ROOT_URL", &server.admin_url())
}

fn toml_string(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

#[test]
fn archive_settings_apply_wait_for_restart_then_converge_and_archive_for_real() {
    // Start from a server that cannot archive: wal_level = minimal.
    let server = PgServer::start_with(&["wal_level = minimal", "max_wal_senders = 0"]);
    let archive = server.writable_dir("wal-archive");
    let command = format!(
        "test ! -f '{dir}/%f' && cp %p '{dir}/%f' && echo \"archived %f\" > /dev/null",
        dir = archive.display()
    );
    let config = format!(
        r#"[postgres]
admin = {{ env = "DATABASE_ROOT_URL" }}

[server.settings]
wal_level = "replica"
archive_mode = true
archive_command = {command}
archive_timeout = "1min"
log_min_duration_statement = "250ms"
"#,
        command = toml_string(&command)
    );
    let dbops = dbops(&server, &config);

    let plan = dbops.run(&["plan", "--format", "json", "--detailed-exitcode"]);
    plan.expect_code(2);
    let document: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let changes = document["changes"].as_array().unwrap();
    let restart = |address: &str| {
        changes
            .iter()
            .find(|c| c["address"] == address)
            .unwrap_or_else(|| panic!("{address}"))["requires_restart"]
            .clone()
    };
    assert_eq!(changes.len(), 5, "{}", plan.stdout);
    assert_eq!(restart("postgres.setting.wal_level"), true);
    assert_eq!(restart("postgres.setting.archive_mode"), true);
    assert_eq!(restart("postgres.setting.archive_command"), false);
    assert_eq!(restart("postgres.setting.archive_timeout"), false);
    assert_eq!(
        restart("postgres.setting.log_min_duration_statement"),
        false
    );

    let apply = dbops.run(&["apply", "--auto-approve"]);
    apply.expect_code(0);
    assert!(
        apply.stderr.contains(
            "Restart required: `postgres.setting.archive_mode`, `postgres.setting.wal_level`"
        ),
        "{}",
        apply.stderr
    );
    // Reloadable settings are in force; the archive_command is written exactly
    // (PostgreSQL shows it as `(disabled)` until archiving is on).
    assert_eq!(
        server.sql_ok("SELECT setting FROM pg_file_settings WHERE name = 'archive_command'"),
        command
    );
    assert_eq!(server.sql_ok("SHOW archive_timeout"), "1min");
    assert_eq!(server.sql_ok("SHOW log_min_duration_statement"), "250ms");
    assert_eq!(server.sql_ok("SHOW wal_level"), "minimal");

    // Next plan: nothing to do, two settings pending restart; drift says so.
    let plan = dbops.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(0);
    assert!(
        plan.stdout
            .contains("! postgres.setting.wal_level = \"minimal\" now, \"replica\" after restart"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("! postgres.setting.archive_mode = \"off\" now, \"on\" after restart"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("No changes. 2 setting(s) wait for a restart of PostgreSQL"),
        "{}",
        plan.stdout
    );
    let drift = dbops.run(&["drift"]);
    drift.expect_code(2);
    assert!(
        drift
            .stdout
            .contains("Drift: 2 setting(s) wait for a restart"),
        "{}",
        drift.stdout
    );

    server.restart();
    assert_eq!(server.sql_ok("SHOW archive_command"), command);
    let plan = dbops.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(0);
    assert_eq!(
        plan.stdout,
        "No changes. Live state matches the desired-state file.\n"
    );
    dbops.run(&["drift"]).expect_code(0);

    // Archiving is real: a WAL switch reaches the archive directory.
    server.sql_ok("CREATE TABLE wal_filler AS SELECT generate_series(1, 1000) AS n");
    server.sql_ok("SELECT pg_switch_wal()");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let archived: i64 = server
            .sql_ok("SELECT archived_count FROM pg_stat_archiver")
            .parse()
            .unwrap();
        if archived > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "nothing archived: {}",
            server.sql_ok("SELECT * FROM pg_stat_archiver")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(std::fs::read_dir(&archive).unwrap().count() > 0);
}

#[test]
fn allow_restart_runs_the_restart_command_and_converges() {
    let server = PgServer::start();
    let config = format!(
        r#"[postgres]
admin = {{ env = "DATABASE_ROOT_URL" }}

[server]
restart_command = {restart}

[server.settings]
max_connections = 42
shared_buffers = "64MB"
"#,
        restart = toml_string(&server.restart_command())
    );
    let dbops = dbops(&server, &config);
    let apply = dbops.run(&["apply", "--auto-approve", "--allow-restart"]);
    apply.expect_code(0);
    assert!(
        apply
            .stdout
            .contains("PostgreSQL restarted; every setting is in force."),
        "{}\n{}",
        apply.stdout,
        apply.stderr
    );
    assert_eq!(server.sql_ok("SHOW max_connections"), "42");
    assert_eq!(server.sql_ok("SHOW shared_buffers"), "64MB");
    dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);
    dbops.run(&["drift"]).expect_code(0);

    // Equal values spelled differently are no change: 64MB = 8192 pages of 8kB.
    dbops.write_config(
        &config
            .replace("\"64MB\"", "8192")
            .replace("max_connections = 42", "max_connections = \"42\""),
    );
    dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);
}

#[test]
fn allow_restart_without_a_restart_command_fails_clearly_and_changes_nothing() {
    let server = PgServer::start();
    let config = "[postgres]\nadmin = { env = \"DATABASE_ROOT_URL\" }\n\n[roles.early]\n\n[server.settings]\nmax_connections = 43\nwork_mem = \"7MB\"\n";
    let out = dbops(&server, config).run(&["apply", "--auto-approve", "--allow-restart"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("but `[server] restart_command` is not set"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("nothing was changed"), "{}", out.stderr);
    // Refused before the first change: no role, no setting written.
    assert_eq!(
        server.sql_ok("SELECT count(*) FROM pg_roles WHERE rolname = 'early'"),
        "0"
    );
    assert_eq!(server.sql_ok("SHOW work_mem"), "4MB");
}

#[test]
fn a_hand_made_alter_system_is_drift_and_apply_repairs_it() {
    let server = PgServer::start();
    let config = r#"[postgres]
admin = { env = "DATABASE_ROOT_URL" }

[server.settings]
log_min_duration_statement = "1s"
statement_timeout = "30s"
checkpoint_completion_target = 0.8
"#;
    let dbops = dbops(&server, config);
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    dbops.run(&["drift"]).expect_code(0);

    server.sql_ok("ALTER SYSTEM SET log_min_duration_statement = 5000");
    server.sql_ok("SELECT pg_reload_conf()");
    std::thread::sleep(Duration::from_millis(300));
    let drift = dbops.run(&["drift"]);
    drift.expect_code(2);
    assert!(
        drift
            .stdout
            .contains("# postgres.setting.log_min_duration_statement has drifted"),
        "{}",
        drift.stdout
    );
    assert!(
        drift.stdout.contains("~ value = \"5s\" -> \"1s\""),
        "{}",
        drift.stdout
    );
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    assert_eq!(server.sql_ok("SHOW log_min_duration_statement"), "1s");
    dbops.run(&["drift"]).expect_code(0);
}

#[test]
fn unmanaged_settings_are_listed_and_left_alone_unless_pruning() {
    let server = PgServer::start();
    server.sql_ok("ALTER SYSTEM SET work_mem = '8MB'");
    let config = "[postgres]\nadmin = { env = \"DATABASE_ROOT_URL\" }\n\n[server.settings]\nstatement_timeout = \"10s\"\n";
    let dbops = dbops(&server, config);
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    let plan = dbops.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(0);
    assert!(
        plan.stdout.contains(
            "note: `work_mem` is set in postgresql.auto.conf but not in the file; left alone"
        ),
        "{}",
        plan.stdout
    );
    assert_eq!(
        server.sql_ok("SELECT setting FROM pg_file_settings WHERE name = 'work_mem'"),
        "8MB"
    );

    dbops.write_config(&config.replace(
        "[server.settings]",
        "[server]\nprune = true\n\n[server.settings]",
    ));
    let plan = dbops.run(&["plan", "--detailed-exitcode"]);
    plan.expect_code(2);
    assert!(
        plan.stdout.contains("- postgres.setting.work_mem"),
        "{}",
        plan.stdout
    );
    dbops.run(&["apply", "--auto-approve"]).expect_code(0);
    assert_eq!(server.sql_ok("SELECT count(*) FROM pg_file_settings WHERE name = 'work_mem' AND sourcefile LIKE '%auto.conf'"), "0");
    dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);
}

#[test]
fn bad_setting_names_types_and_ranges_fail_before_any_change() {
    let server = PgServer::start();
    let base = "[postgres]\nadmin = { env = \"DATABASE_ROOT_URL\" }\n\n[roles.settings_probe]\n\n[server.settings]\nstatement_timeout = \"10s\"\n";
    for (line, expected) in [
        (
            "shared_bufers = \"128MB\"",
            "unknown setting `shared_bufers`: the server has no setting of that name",
        ),
        (
            "max_connections = \"lots\"",
            "setting `max_connections`: `lots` is not a number",
        ),
        (
            "max_connections = 0",
            "setting `max_connections`: `0` is out of range: `max_connections` accepts 1 to 262143",
        ),
        (
            "wal_level = \"archive\"",
            "setting `wal_level`: `archive` is not one of `minimal`, `replica`, `logical`",
        ),
        (
            "work_mem = \"10s\"",
            "setting `work_mem`: `10s` is not a memory size",
        ),
    ] {
        let out = dbops(&server, &format!("{base}{line}\n")).run(&["apply", "--auto-approve"]);
        out.expect_code(1);
        assert!(
            out.stderr.contains(expected),
            "`{expected}` missing from\n{}",
            out.stderr
        );
        if line.starts_with("shared_bufers") {
            assert!(
                out.stderr.contains("hint: did you mean `shared_buffers`"),
                "{}",
                out.stderr
            );
        }
        assert_eq!(
            server.sql_ok("SELECT count(*) FROM pg_roles WHERE rolname = 'settings_probe'"),
            "0"
        );
        assert_eq!(
            server
                .sql_ok("SELECT count(*) FROM pg_file_settings WHERE sourcefile LIKE '%auto.conf'"),
            "0"
        );
    }
}

/// A setting `ALTER SYSTEM` cannot change is refused at plan time, before
/// anything changes, with every other problem of the same kind.
#[test]
fn settings_alter_system_cannot_change_are_refused_before_any_change() {
    let d = Deployment::with_config(&format!(
        "{}\n[server.settings]\ndata_checksums = \"on\"\ndata_directory = \"/elsewhere\"\nwork_mem = \"8MB\"\n",
        standard_config()
    ));
    for command in [&["plan"][..], &["apply", "--auto-approve"][..]] {
        let out = d.dbops.run(command);
        out.expect_code(1);
        for expected in [
            "setting `data_checksums` cannot be changed with `ALTER SYSTEM` (PostgreSQL fixes it when the cluster is created or built)",
            "setting `data_directory` cannot be changed with `ALTER SYSTEM`",
        ] {
            assert!(out.stderr.contains(expected), "`{expected}` missing:\n{}", out.stderr);
        }
    }
    assert_eq!(
        d.server
            .sql_ok("SELECT count(*) FROM pg_roles WHERE rolname IN ('app_user', 'app_service')"),
        "0",
        "nothing was created"
    );
}
