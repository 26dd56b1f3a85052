//! `dbops drift`: read-only, exit 2 naming each out-of-band change, 0 once
//! apply has repaired them.

use crate::support::deployment::Deployment;
use crate::support::squash;

const CONFIG: &str = r#"[postgres]
admin = { env = "DATABASE_ROOT_URL" }

[roles.app_user]
dsn = { env = "DATABASE_URL" }
connection_limit = 50
member_of = ["app_readers"]

[roles.app_service]
dsn = { env = "DATABASE_SERVICE_URL" }
bypass_rls = true

[roles.app_readers]
"#;

#[test]
fn out_of_band_changes_are_reported_by_drift_and_repaired_by_apply() {
    let d = Deployment::with_config(CONFIG);
    d.apply();
    d.assert_converged();

    d.server.sql_ok("ALTER ROLE app_user SUPERUSER");
    d.server.sql_ok("ALTER ROLE app_user BYPASSRLS");
    d.server.sql_ok("ALTER ROLE app_service CONNECTION LIMIT 3");
    d.server.sql_ok("REVOKE app_readers FROM app_user");

    let log_before = d.server.log_text().len();
    let drift = d.dbops.run(&["drift"]);
    drift.expect_code(2);
    // Drift shows each difference as live -> desired, the repair apply would make.
    let shown = squash(&drift.stdout);
    for expected in [
        "# postgres.role.app_user has drifted",
        "~ superuser = true -> false",
        "~ bypass_rls = true -> false",
        "# postgres.role.app_service has drifted",
        "~ connection_limit = 3 -> -1",
        "# postgres.membership.app_user.app_readers is missing",
    ] {
        assert!(
            shown.contains(expected),
            "`{expected}` missing from\n{}",
            drift.stdout
        );
    }
    // Drift's session is read-only: nothing it sent could write.
    let log = d.server.log_text();
    let ours: Vec<&str> = log[log_before..]
        .lines()
        .filter(|l| l.contains("app=dbops"))
        .collect();
    assert!(!ours.is_empty());
    assert!(
        ours.iter()
            .all(|l| !l.contains("ALTER") && !l.contains("GRANT")),
        "{ours:#?}"
    );

    let json = d.dbops.run(&["drift", "--format", "json"]);
    json.expect_code(2);
    let document: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        document["drift"],
        serde_json::json!({"configuration": true, "findings": false, "health": false, "security": false})
    );
    let violations = crate::support::schema::violations("report.schema.json", &document);
    assert!(violations.is_empty(), "{violations:?}");
    // Configuration drift is not a finding: `--fail-on health` exits 0.
    d.dbops
        .run(&["drift", "--fail-on", "health"])
        .expect_code(0);
    assert_eq!(document["summary"]["update"], 2);
    assert_eq!(document["summary"]["create"], 1);

    d.apply();
    d.dbops.run(&["drift"]).expect_code(0);
    assert_eq!(
        d.server
            .sql_ok("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'app_user'"),
        "f|f"
    );
}
