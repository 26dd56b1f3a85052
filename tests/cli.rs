//! Whole CLI runs: the text, JSON and Markdown forms of a plan against a real
//! server, exit codes, colors, and `DBOPS_FILE`.

use crate::support::deployment::Deployment;
use crate::support::snapshot::assert_run;
use crate::support::Dbops;

#[test]
fn plan_formats_exit_codes_and_colors() {
    let d = Deployment::new();
    let text = d.dbops.run(&["plan"]);
    text.expect_code(0);
    assert!(
        !text.stdout.contains('\u{1b}'),
        "no color without a terminal"
    );
    assert_run("cli_plan_text", &text);

    let json = d
        .dbops
        .run(&["plan", "--format", "json", "--detailed-exitcode"]);
    json.expect_code(2);
    let document: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let violations = crate::support::schema::violations("report.schema.json", &document);
    assert!(violations.is_empty(), "{violations:?}");
    assert_run("cli_plan_json", &json);
    assert_run(
        "cli_plan_markdown",
        &d.dbops.run(&["plan", "--format", "markdown"]),
    );

    d.apply();
    assert_run(
        "cli_plan_converged",
        &d.dbops.run(&["plan", "--detailed-exitcode"]),
    );
    assert_run(
        "cli_plan_converged_json",
        &d.dbops
            .run(&["plan", "--format", "json", "--detailed-exitcode"]),
    );
}

#[test]
fn dbops_file_env_points_at_the_desired_state_file() {
    let d = Deployment::new();
    std::fs::rename(d.dbops.path("dbops.toml"), d.dbops.path("elsewhere.toml")).unwrap();
    d.dbops.run(&["validate"]).expect_code(1);
    let dbops = crate::support::Dbops::new("")
        .env(
            "DBOPS_FILE",
            d.dbops.path("elsewhere.toml").to_str().unwrap(),
        )
        .env("DATABASE_ROOT_URL", &d.server.admin_url())
        .env("DATABASE_URL", &d.server.url("app_user", "x", "app"))
        .env(
            "DATABASE_SERVICE_URL",
            &d.server.url("app_service", "y", "app"),
        );
    let out = dbops.run(&["validate"]);
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("declares 2 roles, 1 database, 0 poolers, 0 grants, 0 buckets, 0 backup tools, 0 dumped databases, 0 settings"),
        "{}",
        out.stdout
    );
}

#[test]
fn json_event_log_carries_rotation_evidence_without_secrets() {
    let d = Deployment::new();
    let out = d
        .dbops
        .run(&["apply", "--auto-approve", "--log-format", "json"]);
    out.expect_code(0);
    let events: Vec<serde_json::Value> = out
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"database.created"), "{names:?}");
    assert!(names.contains(&"role.created"), "{names:?}");
    assert!(names.contains(&"grant.connect.granted"), "{names:?}");
    assert_eq!(names.last(), Some(&"apply.complete"));
    for event in &events {
        assert!(event["timestamp"].as_str().unwrap().ends_with('Z'));
        let violations = crate::support::schema::violations("event.schema.json", event);
        assert!(violations.is_empty(), "{violations:?}");
    }
    let find = |events: &[serde_json::Value], name: &str| {
        events
            .iter()
            .find(|e| e["event"] == name)
            .unwrap_or_else(|| panic!("no {name} in {events:?}"))
            .clone()
    };
    let passwords = find(&events, "postgres.passwords.verified");
    let mut rotated: Vec<&str> = passwords["details"]["rotated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    rotated.sort();
    assert_eq!(rotated, vec!["app_service", "app_user"]);
    assert_eq!(
        passwords["details"]["verified_unchanged"],
        serde_json::json!([])
    );

    // A no-op apply still leaves evidence: every password verified, counts of zero.
    let out = d
        .dbops
        .run(&["apply", "--auto-approve", "--log-format", "json"]);
    out.expect_code(0);
    let events: Vec<serde_json::Value> = out
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    let passwords = find(&events, "postgres.passwords.verified");
    assert_eq!(
        passwords["details"]["verified_unchanged"],
        serde_json::json!(["app_service", "app_user"])
    );
    assert_eq!(passwords["details"]["rotated"], serde_json::json!([]));
    let complete = events.last().unwrap();
    assert_eq!(complete["event"], "apply.complete");
    assert_eq!(
        complete["details"],
        serde_json::json!({"added": 0, "changed": 0, "destroyed": 0})
    );
    for secret in [&d.app_password, &d.service_password] {
        assert!(!out.all().contains(secret.as_str()));
    }
}

/// `dbops completions bash` loads in bash and registers a completion for dbops.
#[test]
fn bash_completions_load_and_register() {
    let script = Dbops::new("").run(&["completions", "bash"]);
    script.expect_code(0);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dbops.bash");
    std::fs::write(&file, &script.stdout).unwrap();
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("source '{}' && complete -p dbops", file.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("dbops"));
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let out = Dbops::new("").run(&["completions", shell]);
        out.expect_code(0);
        assert!(out.stdout.contains("dbops"), "{shell}");
    }
    Dbops::new("").run(&["completions", "tcsh"]).expect_code(64);
}

/// `dbops man` renders with groff, without warnings, and names every command.
#[test]
fn the_man_page_renders() {
    let page = Dbops::new("").run(&["man"]);
    page.expect_code(0);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dbops.1");
    std::fs::write(&file, &page.stdout).unwrap();
    let out = std::process::Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(&file)
        .output()
        .expect("groff runs; scripts/test.sh installs it");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "groff warnings");
    let text = std::process::Command::new("groff")
        .args(["-man", "-Tascii"])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    for command in [
        "validate",
        "plan",
        "apply",
        "drift",
        "import",
        "completions",
    ] {
        assert!(text.contains(command), "{command} missing from\n{text}");
    }
}
