//! Reading the HBA file: one statement for where it is, when the server
//! last loaded it and how it sees dbops's connection, one to tell whether
//! `pg_hba_file_rules` is readable, and the file itself (never through a
//! link) when it is on this host.

use std::time::UNIX_EPOCH;

use serde::Deserialize;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use super::live::{AdminSeen, LiveHba};
use crate::error::{Error, Result};
use crate::managed_files;
use crate::pg::connect::server_error;

const QUERY: &str = r#"
SELECT json_build_object(
  'path', current_setting('hba_file'),
  'loaded_at', extract(epoch FROM pg_conf_load_time())::float8,
  'admin', json_build_object(
    'address', host(inet_client_addr()),
    'ssl', coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false),
    'database', current_database(),
    'user', current_user,
    'groups', (SELECT coalesce(json_agg(rolname), '[]') FROM pg_roles
               WHERE pg_has_role(current_user, oid, 'member') AND rolname <> current_user))
)::text
"#;

#[derive(Deserialize)]
struct Row {
    path: String,
    loaded_at: f64,
    admin: AdminSeen,
}

pub(crate) async fn observe(client: &Client) -> Result<LiveHba> {
    let text: String = client
        .query_one(QUERY, &[])
        .await
        .map_err(|e| server_error("cannot read where the server's HBA file is", &e))?
        .get(0);
    let row: Row = serde_json::from_str(&text)
        .map_err(|e| Error::internal(format!("unexpected HBA document: {e}")))?;
    let rules_readable = match client
        .query_one("SELECT count(*) FROM pg_hba_file_rules", &[])
        .await
    {
        Ok(_) => true,
        Err(e) if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => false,
        Err(e) => return Err(server_error("cannot read `pg_hba_file_rules`", &e)),
    };
    let path = std::path::Path::new(&row.path);
    let (file, modified_at) = match std::fs::symlink_metadata(path) {
        Err(_) => (None, None),
        Ok(metadata) => {
            let modified = metadata
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs_f64());
            (Some(managed_files::observe(path)?), modified)
        }
    };
    Ok(LiveHba {
        path: row.path,
        file,
        modified_at,
        loaded_at: row.loaded_at,
        rules_readable,
        admin: row.admin,
    })
}
