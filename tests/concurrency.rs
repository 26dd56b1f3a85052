//! One writer at a time: two applies started together both end converged, the
//! second waiting on the advisory lock; a held lock makes apply fail clearly
//! after `--lock-timeout`.

use std::time::{Duration, Instant};

use crate::support::deployment::Deployment;

#[test]
fn two_concurrent_applies_both_succeed_in_turn() {
    let d = Deployment::new();
    let spawn = || {
        d.dbops
            .command(&["apply", "--auto-approve", "--lock-timeout", "60s"])
            .spawn()
            .unwrap()
    };
    let (first, second) = (spawn(), spawn());
    let deadline = Instant::now() + Duration::from_secs(90);
    for mut child in [first, second] {
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "an apply failed: {:?}",
                    child.wait_with_output()
                );
                break;
            }
            assert!(Instant::now() < deadline, "apply hung");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    d.assert_converged();
}

#[test]
fn a_held_lock_fails_apply_after_the_lock_timeout() {
    let d = Deployment::new();
    // Hold the lock from another session for a few seconds.
    let holder = {
        let url = d.server.admin_url();
        std::thread::spawn(move || {
            std::process::Command::new("psql")
                .args([
                    "-X",
                    "-q",
                    "-c",
                    "SELECT pg_advisory_lock(431148200051); SELECT pg_sleep(6)",
                ])
                .arg(url)
                .output()
                .unwrap()
        })
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while d
        .server
        .sql_ok("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
        != "1"
    {
        assert!(
            Instant::now() < deadline,
            "the test could not take the lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let started = Instant::now();
    let out = d
        .dbops
        .run(&["apply", "--auto-approve", "--lock-timeout", "1s"]);
    out.expect_code(1);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        out.stderr
            .contains("another `dbops apply` holds the advisory lock `431148200051`"),
        "{}",
        out.stderr
    );
    assert_eq!(
        d.server
            .sql_ok("SELECT count(*) FROM pg_roles WHERE rolname = 'app_user'"),
        "0"
    );
    holder.join().unwrap();
}

/// An open transaction that altered the role (someone's `psql`, left idle):
/// apply's `ALTER ROLE` waits `--statement-lock-timeout`, not forever, and
/// the error names the session that holds the lock and what was not
/// applied. Once that transaction ends, apply converges.
#[test]
fn a_lock_held_by_an_open_transaction_bounds_apply_and_names_the_session() {
    use std::io::Write;
    let mut d = Deployment::new();
    d.apply();
    let mut blocker = std::process::Command::new(crate::support::postgres::bindir().join("psql"))
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1"])
        .arg(d.server.admin_url())
        .env("PGAPPNAME", "hand session")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = blocker.stdin.take().unwrap();
    writeln!(stdin, "BEGIN; ALTER ROLE app_user CONNECTION LIMIT 7;").unwrap();
    stdin.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let pid = loop {
        let pid = d.server.sql_ok(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'hand session' AND state = 'idle in transaction'",
        );
        if !pid.is_empty() {
            break pid;
        }
        assert!(
            Instant::now() < deadline,
            "the blocking session never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    };

    d.set_app_password(&crate::support::hostile_password("blocked"));
    let started = Instant::now();
    let out = d
        .dbops
        .run(&["apply", "--auto-approve", "--statement-lock-timeout", "1s"]);
    out.expect_code(1);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    for wanted in [
        "it waited 1s (`--statement-lock-timeout`) for a lock another session holds",
        &format!("held by pid {pid} (application `hand session`, user `postgres`, idle in transaction, its transaction open for"),
        "not applied: `postgres.role.app_user`",
        &format!("SELECT pg_terminate_backend({pid})"),
    ] {
        assert!(out.stderr.contains(wanted), "{wanted}\n{}", out.stderr);
    }
    assert!(!out.all().contains(&d.app_password));

    writeln!(stdin, "ROLLBACK;").unwrap();
    drop(stdin);
    let _ = blocker.wait();
    d.apply();
    d.assert_converged();
}
