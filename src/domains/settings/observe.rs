//! Reading settings in one statement: `pg_settings` for the names the file
//! declares and those postgresql.auto.conf holds, the auto.conf entries from
//! `pg_file_settings`, and the list of known names. Each view is read once
//! (`MATERIALIZED`): `pg_file_settings` parses every configuration file per
//! scan, and on a fresh backend that was a third of the statement's time.

use serde::Deserialize;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

use super::desired::DesiredSettings;
use super::live::{AutoConfEntry, LiveSetting, LiveSettings};
use crate::error::{Error, Result};
use crate::pg::connect::server_error;

const QUERY: &str = r#"
WITH files AS MATERIALIZED (
  SELECT name, setting, applied, seqno, error, sourcefile FROM pg_file_settings
), settings AS MATERIALIZED (
  SELECT name, setting, vartype, unit, enumvals, min_val, max_val, context, source, pending_restart
  FROM pg_settings
), auto_conf AS (
  SELECT name, setting, applied, seqno FROM files
  WHERE sourcefile LIKE '%/postgresql.auto.conf'
), wanted AS (
  SELECT unnest($1::text[]) AS name UNION SELECT name FROM auto_conf
  UNION SELECT name FROM settings WHERE pending_restart
)
SELECT json_build_object(
  'settings', coalesce((
    SELECT json_agg(json_build_object(
      'name', s.name, 'setting', s.setting, 'display', current_setting(s.name),
      'vartype', s.vartype, 'unit', s.unit, 'enumvals', coalesce(s.enumvals, '{}'),
      'min_val', s.min_val, 'max_val', s.max_val, 'context', s.context,
      'source', s.source, 'pending_restart', s.pending_restart,
      'pending_value', (SELECT f.setting FROM files f
                        WHERE f.name = s.name AND f.error IS NULL AND NOT f.applied
                        ORDER BY f.seqno DESC LIMIT 1)) ORDER BY s.name)
    FROM settings s JOIN wanted w ON w.name = s.name), '[]'),
  'auto_conf', coalesce((
    SELECT json_agg(json_build_array(lower(a.name), a.setting, a.applied) ORDER BY a.seqno) FROM auto_conf a), '[]'),
  'known', (SELECT json_agg(name) FROM settings)
)::text
"#;

#[derive(Deserialize)]
struct Row {
    settings: Vec<LiveSetting>,
    auto_conf: Vec<(String, Option<String>, bool)>,
    known: Vec<String>,
}

pub(crate) async fn observe(client: &Client, desired: &DesiredSettings) -> Result<LiveSettings> {
    let mut live = observe_settings(client, desired).await?;
    if desired.hba.is_some() {
        live.hba = Some(super::hba::observe::observe(client).await?);
        live.statements += 2;
    }
    Ok(live)
}

async fn observe_settings(client: &Client, desired: &DesiredSettings) -> Result<LiveSettings> {
    let names: Vec<String> = desired.settings.keys().cloned().collect();
    let row = client
        .query_typed_one(QUERY, &[(&names, Type::TEXT_ARRAY)])
        .await
        .map_err(|e| {
            server_error("cannot read server settings", &e)
                .hint("reading `pg_file_settings` needs a superuser or a member of `pg_read_all_settings`")
        })?;
    let text: String = row
        .try_get(0)
        .map_err(|e| Error::internal(format!("unexpected settings document: {e}")))?;
    let row: Row = serde_json::from_str(&text).map_err(|e| {
        Error::internal(format!("unexpected settings document from the server: {e}"))
    })?;
    Ok(LiveSettings {
        settings: row
            .settings
            .into_iter()
            .map(|s| (s.name.clone(), s))
            .collect(),
        auto_conf: row
            .auto_conf
            .into_iter()
            .map(|(name, value, applied)| {
                let value = value.unwrap_or_default();
                (name, AutoConfEntry { value, applied })
            })
            .collect(),
        known: row.known.into_iter().collect(),
        statements: 1,
        hba: None,
    })
}
