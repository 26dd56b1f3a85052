//! Reading the pooler: its files (never through a link), its running
//! configuration from the admin console when that is on and pgBouncer runs,
//! and a login through it by each application role with its desired
//! password. A pooler that refuses dbops's console login is an error, not
//! "not running".

use std::time::Duration;

use super::admin;
use super::desired::DesiredPooler;
use super::diff::paths;
use super::live::LivePooler;
use crate::error::Result;
use crate::managed_files;
use crate::pg::connect::try_login;

pub(crate) async fn observe(pooler: &DesiredPooler, timeout: Duration) -> Result<LivePooler> {
    let mut live = LivePooler::default();
    for path in paths(pooler) {
        live.files
            .insert(path.display().to_string(), managed_files::observe(path)?);
    }
    if let Some(client) = admin::connect(pooler, timeout).await? {
        live.running = Some(admin::show_config(&client).await?);
    }
    live.reached_at = format!("{}:{}", pooler.host, pooler.listen_port);
    for (name, dsn) in &pooler.logins {
        live.logins
            .insert(name.clone(), try_login(dsn, timeout).await);
    }
    Ok(live)
}
