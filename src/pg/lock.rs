//! The advisory lock that makes `apply` the only writer: held on the admin
//! session for the whole run, waited for up to `--lock-timeout`, released when
//! the session ends (even if dbops is killed).

use std::time::{Duration, Instant};

use tokio_postgres::Client;

use super::connect::server_error;
use crate::error::{Error, ErrorKind, Result};

/// `pg_advisory_lock` key: the bytes of "dbops" as a number, stable across versions.
pub(crate) const LOCK_KEY: i64 = 0x0064_626f_7073;

pub(crate) async fn acquire(client: &Client, timeout: Duration) -> Result<()> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(50);
    loop {
        let row = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_KEY])
            .await
            .map_err(|e| server_error("cannot take the apply lock", &e))?;
        if row.get::<_, bool>(0) {
            return Ok(());
        }
        if started.elapsed() >= timeout {
            return Err(Error::new(format!(
                "another `dbops apply` holds the advisory lock `{LOCK_KEY}` (pg_advisory_lock); gave up after {}",
                humantime::format_duration(Duration::from_secs(timeout.as_secs()))
            ))
            .kind(ErrorKind::Conflict)
            .hint("wait for the other apply to finish, or raise `--lock-timeout`; `SELECT pid FROM pg_locks WHERE locktype = 'advisory'` shows who holds it"));
        }
        let left = timeout.saturating_sub(started.elapsed());
        tokio::time::sleep(pause.min(left).max(Duration::from_millis(10))).await;
        pause = (pause * 2).min(Duration::from_millis(500));
    }
}
