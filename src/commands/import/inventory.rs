//! What `dbops import` reads from a live cluster, read-only: every role with
//! its attributes and memberships, every database with its owner, and, per
//! imported database, the privileges and default privileges of the imported
//! roles (through the grants domain's own observe, so import and plan read
//! privileges the same way). Passwords are never read.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Deserialize;
use tokio_postgres::Client;

use crate::domains::grants::desired::{DesiredGrant, DesiredGrants, Scope};
use crate::domains::grants::live::LiveGrants;
use crate::domains::grants::privilege::ObjectKind;
use crate::dsn::Dsn;
use crate::error::{Error, Result};
use crate::pg::connect::{connect, server_error, Access};

const QUERY: &str = r#"
SELECT json_build_object(
  'current_user', current_user,
  'roles', (SELECT coalesce(json_agg(json_build_object(
      'name', r.rolname, 'bootstrap', r.oid = 10, 'login', r.rolcanlogin,
      'superuser', r.rolsuper, 'createdb', r.rolcreatedb, 'createrole', r.rolcreaterole,
      'inherit', r.rolinherit, 'replication', r.rolreplication, 'bypass_rls', r.rolbypassrls,
      'connection_limit', r.rolconnlimit,
      'valid_until', CASE WHEN r.rolvaliduntil IS NULL OR r.rolvaliduntil = 'infinity' THEN NULL
                          ELSE to_char(r.rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END,
      'member_of', (SELECT coalesce(json_agg(g.rolname ORDER BY g.rolname), '[]')
                    FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid)
    ) ORDER BY r.rolname), '[]') FROM pg_roles r WHERE r.rolname NOT LIKE 'pg\_%'),
  'databases', (SELECT coalesce(json_agg(json_build_object(
      'name', d.datname, 'owner', pg_get_userbyid(d.datdba)) ORDER BY d.datname), '[]')
    FROM pg_database d WHERE NOT d.datistemplate AND d.datallowconn)
)::text
"#;

const SCHEMAS: &str = r#"
SELECT coalesce(json_agg(nspname ORDER BY nspname), '[]')::text FROM pg_namespace
WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\_toast%'
  AND nspname NOT LIKE 'pg\_temp%'
"#;

const SETTINGS: &str = r#"
SELECT coalesce(json_agg(json_build_array(lower(name), setting) ORDER BY seqno), '[]')::text
FROM pg_file_settings WHERE sourcefile LIKE '%/postgresql.auto.conf' AND error IS NULL
"#;

#[derive(Debug, Clone, Deserialize)]
pub struct Role {
    pub name: String,
    pub bootstrap: bool,
    pub login: bool,
    pub superuser: bool,
    pub createdb: bool,
    pub createrole: bool,
    pub inherit: bool,
    pub replication: bool,
    pub bypass_rls: bool,
    pub connection_limit: i32,
    pub valid_until: Option<String>,
    pub member_of: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Database {
    pub name: String,
    pub owner: String,
}

#[derive(Deserialize)]
struct Cluster {
    current_user: String,
    roles: Vec<Role>,
    databases: Vec<Database>,
}

/// Everything import found.
pub struct Inventory {
    pub roles: Vec<Role>,
    pub databases: Vec<Database>,
    /// Privileges in each imported database, for the imported roles.
    pub grants: LiveGrants,
    /// Schemas of each imported database.
    pub schemas: BTreeMap<String, Vec<String>>,
    /// postgresql.auto.conf entries, when asked for.
    pub settings: Option<Vec<(String, String)>>,
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

/// The roles and databases, before any filter.
pub async fn cluster(client: &Client) -> Result<(String, Vec<Role>, Vec<Database>)> {
    let cluster: Cluster = json(client, QUERY, "the roles and databases").await?;
    Ok((cluster.current_user, cluster.roles, cluster.databases))
}

pub async fn settings(client: &Client) -> Result<Vec<(String, String)>> {
    json(client, SETTINGS, "postgresql.auto.conf")
        .await
        .map_err(|e| {
            e.hint("reading `pg_file_settings` needs a superuser or `pg_read_all_settings`")
        })
}

/// Privileges of `roles` in each of `databases`, every schema included.
pub async fn privileges(
    admin: &Dsn,
    roles: &BTreeSet<String>,
    databases: &[String],
    timeout: Duration,
) -> Result<(LiveGrants, BTreeMap<String, Vec<String>>)> {
    let mut schemas = BTreeMap::new();
    let mut wanted = DesiredGrants::default();
    for database in databases {
        let client = connect(&admin.with_database(database), Access::ReadOnly, timeout).await?;
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
    let live =
        crate::domains::grants::observe::observe(admin, &wanted, Access::ReadOnly, timeout).await?;
    Ok((live, schemas))
}
