//! Saved plans: `plan --out` then `apply PLANFILE` applies exactly that plan,
//! and refuses one whose file or live state changed since.

use crate::support::deployment::Deployment;

#[test]
fn a_saved_plan_applies_without_a_prompt_and_converges() {
    let d = Deployment::new();
    d.dbops.run(&["plan", "--out", "tfplan"]).expect_code(0);
    let meta = std::fs::metadata(d.dbops.path("tfplan")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let out = d.dbops.run(&["apply", "tfplan"]);
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("Apply complete! Resources: 5 added, 0 changed, 0 destroyed."),
        "{}",
        out.stdout
    );
    d.assert_converged();
}

#[test]
fn a_saved_plan_is_refused_when_live_state_changed() {
    let d = Deployment::new();
    d.apply();
    d.server.sql_ok("ALTER ROLE app_user CONNECTION LIMIT 1");
    d.dbops.run(&["plan", "--out", "tfplan"]).expect_code(0);
    // Someone changes the role again after the plan was reviewed.
    d.server.sql_ok("ALTER ROLE app_user CONNECTION LIMIT 2");
    let out = d.dbops.run(&["apply", "tfplan"]);
    out.expect_code(1);
    assert!(out.stderr.contains("refusing to apply the saved plan `tfplan`: the live state changed since the plan was saved"), "{}", out.stderr);
    assert_eq!(
        d.server
            .sql_ok("SELECT rolconnlimit FROM pg_roles WHERE rolname = 'app_user'"),
        "2"
    );
}

#[test]
fn a_saved_plan_is_refused_when_the_file_changed() {
    let d = Deployment::new();
    d.dbops.run(&["plan", "--out", "tfplan"]).expect_code(0);
    d.dbops
        .write_config(&crate::support::deployment::standard_config().replace("50", "51"));
    let out = d.dbops.run(&["apply", "tfplan"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("the desired-state file changed since the plan was saved"),
        "{}",
        out.stderr
    );
    assert_eq!(
        d.server
            .sql_ok("SELECT count(*) FROM pg_roles WHERE rolname = 'app_user'"),
        "0"
    );
}

#[test]
fn apply_without_a_terminal_needs_auto_approve_or_a_plan_file() {
    let d = Deployment::new();
    let out = d.dbops.run(&["apply"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("refusing to apply without confirmation: stdin is not a terminal"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("hint: pass `--auto-approve`"));
    assert_eq!(
        d.server
            .sql_ok("SELECT count(*) FROM pg_roles WHERE rolname = 'app_user'"),
        "0"
    );
}

#[test]
fn garbage_plan_files_are_refused() {
    let d = Deployment::new();
    std::fs::write(d.dbops.path("tfplan"), "{\"kind\": \"something\"}").unwrap();
    let out = d.dbops.run(&["apply", "tfplan"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("is not a dbops plan file"),
        "{}",
        out.stderr
    );
}
