//! What `dbops import` reads from a live cluster, read-only: every role with
//! its attributes and memberships, every database with its owner (through
//! the role domain's own observation), and, per
//! imported database, the privileges and default privileges of the imported
//! roles (through the grants domain's own observe, so import and plan read
//! privileges the same way). Passwords are never read.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use tokio_postgres::Client;

use crate::domains::grants::desired::{DesiredGrant, DesiredGrants, Scope};
use crate::domains::grants::live::LiveGrants;
use crate::domains::grants::privilege::ObjectKind;
use crate::domains::postgres::desired::RoleAttributes;
use crate::domains::postgres::observe::observe_catalog;
use crate::error::{Error, ErrorKind, Result};
use crate::pg::connect::server_error;
use crate::pg::databases::Databases;

const SCHEMAS: &str = r#"
SELECT coalesce(json_agg(nspname ORDER BY nspname), '[]')::text FROM pg_namespace
WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\_toast%'
  AND nspname NOT LIKE 'pg\_temp%'
"#;

const SETTINGS: &str = r#"
SELECT coalesce(json_agg(json_build_array(lower(name), setting) ORDER BY seqno), '[]')::text
FROM pg_file_settings WHERE sourcefile LIKE '%/postgresql.auto.conf' AND error IS NULL
"#;

/// A role as import writes it: the role domain's own attributes.
#[derive(Debug, Clone)]
pub(crate) struct Role {
    pub(crate) name: String,
    pub(crate) bootstrap: bool,
    pub(crate) attributes: RoleAttributes,
    pub(crate) member_of: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Database {
    pub(crate) name: String,
    pub(crate) owner: String,
}

/// Everything import found.
pub(crate) struct Inventory {
    pub(crate) roles: Vec<Role>,
    pub(crate) databases: Vec<Database>,
    /// Privileges in each imported database, for the imported roles.
    pub(crate) grants: LiveGrants,
    /// Schemas of each imported database.
    pub(crate) schemas: BTreeMap<String, Vec<String>>,
    /// postgresql.auto.conf entries, when asked for.
    pub(crate) settings: Option<Vec<(String, String)>>,
}

async fn json<T: for<'de> Deserialize<'de>>(client: &Client, sql: &str, what: &str) -> Result<T> {
    let row = client
        .query_one(sql, &[])
        .await
        .map_err(|e| server_error(format!("cannot read {what}"), &e))?;
    let text: String = row
        .try_get(0)
        .map_err(|e| Error::internal(format!("unexpected {what} document: {e}")))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::internal(format!("unexpected {what} document: {e}")))
}

/// The roles and databases, before any filter, read by the role domain's
/// own observation of the whole catalog (no password is read).
pub(crate) async fn cluster(client: &Client) -> Result<(String, Vec<Role>, Vec<Database>)> {
    let live = observe_catalog(client).await?;
    let roles = live
        .roles
        .into_values()
        .map(|role| Role {
            member_of: live
                .memberships
                .iter()
                .filter(|(member, _)| member == &role.name)
                .map(|(_, group)| group.clone())
                .collect(),
            name: role.name,
            bootstrap: role.bootstrap,
            attributes: role.attributes,
        })
        .collect();
    let databases = live
        .databases
        .into_values()
        .map(|d| Database {
            name: d.name,
            owner: d.owner,
        })
        .collect();
    Ok((live.current_user, roles, databases))
}

pub(crate) async fn settings(client: &Client) -> Result<Vec<(String, String)>> {
    json(client, SETTINGS, "postgresql.auto.conf")
        .await
        .map_err(|e| {
            e.hint("reading `pg_file_settings` needs a superuser or `pg_read_all_settings`")
        })
}

/// Privileges of `roles` in each of `databases`, every schema included.
pub(crate) async fn privileges(
    sessions: &Databases<'_>,
    roles: &BTreeSet<String>,
    databases: &[String],
) -> Result<(LiveGrants, BTreeMap<String, Vec<String>>)> {
    let mut schemas = BTreeMap::new();
    let mut wanted = DesiredGrants::default();
    for database in databases {
        let client = sessions.session(database).await?.ok_or_else(|| {
            Error::new(format!(
                "database `{database}` was dropped while dbops read it"
            ))
            .kind(ErrorKind::Connection)
        })?;
        let names: Vec<String> = json(&client, SCHEMAS, "the schemas").await?;
        // Scopes only steer what the grants observe reads: every role, every schema.
        for role in roles {
            for schema in names.iter().map(Some).chain([None]) {
                let scope = Scope {
                    role: role.clone(),
                    database: database.clone(),
                    schema: schema.cloned(),
                    on: if schema.is_some() {
                        ObjectKind::Tables
                    } else {
                        ObjectKind::Database
                    },
                };
                wanted.grants.insert(
                    scope.clone(),
                    DesiredGrant {
                        scope,
                        privileges: BTreeSet::new(),
                        default_for: None,
                    },
                );
            }
        }
        schemas.insert(database.clone(), names);
    }
    if roles.is_empty() {
        return Ok((LiveGrants::default(), schemas));
    }
    let live = crate::domains::grants::observe::observe_every_object(sessions, &wanted).await?;
    Ok((live, schemas))
}
