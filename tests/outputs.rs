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
