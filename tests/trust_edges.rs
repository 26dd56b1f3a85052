//! Trust at the edges, round two: each case a reproduction of a defect a
//! hostile review found, against real servers.

use crate::support::deployment::Deployment;

/// The admin DSN reaches a server in recovery (a hot standby): plan, drift
/// and apply refuse at once, saying so, and nothing is written: no role, no
/// `ALTER SYSTEM`.
#[test]
fn an_admin_dsn_on_a_hot_standby_is_refused_before_anything_changes() {
    let d = Deployment::with_config(&format!(
        "{}\n[server.settings]\nwork_mem = \"8MB\"\n",
        crate::support::deployment::standard_config()
    ));
    let data = d.server.data_dir();
    std::fs::write(data.join("standby.signal"), "").unwrap();
    crate::support::postgres::give_to_server_user(&data.join("standby.signal"));
    d.server.restart();
    assert_eq!(d.server.sql_ok("SELECT pg_is_in_recovery()"), "t");
    for args in [
        &["plan"][..],
        &["drift"][..],
        &["apply", "--auto-approve"][..],
    ] {
        let out = d.dbops.run(args);
        out.expect_code(1);
        assert!(
            out.stderr
                .contains("the admin DSN reaches a server in recovery (a hot standby")
                && out.stderr.contains("hint: point the admin DSN"),
            "{args:?}\n{}",
            out.stderr
        );
        assert!(
            !out.stderr.contains("read-only transaction"),
            "{}",
            out.stderr
        );
    }
    assert_eq!(
        d.server
            .sql_ok("SELECT count(*) FROM pg_roles WHERE rolname = 'app_user'"),
        "0"
    );
    let auto_conf = std::fs::read_to_string(data.join("postgresql.auto.conf")).unwrap();
    assert!(!auto_conf.contains("work_mem"), "{auto_conf}");
}
