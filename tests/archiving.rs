//! Archive settings derived from `[backup]`, and the lints that catch settings
//! that would defeat it.

use crate::support::{Dbops, PgServer};

const BASE: &str = "[postgres]\nadmin = { env = \"DATABASE_ROOT_URL\" }\n";

#[test]
fn backup_declaration_derives_archive_settings() {
    let server = PgServer::start();
    let config = format!("{BASE}\n[backup]\ntool = \"wal-g\"\nrpo = \"5m\"\n");
    let dbops = Dbops::new(&config).env("DATABASE_ROOT_URL", &server.admin_url());
    let plan = dbops.run(&["plan", "--format", "json"]);
    plan.expect_code(0);
    let document: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let after = |address: &str| -> (String, String) {
        let change = document["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["address"] == address)
            .unwrap_or_else(|| panic!("{address} missing from {}", plan.stdout));
        (
            change["attributes"][0]["after"]
                .as_str()
                .unwrap()
                .to_string(),
            change["reason"].as_str().unwrap_or_default().to_string(),
        )
    };
    assert_eq!(
        after("postgres.setting.archive_mode"),
        ("on".into(), "derived from `[backup]`".into())
    );
    assert_eq!(
        after("postgres.setting.archive_command").0,
        "wal-g wal-push %p"
    );
    assert_eq!(after("postgres.setting.archive_timeout").0, "60s");
    // wal_level is already `replica` on a new cluster: nothing to change.
    assert!(!plan.stdout.contains("postgres.setting.wal_level"));

    // Explicit settings win over derived ones.
    let config = format!("{BASE}\n[server.settings]\narchive_timeout = \"30s\"\n\n[backup]\ntool = \"pgbackrest\"\nrpo = \"5m\"\nstanza = \"db\"\n");
    let dbops = Dbops::new(&config).env("DATABASE_ROOT_URL", &server.admin_url());
    let plan = dbops.run(&["plan"]);
    assert!(
        plan.stdout
            .contains("\"pgbackrest --stanza=db archive-push %p\""),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("~ value = \"0\" -> \"30s\""),
        "{}",
        plan.stdout
    );
}

#[test]
fn lints_report_settings_that_defeat_the_backup() {
    let dbops = |extra: &str| {
        Dbops::new(&format!(
            "{BASE}\n[server.settings]\n{extra}\n\n[backup]\nrpo = \"5m\"\n"
        ))
        .env(
            "DATABASE_ROOT_URL",
            "postgres://postgres:pw@127.0.0.1:1/postgres",
        )
    };
    let out = dbops("archive_mode = \"off\"").run(&["validate"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("dbops.toml:5:16: key `server.settings.archive_mode`: `archive_mode` is off while `[backup]` is declared"),
        "{}",
        out.stderr
    );

    let out = dbops("wal_level = \"minimal\"").run(&["validate"]);
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("`wal_level = minimal` cannot archive WAL"),
        "{}",
        out.stderr
    );

    let out = dbops("archive_timeout = \"10min\"").run(&["validate"]);
    out.expect_code(0);
    assert!(
        out.stderr.contains(
            "warning: dbops.toml:5:19: `archive_timeout = 10min` is longer than `backup.rpo` (5m)"
        ),
        "{}",
        out.stderr
    );
}
