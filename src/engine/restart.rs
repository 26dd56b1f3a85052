//! Restarting PostgreSQL for settings that wait for it: runs `[server]
//! restart_command` (only under `apply --allow-restart`), then waits, bounded,
//! until the server accepts the admin connection again.

use std::time::{Duration, Instant};

use crate::dsn::Dsn;
use crate::error::{Error, ErrorKind, Result};
use crate::pg::connect::{connect, Access};
use crate::util::shell;

pub async fn restart(
    command: &str,
    admin: &Dsn,
    timeout: Duration,
    connect_timeout: Duration,
) -> Result<()> {
    shell::run(command, "`[server] restart_command`", timeout)
        .await
        .map_err(|e| {
            e.hint("the settings are written; restart PostgreSQL yourself, then run `dbops drift`")
        })?;
    let deadline = Instant::now() + timeout;
    loop {
        match connect(admin, Access::ReadOnly, connect_timeout).await {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => {
                return Err(Error::new(format!(
                    "PostgreSQL did not accept connections within {} of the restart",
                    humantime::format_duration(timeout)
                ))
                .kind(ErrorKind::Connection)
                .cause(e.message().to_string()))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}
