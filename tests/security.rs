//! Security findings against real PostgreSQL 15: none on a clean cluster;
//! each on a cluster built to have it; `--fail-on security` selects them;
//! `import` declares a deliberate superuser, after which it is no finding.

use crate::support::deployment::Deployment;

/// HBA rules without `trust`, `password` or `md5`: the clean start.
fn harden(d: &Deployment) {
    let hba = d.server.data_dir().join("pg_hba.conf");
    std::fs::write(
        &hba,
        "local all all peer\nhost all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n",
    )
    .unwrap();
    crate::support::postgres::give_to_server_user(&hba);
    d.server.sql_ok("SELECT pg_reload_conf()");
}

fn security_ids(out: &crate::support::Output) -> Vec<String> {
    let document: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let mut ids: Vec<String> = document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["class"] == "security")
        .map(|f| {
            format!(
                "{} {}",
                f["id"].as_str().unwrap(),
                f["address"].as_str().unwrap()
            )
        })
        .collect();
    ids.sort();
    ids
}

#[test]
fn each_security_finding_on_a_cluster_built_to_have_it_and_none_on_a_clean_one() {
    let d = Deployment::new();
    harden(&d);
    d.apply();
    let clean = d.dbops.run(&["drift", "--format", "json"]);
    clean.expect_code(0);
    assert!(security_ids(&clean).is_empty(), "{}", clean.stdout);

    // The cluster someone built by hand.
    d.server
        .sql_ok("CREATE ROLE hidden LOGIN BYPASSRLS PASSWORD 'scram pw'");
    d.server.sql_ok("CREATE ROLE dba SUPERUSER NOLOGIN");
    d.server.sql_ok("CREATE ROLE helper NOLOGIN IN ROLE dba");
    d.server
        .sql_ok("SET password_encryption = 'md5'; CREATE ROLE weak LOGIN PASSWORD 'md5 pw'");
    d.server
        .sql_ok("ALTER SYSTEM SET password_encryption = 'md5'");
    let hba = d.server.data_dir().join("pg_hba.conf");
    let mut text = std::fs::read_to_string(&hba).unwrap();
    text.push_str("host all all 10.0.0.0/8 trust\n");
    std::fs::write(&hba, text).unwrap();
    d.server.sql_ok("SELECT pg_reload_conf()");
    d.server
        .sql("app", "GRANT CREATE ON SCHEMA public TO PUBLIC");

    let drift = d.dbops.run(&["drift", "--format", "json"]);
    drift.expect_code(2);
    assert_eq!(
        security_ids(&drift),
        [
            "security.hba_method postgres.hba.line.4",
            "security.password_encryption postgres.setting.password_encryption",
            "security.public_create postgres.schema.app.public",
            "security.undeclared_privileged_role postgres.role.dba",
            "security.undeclared_privileged_role postgres.role.helper",
            "security.undeclared_privileged_role postgres.role.hidden",
            "security.weak_password postgres.role.weak",
        ],
        "{}",
        drift.stdout
    );
    d.dbops
        .run(&["drift", "--fail-on", "security"])
        .expect_code(2);
    d.dbops
        .run(&["drift", "--fail-on", "health"])
        .expect_code(0);
    let text = d.dbops.run(&["drift"]);
    assert!(
        text.stdout
            .contains("role `dba` holds SUPERUSER but the file does not declare it")
            && text.stdout.contains("`dbops import` writes it"),
        "{}",
        text.stdout
    );

    // Declared on purpose through import: no finding for it any more.
    let import = d.dbops.run(&["import", "--out", "imported.toml"]);
    import.expect_code(0);
    let file = std::fs::read_to_string(d.dbops.path("imported.toml")).unwrap();
    assert!(file.contains("[roles.dba]\nsuperuser = true"), "{file}");
    let drift = d
        .dbops
        .run(&["drift", "-f", "imported.toml", "--format", "json"]);
    let ids = security_ids(&drift);
    assert!(
        !ids.iter().any(|i| i.ends_with("postgres.role.dba")),
        "{ids:?}"
    );
}
