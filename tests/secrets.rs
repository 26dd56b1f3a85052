//! Secrets never leak: every command in every format, saved plans, errors, and
//! the server's own log (with `log_statement = 'all'`) are grepped for the
//! plaintext passwords (and their percent-encoded form).

use crate::support::deployment::{Deployment, APP_USER, DATABASE};
use crate::support::{percent, Dbops, Output};

fn assert_clean(what: &str, text: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(
            !text.contains(secret.as_str()),
            "{what} leaks a secret:\n{text}"
        );
        let encoded = percent(secret);
        assert!(
            !text.contains(&encoded),
            "{what} leaks a percent-encoded secret:\n{text}"
        );
    }
}

fn check(what: &str, out: &Output, secrets: &[String]) {
    assert_clean(&format!("{what} stdout"), &out.stdout, secrets);
    assert_clean(&format!("{what} stderr"), &out.stderr, secrets);
}

#[test]
fn no_output_format_plan_file_or_server_log_holds_a_plaintext_password() {
    let mut d = Deployment::new();
    let secrets = vec![d.app_password.clone(), d.service_password.clone()];
    for format in ["text", "json", "markdown"] {
        check(
            "validate",
            &d.dbops.run(&["validate", "--format", format]),
            &secrets,
        );
        let plan = d.dbops.run(&["plan", "--format", format]);
        plan.expect_code(0);
        check("plan", &plan, &secrets);
        check(
            "drift",
            &d.dbops.run(&["drift", "--format", format]),
            &secrets,
        );
    }
    let saved = d.dbops.run(&["plan", "--out", "saved.plan"]);
    saved.expect_code(0);
    let plan_file = std::fs::read_to_string(d.dbops.path("saved.plan")).unwrap();
    assert_clean("plan file", &plan_file, &secrets);
    assert!(plan_file.contains("\"sensitive\": true"), "{plan_file}");

    let apply = d.dbops.run(&[
        "apply",
        "--auto-approve",
        "--log-format",
        "json",
        "--format",
        "json",
    ]);
    apply.expect_code(0);
    check("apply", &apply, &secrets);
    assert!(
        apply.stderr.contains("\"event\":\"role.created\""),
        "{}",
        apply.stderr
    );

    // A rotation, in every format.
    let rotated = "rotated: @ : / % ' \" and spaces".to_string();
    d.set_app_password(&rotated);
    let secrets = vec![secrets[0].clone(), secrets[1].clone(), rotated.clone()];
    for format in ["text", "json", "markdown"] {
        let plan = d.dbops.run(&["plan", "--format", format]);
        check("plan after rotation", &plan, &secrets);
        let drift = d.dbops.run(&["drift", "--format", format]);
        drift.expect_code(2);
        check("drift after rotation", &drift, &secrets);
    }
    let apply = d
        .dbops
        .run(&["apply", "--auto-approve", "--log-format", "json"]);
    apply.expect_code(0);
    check("apply rotation", &apply, &secrets);
    assert!(
        apply.stderr.contains("\"event\":\"role.password.rotated\""),
        "{}",
        apply.stderr
    );
    assert!(
        apply
            .stderr
            .contains("\"address\":\"postgres.role.app_user\""),
        "{}",
        apply.stderr
    );
    assert!(d.server.can_login(APP_USER, &rotated, DATABASE));

    // The server saw every statement dbops sent, and none held a plaintext.
    let log = d.server.log_text();
    assert!(
        log.contains("ALTER ROLE \"app_user\" WITH PASSWORD 'SCRAM-SHA-256$"),
        "{log}"
    );
    assert_clean("server log", &log, &secrets);
}

#[test]
fn errors_never_quote_a_secret() {
    let d = Deployment::new();
    let secrets = vec![d.app_password.clone(), "hunter2 secret".to_string()];

    // Wrong admin password.
    let wrong = d.server.url("postgres", "hunter2 secret", "postgres");
    let out = Dbops::new(&crate::support::deployment::standard_config())
        .env("DATABASE_ROOT_URL", &wrong)
        .env(
            "DATABASE_URL",
            &d.server.url(APP_USER, &d.app_password, DATABASE),
        )
        .env(
            "DATABASE_SERVICE_URL",
            &d.server.url("app_service", "x", DATABASE),
        )
        .run(&["plan"]);
    out.expect_code(1);
    check("wrong admin password", &out, &secrets);
    assert!(
        out.stderr.contains("password authentication failed"),
        "{}",
        out.stderr
    );

    // A DSN written into the file as a plain string.
    let inline = format!(
        "[postgres]\nadmin = {{ env = \"DATABASE_ROOT_URL\" }}\n[roles.app_user]\ndsn = \"{}\"\n",
        d.server.url(APP_USER, "hunter2 secret", DATABASE)
    );
    let out = Dbops::new(&inline)
        .env("DATABASE_ROOT_URL", &d.server.admin_url())
        .run(&["validate"]);
    out.expect_code(1);
    check("plain-string secret", &out, &secrets);

    // A DSN that does not parse.
    let out = Dbops::new(&crate::support::deployment::standard_config())
        .env("DATABASE_ROOT_URL", &d.server.admin_url())
        .env(
            "DATABASE_URL",
            "postgres://app_user:hunter2 secret@127.0.0.1:99999/app",
        )
        .env("DATABASE_SERVICE_URL", "mysql://x:hunter2 secret@h/db")
        .run(&["validate"]);
    out.expect_code(1);
    check("unparsable DSN", &out, &secrets);

    // A DSN for another user than its table.
    let out = Dbops::new(&crate::support::deployment::standard_config())
        .env("DATABASE_ROOT_URL", &d.server.admin_url())
        .env(
            "DATABASE_URL",
            &d.server.url("someone_else", "hunter2 secret", DATABASE),
        )
        .env(
            "DATABASE_SERVICE_URL",
            &d.server.url("app_service", "x", DATABASE),
        )
        .run(&["validate"]);
    out.expect_code(1);
    check("user mismatch", &out, &secrets);
}
