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

/// Runs `dbops apply` on a pseudo-terminal (util-linux `script`), answering the prompt.
fn apply_on_a_terminal(d: &Deployment, answer: &str) -> crate::support::Output {
    let binary = env!("CARGO_BIN_EXE_dbops");
    let mut script = std::process::Command::new("script");
    script
        .args(["-qec", &format!("'{binary}' apply --no-color"), "/dev/null"])
        .current_dir(d.dbops.path(""))
        .envs(d.dbops.env_vars())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = script.spawn().expect("script runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{answer}\n").as_bytes())
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "apply on a terminal hung"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    crate::support::Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn on_a_terminal_apply_asks_and_only_yes_proceeds() {
    let d = Deployment::new();
    let out = apply_on_a_terminal(&d, "no");
    assert!(
        out.stdout
            .contains("Do you want to perform these actions? Only `yes` will be accepted."),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("apply cancelled; nothing was changed"),
        "{}",
        out.stdout
    );
    assert_eq!(
        d.server
            .sql_ok("SELECT count(*) FROM pg_roles WHERE rolname = 'app_user'"),
        "0"
    );

    let out = apply_on_a_terminal(&d, "yes");
    assert!(
        out.stdout.contains("Apply complete! Resources: 5 added"),
        "{}",
        out.stdout
    );
    d.assert_converged();
}
