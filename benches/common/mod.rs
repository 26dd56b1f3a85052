//! What the benchmarks share: running a whole process and reading its
//! wall time and peak RSS.

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
