//! Reading privileges, one session and one statement per database that grants
//! name, however many tables it holds: ACLs from `aclexplode` over `datacl`,
//! `nspacl`, `relacl`, `proacl` and `pg_default_acl`, filtered to the roles of
//! interest. A missing database is recorded as such, not an error.

use std::time::Duration;

use serde::Deserialize;
use tokio_postgres::types::Type;

use super::desired::DesiredGrants;
use super::live::{Acl, LiveDatabaseGrants, LiveDefault, LiveGrants, LiveObject, LiveSchema};
use super::privilege::{ObjectKind, Privilege};
use crate::dsn::Dsn;
use crate::error::{Error, Result};
use crate::pg::connect::{connect_if_exists, server_error, Access, Connected};

const QUERY: &str = r#"
WITH roles AS (
  SELECT r.oid, r.rolname FROM pg_roles r JOIN unnest($1::text[]) AS w(name) ON w.name = r.rolname
), schemas AS (
  SELECT n.oid, n.nspname, n.nspowner, n.nspacl FROM pg_namespace n
  JOIN unnest($2::text[]) AS w(name) ON w.name = n.nspname
)
SELECT json_build_object(
  'database_acl', (
    SELECT coalesce(json_agg(json_build_array(r.rolname, a.privilege_type)), '[]')
    FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
    JOIN roles r ON r.oid = a.grantee WHERE d.datname = current_database()),
  'schemas', coalesce((
    SELECT json_agg(json_build_object(
      'name', s.nspname, 'owner', pg_get_userbyid(s.nspowner),
      'acl', (SELECT coalesce(json_agg(json_build_array(r.rolname, a.privilege_type)), '[]')
              FROM aclexplode(coalesce(s.nspacl, acldefault('n', s.nspowner))) a
              JOIN roles r ON r.oid = a.grantee)))
    FROM schemas s), '[]'),
  'objects', coalesce((
    SELECT json_agg(o.doc) FROM (
      SELECT json_build_object(
        'schema', s.nspname,
        'kind', CASE WHEN c.relkind = 'S' THEN 'sequences' ELSE 'tables' END,
        'display', s.nspname || '.' || c.relname,
        'target', format('%I.%I', s.nspname, c.relname),
        'owner', pg_get_userbyid(c.relowner),
        'acl', (SELECT coalesce(json_agg(json_build_array(r.rolname, a.privilege_type)), '[]')
                FROM aclexplode(coalesce(c.relacl,
                     acldefault((CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char", c.relowner))) a
                JOIN roles r ON r.oid = a.grantee)) AS doc
      FROM pg_class c JOIN schemas s ON s.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      UNION ALL
      SELECT json_build_object(
        'schema', s.nspname,
        'kind', 'functions',
        'display', s.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
        'target', format('%I.%I(%s)', s.nspname, p.proname, pg_get_function_identity_arguments(p.oid)),
        'owner', pg_get_userbyid(p.proowner),
        'acl', (SELECT coalesce(json_agg(json_build_array(r.rolname, a.privilege_type)), '[]')
                FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                JOIN roles r ON r.oid = a.grantee))
      FROM pg_proc p JOIN schemas s ON s.oid = p.pronamespace
      WHERE p.prokind = 'f'
    ) o), '[]'),
  'defaults', coalesce((
    SELECT json_agg(json_build_object(
      'for_role', pg_get_userbyid(d.defaclrole),
      'schema', s.nspname,
      'kind', CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'
                                   WHEN 'f' THEN 'functions' ELSE 'other' END,
      'acl', (SELECT coalesce(json_agg(json_build_array(r.rolname, a.privilege_type)), '[]')
              FROM aclexplode(d.defaclacl) a JOIN roles r ON r.oid = a.grantee)))
    FROM pg_default_acl d JOIN schemas s ON s.oid = d.defaclnamespace), '[]')
)::text
"#;

#[derive(Deserialize)]
struct Row {
    database_acl: Vec<(String, String)>,
    schemas: Vec<SchemaRow>,
    objects: Vec<ObjectRow>,
    defaults: Vec<DefaultRow>,
}

#[derive(Deserialize)]
struct SchemaRow {
    name: String,
    owner: String,
    acl: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct ObjectRow {
    schema: String,
    kind: String,
    display: String,
    target: String,
    owner: String,
    acl: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct DefaultRow {
    for_role: String,
    schema: String,
    kind: String,
    acl: Vec<(String, String)>,
}

fn acl(pairs: Vec<(String, String)>) -> Acl {
    let mut acl = Acl::new();
    for (role, privilege) in pairs {
        acl.entry(role)
            .or_default()
            .insert(Privilege::from_server(&privilege));
    }
    acl
}

fn kind(text: &str) -> Option<ObjectKind> {
    match text {
        "tables" => Some(ObjectKind::Tables),
        "sequences" => Some(ObjectKind::Sequences),
        "functions" => Some(ObjectKind::Functions),
        _ => None,
    }
}

pub(crate) async fn observe(
    admin: &Dsn,
    desired: &DesiredGrants,
    access: Access,
    timeout: Duration,
) -> Result<LiveGrants> {
    let mut live = LiveGrants::default();
    let roles: Vec<String> = desired.roles().into_iter().collect();
    for database in desired.databases() {
        let dsn = admin.with_database(&database);
        let client = match connect_if_exists(&dsn, access, timeout).await? {
            Connected::Client(client) => client,
            Connected::NoSuchDatabase => {
                live.databases
                    .insert(database, LiveDatabaseGrants::default());
                continue;
            }
        };
        let schemas: Vec<String> = desired.schemas_in(&database).into_iter().collect();
        let row = client
            .query_typed_one(
                QUERY,
                &[(&roles, Type::TEXT_ARRAY), (&schemas, Type::TEXT_ARRAY)],
            )
            .await
            .map_err(|e| server_error(format!("cannot read privileges in `{database}`"), &e))?;
        live.statements += 1;
        let text: String = row
            .try_get(0)
            .map_err(|e| Error::internal(format!("unexpected privileges document: {e}")))?;
        let row: Row = serde_json::from_str(&text).map_err(|e| {
            Error::internal(format!(
                "unexpected privileges document from the server: {e}"
            ))
        })?;
        let mut grants = LiveDatabaseGrants {
            exists: true,
            database_acl: acl(row.database_acl),
            ..Default::default()
        };
        for schema in row.schemas {
            grants.schemas.insert(
                schema.name,
                LiveSchema {
                    owner: schema.owner,
                    acl: acl(schema.acl),
                },
            );
        }
        for object in row.objects {
            let Some(kind) = kind(&object.kind) else {
                continue;
            };
            grants.objects.push(LiveObject {
                schema: object.schema,
                kind,
                display: object.display,
                target: object.target,
                owner: object.owner,
                acl: acl(object.acl),
            });
        }
        grants.objects.sort_by(|a, b| a.display.cmp(&b.display));
        for default in row.defaults {
            let Some(kind) = kind(&default.kind) else {
                continue;
            };
            grants.defaults.push(LiveDefault {
                creator: default.for_role,
                schema: default.schema,
                kind,
                acl: acl(default.acl),
            });
        }
        live.databases.insert(database, grants);
    }
    Ok(live)
}
