//! Reading ownership, one statement per managed database that exists (on the
//! run's shared session to it): objects owned by the roles of interest
//! (sequences that belong to a table column follow their table and are left
//! out), and row-level-security tables they own. Roles are found with
//! `to_regrole`, not a join with the `pg_roles` view, which costs its
//! planning on every fresh backend.

use serde::Deserialize;
use tokio_postgres::types::Type;

use super::desired::DesiredOwnership;
use super::live::{LiveDatabaseOwnership, LiveOwnership, OwnedObject, RlsTable};
use crate::error::{Error, Result};
use crate::pg::connect::server_error;
use crate::pg::databases::Databases;

const QUERY: &str = r#"
WITH roles AS (
  SELECT to_regrole(quote_ident(w.name))::oid AS oid, w.name AS rolname FROM unnest($1::text[]) AS w(name)
  WHERE to_regrole(quote_ident(w.name)) IS NOT NULL
), user_namespaces AS (
  SELECT oid, nspname, nspowner FROM pg_namespace
  WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\_toast%'
    AND nspname NOT LIKE 'pg\_temp%'
)
SELECT json_build_object(
  'objects', coalesce((SELECT json_agg(o ORDER BY o.display, o.keyword) FROM (
    SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                          WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS keyword,
           format('%I.%I', n.nspname, c.relname) AS target,
           n.nspname || '.' || c.relname AS display,
           r.rolname AS owner
    FROM pg_class c JOIN user_namespaces n ON n.oid = c.relnamespace JOIN roles r ON r.oid = c.relowner
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                        AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))
    UNION ALL
    SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
           format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)),
           n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
           r.rolname
    FROM pg_proc p JOIN user_namespaces n ON n.oid = p.pronamespace JOIN roles r ON r.oid = p.proowner
    WHERE p.prokind IN ('f', 'p')
    UNION ALL
    SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
           format('%I.%I', n.nspname, t.typname), n.nspname || '.' || t.typname, r.rolname
    FROM pg_type t JOIN user_namespaces n ON n.oid = t.typnamespace JOIN roles r ON r.oid = t.typowner
    WHERE t.typtype IN ('e', 'd', 'r', 'm')
    UNION ALL
    SELECT 'SCHEMA', format('%I', n.nspname), n.nspname, r.rolname
    FROM user_namespaces n JOIN roles r ON r.oid = n.nspowner
  ) o), '[]'),
  'rls_tables', coalesce((SELECT json_agg(json_build_object(
      'target', format('%I.%I', n.nspname, c.relname),
      'display', n.nspname || '.' || c.relname,
      'owner', r.rolname,
      'forced', c.relforcerowsecurity) ORDER BY n.nspname, c.relname)
    FROM pg_class c JOIN user_namespaces n ON n.oid = c.relnamespace JOIN roles r ON r.oid = c.relowner
    WHERE c.relrowsecurity AND c.relkind IN ('r', 'p')), '[]')
)::text
"#;

#[derive(Deserialize)]
struct Row {
    objects: Vec<OwnedObject>,
    rls_tables: Vec<RlsTable>,
}

pub(crate) async fn observe(
    databases: &Databases<'_>,
    desired: &DesiredOwnership,
) -> Result<LiveOwnership> {
    let mut live = LiveOwnership::default();
    let roles: Vec<String> = desired.roles().into_iter().collect();
    if roles.is_empty() {
        return Ok(live);
    }
    for database in desired.databases.keys() {
        let Some(client) = databases.session(database).await? else {
            continue;
        };
        let row = client
            .query_typed_one(QUERY, &[(&roles, Type::TEXT_ARRAY)])
            .await
            .map_err(|e| server_error(format!("cannot read object owners in `{database}`"), &e))?;
        let text: String = row
            .try_get(0)
            .map_err(|e| Error::internal(format!("unexpected ownership document: {e}")))?;
        let row: Row = serde_json::from_str(&text)
            .map_err(|e| Error::internal(format!("unexpected ownership document: {e}")))?;
        live.databases.insert(
            database.clone(),
            LiveDatabaseOwnership {
                objects: row.objects,
                rls_tables: row.rls_tables,
            },
        );
    }
    Ok(live)
}
