//! Reading privileges, one session and one statement per database that grants
//! name, however many tables it holds: ACLs from `aclexplode` over `datacl`,
//! `nspacl`, `relacl`, `proacl` and `pg_default_acl`, filtered to the roles of
//! interest. The server compares tables, sequences and functions with the
//! declared privileges and ships only the exceptions and counts, so the work
//! and the document grow with what differs, not with what exists. A missing
//! database is recorded as such, not an error.

use std::time::Duration;

use serde::Deserialize;
use tokio_postgres::types::Type;

use super::desired::DesiredGrants;
use super::live::{
    Acl, LiveDatabaseGrants, LiveDefault, LiveGrants, LiveObject, LiveSchema, ScopeCount,
};
use super::privilege::{mask, noun, ObjectKind, Privilege};
use crate::dsn::Dsn;
use crate::error::{Error, Result};
use crate::pg::connect::{connect_if_exists, server_error, Access, Connected};

/// The one statement per database. The server compares: for each declared
/// scope (role x schema x kind) it works out each object's privileges for
/// the role as a bit mask and ships only the **exceptions** (objects whose
/// mask is not the declared one, or that the role owns), with their ACL
/// entries for the roles of interest, plus counts per scope. `$1` roles of
/// interest, `$2` schemas, `$3..$6` the scopes (role, schema, kind, mask; a
/// role this apply creates holds nothing anywhere);
/// `$7` ships every object instead (`dbops import`, which reads them all).
fn query() -> String {
    let mask = super::privilege::mask_sql("a.privilege_type");
    format!(
        r#"
WITH roles AS (
  SELECT r.oid, r.rolname FROM pg_roles r JOIN unnest($1::text[]) AS w(name) ON w.name = r.rolname
), schemas AS (
  SELECT n.oid, n.nspname, n.nspowner, n.nspacl FROM pg_namespace n
  JOIN unnest($2::text[]) AS w(name) ON w.name = n.nspname
), scopes AS (
  SELECT s.role, s.schema, s.kind, s.wanted, r.oid AS role_oid, n.oid AS nsp
  FROM unnest($3::text[], $4::text[], $5::text[], $6::int[]) AS s(role, schema, kind, wanted)
  LEFT JOIN roles r ON r.rolname = s.role JOIN schemas n ON n.nspname = s.schema
), objects AS (
  SELECT 'r'::"char" AS cls, c.oid, c.relnamespace AS nsp,
         CASE WHEN c.relkind = 'S' THEN 'sequences' ELSE 'tables' END AS kind,
         c.relowner AS owner,
         coalesce(c.relacl, acldefault((CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char", c.relowner)) AS acl
  FROM pg_class c
  WHERE c.relnamespace IN (SELECT oid FROM schemas) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
  UNION ALL
  SELECT 'f'::"char", p.oid, p.pronamespace, 'functions', p.proowner,
         coalesce(p.proacl, acldefault('f', p.proowner))
  FROM pg_proc p
  WHERE p.pronamespace IN (SELECT oid FROM schemas) AND p.prokind = 'f'
), held AS (
  SELECT o.cls, o.oid, a.grantee, bit_or({mask}) AS have
  FROM objects o CROSS JOIN LATERAL aclexplode(o.acl) a
  WHERE a.grantee IN (SELECT oid FROM roles)
  GROUP BY 1, 2, 3
), judged AS (
  SELECT sc.role, sc.schema, sc.kind, o.cls, o.oid, coalesce(o.owner = sc.role_oid, false) AS owned,
         coalesce(h.have, 0) AS have, sc.wanted
  FROM scopes sc JOIN objects o ON o.nsp = sc.nsp AND o.kind = sc.kind
  LEFT JOIN held h ON h.cls = o.cls AND h.oid = o.oid AND h.grantee = sc.role_oid
), exceptions AS (
  SELECT cls, oid FROM judged WHERE have <> wanted OR owned
  UNION
  SELECT cls, oid FROM objects WHERE $7::bool
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
  'counts', coalesce((
    SELECT json_agg(json_build_array(c.role, c.schema, c.kind, c.total, c.with_any, c.owned))
    FROM (SELECT role, schema, kind, count(*) AS total,
                 count(*) FILTER (WHERE have <> 0 AND NOT owned) AS with_any,
                 count(*) FILTER (WHERE owned) AS owned
          FROM judged GROUP BY 1, 2, 3) c), '[]'),
  'objects', coalesce((
    SELECT json_agg(o.doc) FROM (
      SELECT json_build_object(
        'schema', n.nspname,
        'kind', CASE WHEN c.relkind = 'S' THEN 'sequences' ELSE 'tables' END,
        'display', n.nspname || '.' || c.relname,
        'target', format('%I.%I', n.nspname, c.relname),
        'owner', pg_get_userbyid(c.relowner),
        'acl', (SELECT coalesce(json_agg(json_build_array(r.rolname, a.privilege_type)), '[]')
                FROM aclexplode(coalesce(c.relacl,
                     acldefault((CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char", c.relowner))) a
                JOIN roles r ON r.oid = a.grantee)) AS doc
      FROM exceptions e JOIN pg_class c ON e.cls = 'r' AND c.oid = e.oid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      UNION ALL
      SELECT json_build_object(
        'schema', n.nspname,
        'kind', 'functions',
        'display', n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
        'target', format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)),
        'owner', pg_get_userbyid(p.proowner),
        'acl', (SELECT coalesce(json_agg(json_build_array(r.rolname, a.privilege_type)), '[]')
                FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                JOIN roles r ON r.oid = a.grantee))
      FROM exceptions e JOIN pg_proc p ON e.cls = 'f' AND p.oid = e.oid
      JOIN pg_namespace n ON n.oid = p.pronamespace
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
"#
    )
}

#[derive(Deserialize)]
struct Row {
    database_acl: Vec<(String, String)>,
    schemas: Vec<SchemaRow>,
    /// (role, schema, kind, objects, with any privilege, owned by the role).
    counts: Vec<(String, String, String, usize, usize, usize)>,
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

/// The declared scopes over objects in one database, as parallel arrays.
#[derive(Default)]
struct Scopes {
    roles: Vec<String>,
    schemas: Vec<String>,
    kinds: Vec<String>,
    masks: Vec<i32>,
}

impl Scopes {
    fn of(desired: &DesiredGrants, database: &str) -> Self {
        let mut out = Scopes::default();
        for grant in desired.grants.values() {
            let scope = &grant.scope;
            let (true, Some(schema)) = (scope.database == database, &scope.schema) else {
                continue;
            };
            if !matches!(
                scope.on,
                ObjectKind::Tables | ObjectKind::Sequences | ObjectKind::Functions
            ) {
                continue;
            }
            out.roles.push(scope.role.clone());
            out.schemas.push(schema.clone());
            out.kinds.push(noun(scope.on).to_string());
            out.masks.push(mask(&grant.privileges));
        }
        out
    }
}

pub(crate) async fn observe(
    admin: &Dsn,
    desired: &DesiredGrants,
    access: Access,
    timeout: Duration,
) -> Result<LiveGrants> {
    read(admin, desired, access, timeout, false).await
}

/// Every object of the schemas `desired` names, not only the exceptions:
/// for `dbops import`, which infers the scopes from them.
pub(crate) async fn observe_every_object(
    admin: &Dsn,
    desired: &DesiredGrants,
    access: Access,
    timeout: Duration,
) -> Result<LiveGrants> {
    read(admin, desired, access, timeout, true).await
}

async fn read(
    admin: &Dsn,
    desired: &DesiredGrants,
    access: Access,
    timeout: Duration,
    every: bool,
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
        let scopes = Scopes::of(desired, &database);
        let row = client
            .query_typed_one(
                &query(),
                &[
                    (&roles, Type::TEXT_ARRAY),
                    (&schemas, Type::TEXT_ARRAY),
                    (&scopes.roles, Type::TEXT_ARRAY),
                    (&scopes.schemas, Type::TEXT_ARRAY),
                    (&scopes.kinds, Type::TEXT_ARRAY),
                    (&scopes.masks, Type::INT4_ARRAY),
                    (&every, Type::BOOL),
                ],
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
        for (role, schema, kind_text, total, with_any, owned) in row.counts {
            let Some(kind) = kind(&kind_text) else {
                continue;
            };
            grants.counts.insert(
                (role, schema, kind),
                ScopeCount {
                    total,
                    with_any,
                    owned,
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
