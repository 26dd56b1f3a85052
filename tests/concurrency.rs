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
