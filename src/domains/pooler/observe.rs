//! Reading the pooler: its files (never through a link), what its admin
//! console answers (its running configuration, or a refusal of the declared
//! admin user), the pgBouncer process its pidfile names (proven to be
//! pgBouncer, with the user it runs as), and a login through it by each
//! application role, with a statement that may need a server login.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use super::admin::{self, Console};
use super::desired::DesiredPooler;
use super::diff::paths;
use super::live::{LivePooler, Process};
use super::signal;
use crate::error::Result;
use crate::managed_files;
use crate::pg::connect::try_statement;

pub(crate) async fn observe(
    pooler: &DesiredPooler,
    client: &tokio_postgres::Client,
    timeout: Duration,
) -> Result<LivePooler> {
    let mut live = LivePooler::default();
    if !pooler.backend_is_admin {
        let row = client
            .query_one(
                "SELECT current_setting('port')::int, current_setting('listen_addresses'), current_setting('unix_socket_directories')",
                &[],
            )
            .await
            .map_err(|e| crate::pg::connect::server_error("cannot read where the server listens", &e))?;
        let port: i32 = row.get(0);
        live.server = Some((u16::try_from(port).unwrap_or(0), row.get(1), row.get(2)));
    }
    for path in paths(pooler) {
        live.files
            .insert(path.display().to_string(), managed_files::observe(path)?);
    }
    match admin::open(pooler, timeout).await? {
        Console::Open(client) => live.running = Some(admin::show_config(&client).await?),
        Console::Refused(error) => live.console_refused = Some(error.message().to_string()),
        Console::Closed => {}
    }
    live.process = process(pooler);
    live.creator = crate::util::files::creator();
    live.reached_at = format!("{}:{}", pooler.host, pooler.listen_port);
    for (name, dsn) in &pooler.logins {
        live.logins
            .insert(name.clone(), try_statement(dsn, timeout).await);
    }
    Ok(live)
}

/// The pgBouncer its pidfile names, proven, and the user and groups it runs as.
pub(crate) fn process(pooler: &DesiredPooler) -> Process {
    let Some(pidfile) = pooler.pidfile() else {
        return Process::Unknown;
    };
    match signal::verified_pgbouncer(Path::new(pidfile)) {
        Ok(None) => Process::NotRunning,
        Err(e) => Process::Unverified(e.message().to_string()),
        Ok(Some(pid)) => {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let field = |name: &str| -> Vec<u32> {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(|rest| {
                        rest.split_whitespace()
                            .filter_map(|n| n.parse().ok())
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let uid = field("Uid:").first().copied().unwrap_or_else(|| {
                std::fs::metadata(format!("/proc/{pid}")).map_or(0, |m| m.uid())
            });
            let mut gids = field("Gid:").into_iter().take(1).collect::<Vec<_>>();
            gids.extend(field("Groups:"));
            Process::Verified { pid, uid, gids }
        }
    }
}
