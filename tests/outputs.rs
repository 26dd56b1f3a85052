//! What people and machines read, in full: validate, apply and drift in
//! text, Markdown and JSON against a real server, each compared whole with a
//! reviewed snapshot (`tests/snapshots/`), from an empty server to a
//! converged one, then after changes made by hand.

use crate::support::deployment::Deployment;
use crate::support::snapshot::assert_run;

#[test]
fn plan_apply_and_drift_read_the_same_in_every_format() {
    let d = Deployment::new();
    assert_run("validate", &d.dbops.run(&["validate"]));
    // The plan from empty in every format: tests/cli.rs.
    assert_run(
        "apply_from_empty_text",
        &d.dbops.run(&["apply", "--auto-approve"]),
    );
    assert_run("plan_converged_text", &d.dbops.run(&["plan"]));
    assert_run("drift_in_sync_text", &d.dbops.run(&["drift"]));
    assert_run(
        "drift_in_sync_json",
        &d.dbops.run(&["drift", "--format", "json"]),
    );

    d.server.sql_ok("ALTER ROLE app_user CONNECTION LIMIT 5");
    d.server.sql_ok("ALTER ROLE app_service NOBYPASSRLS");
    assert_run("drift_by_hand_text", &d.dbops.run(&["drift"]));
    assert_run(
        "drift_by_hand_markdown",
        &d.dbops.run(&["drift", "--format", "markdown"]),
    );
    assert_run(
        "drift_by_hand_json",
        &d.dbops.run(&["drift", "--format", "json"]),
    );
    assert_run(
        "apply_repair_json_log",
        &d.dbops
            .run(&["apply", "--auto-approve", "--log-format", "json"]),
    );
    assert_run(
        "apply_converged_json",
        &d.dbops
            .run(&["apply", "--auto-approve", "--format", "json"]),
    );
}

/// Output for machines is clean: with `--log-format json` every stderr line
/// of an apply with a warning parses as JSON (the warning an event with its
/// key and location); `--format json` carries the warning; the markdown
/// shows it outside the fold. `--fail-on-pending` makes a PR check fail
/// while declared settings wait for a restart, which `--detailed-exitcode`
/// alone calls "no changes".
#[test]
fn machine_output_is_clean_and_pending_settings_can_fail_a_check() {
    let d = Deployment::with_config(&format!(
        "{}\n[server.settings]\nmax_connections = 150\n",
        crate::support::deployment::standard_config()
    ));
    let mut dbops = d.dbops;
    let app = format!(
        "{}?schema=public",
        d.server.url("app_user", &d.app_password, "app")
    );
    dbops.set_env("DATABASE_URL", &app);

    let apply = dbops.run(&["apply", "--auto-approve", "--log-format", "json"]);
    apply.expect_code(0);
    let events: Vec<serde_json::Value> = apply
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let warning = events
        .iter()
        .find(|e| e["event"] == "warning")
        .unwrap_or_else(|| panic!("no warning event:\n{}", apply.stderr));
    assert_eq!(warning["level"], "warn");
    assert_eq!(warning["details"]["key"], "roles.app_user.dsn");
    assert_eq!(warning["details"]["location"]["line"], 5);
    for event in &events {
        let violations = crate::support::schema::violations("event.schema.json", event);
        assert!(violations.is_empty(), "{violations:?}");
    }

    let plan = dbops.run(&["plan", "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    assert_eq!(document["warnings"][0]["key"], "roles.app_user.dsn");
    let markdown = dbops.run(&["plan", "--format", "markdown"]);
    assert!(
        markdown
            .stdout
            .contains("> **Warning:** `roles.app_user.dsn` (dbops.toml:5:7)"),
        "{}",
        markdown.stdout
    );

    // `max_connections` waits for a restart: no changes, but not in force.
    dbops.run(&["plan", "--detailed-exitcode"]).expect_code(0);
    let pending = dbops.run(&["plan", "--detailed-exitcode", "--fail-on-pending"]);
    pending.expect_code(2);
    assert!(
        pending.stdout.contains("wait for a restart"),
        "{}",
        pending.stdout
    );

    // An error under `--log-format json` is a JSON line too.
    dbops.set_env(
        "DATABASE_ROOT_URL",
        "postgres://postgres:pw@127.0.0.1:1/postgres",
    );
    let failed = dbops.run(&["plan", "--log-format", "json"]);
    failed.expect_code(1);
    for line in failed.stderr.lines() {
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert_eq!(event["event"], "error", "{line}");
        assert!(event["details"]["hints"].is_array(), "{line}");
    }
}
