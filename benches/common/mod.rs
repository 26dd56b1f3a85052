//! What the benchmarks share: a database of a given size, and running a
//! whole process for its wall time and peak RSS.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `command`, returning its wall time and peak RSS in MB.
#[expect(clippy::zombie_processes, reason = "reaped by `wait4`, for its rusage")]
pub(crate) fn measure(command: &mut Command) -> (Duration, f64) {
    let started = Instant::now();
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting for our own child, with valid pointers.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed();
    assert_eq!(waited, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{command:?} failed"
    );
    (elapsed, usage.ru_maxrss as f64 / 1024.0)
}

/// Database `app` with about `megabytes` MB in one table (260 bytes a row
/// on disk); its size as PostgreSQL prints it.
pub(crate) fn fill(pg: &crate::support::PgServer, megabytes: u64) -> String {
    pg.sql_ok("CREATE DATABASE app");
    let rows = megabytes * 1024 * 1024 / 260;
    pg.sql(
        "app",
        &format!(
            "CREATE TABLE items (id bigint, body text); \
             INSERT INTO items SELECT g, md5(g::text) || repeat(md5((g * 7)::text), 6) \
             FROM generate_series(1, {rows}) g;"
        ),
    );
    pg.sql_ok("SELECT pg_size_pretty(pg_database_size('app'))")
}
