//! Reading privileges, one statement per database that grants name (on the
//! run's shared session to it), however many tables it holds: ACLs from
//! `aclexplode` over `datacl`, `nspacl`, `relacl`, `proacl` and
//! `pg_default_acl`, filtered to the roles of interest. The server compares
//! tables, sequences and functions with the declared privileges and ships
//! only the exceptions and counts, so the work and the document grow with
//! what differs, not with what exists. A missing database is recorded as
//! such, not an error.

use serde::Deserialize;
use tokio_postgres::types::Type;

use super::desired::DesiredGrants;
use super::live::{
    Acl, LiveDatabaseGrants, LiveDefault, LiveGrants, LiveObject, LiveSchema, ScopeCount,
};
use super::privilege::{acl_letters, noun, ObjectKind, Privilege};
use crate::error::{Error, Result};
use crate::pg::connect::server_error;
use crate::pg::databases::Databases;

/// The one statement per database. The server compares: for each group
/// of objects (schema, kind, owner) under declared scopes it builds the ACL
/// items a converged object holds (`role=letters/owner` for each scope's
/// role) and keeps an object when its ACL contains them all and carries no
/// grant option (without one, every item's grantor is the owner, so a
/// role's item *is* its privileges). Every other object is an **exception**,
/// shipped with its ACL entries for the scopes' roles and judged
/// exactly by the diff; the rest are only counted. No `aclexplode` runs over
/// objects that match. `$1` roles of interest, `$2` schemas, `$3..$6` the
/// scopes (role, schema, kind, ACL letters; a role this apply creates holds
/// nothing anywhere); `$7` ships every object instead (`dbops import`,
/// which reads them all).
const QUERY: &str = r#"
WITH roles AS MATERIALIZED (
  SELECT to_regrole(quote_ident(w.name))::oid AS oid, w.name AS rolname FROM unnest($1::text[]) AS w(name)
  WHERE to_regrole(quote_ident(w.name)) IS NOT NULL
), schemas AS MATERIALIZED (
  SELECT n.oid, n.nspname, n.nspowner, n.nspacl FROM pg_namespace n
  JOIN unnest($2::text[]) AS w(name) ON w.name = n.nspname
), grantees AS MATERIALIZED (
  SELECT DISTINCT r.oid, r.rolname FROM roles r JOIN unnest($3::text[]) AS w(name) ON w.name = r.rolname
), scopes AS MATERIALIZED (
  SELECT s.role, s.schema, s.kind, s.letters, r.oid AS role_oid, n.oid AS nsp,
         (SELECT left(t, (length(t) - 3) / 2 + 1)
          FROM (SELECT makeaclitem(r.oid, r.oid, 'SELECT', false)::text AS t) x) AS prefix
  FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) AS s(role, schema, kind, letters)
  LEFT JOIN roles r ON r.rolname = s.role JOIN schemas n ON n.nspname = s.schema
), objects AS MATERIALIZED (
  SELECT 'r'::"char" AS cls, c.oid, c.relnamespace AS nsp,
         CASE WHEN c.relkind = 'S' THEN 'sequences' ELSE 'tables' END AS kind,
         c.relowner AS owner,
         coalesce(c.relacl, acldefault((CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char", c.relowner)) AS acl
  FROM pg_class c
  WHERE c.relnamespace = ANY(ARRAY(SELECT oid FROM schemas)) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
  UNION ALL
  SELECT 'f'::"char", p.oid, p.pronamespace, 'functions', p.proowner,
         coalesce(p.proacl, acldefault('f', p.proowner))
  FROM pg_proc p
  WHERE p.pronamespace = ANY(ARRAY(SELECT oid FROM schemas)) AND p.prokind = 'f'
), groups AS MATERIALIZED (
  SELECT DISTINCT nsp, kind, owner FROM objects
), expected AS MATERIALIZED (
  SELECT g.nsp, g.kind, g.owner,
         bool_and(sc.letters <> '' AND sc.role_oid IS NOT NULL AND sc.role_oid <> g.owner) AS checkable,
         array_agg((sc.prefix || sc.letters || '/' ||
                    (SELECT left(t, (length(t) - 3) / 2)
                     FROM (SELECT makeaclitem(g.owner, g.owner, 'SELECT', false)::text AS t) x))::aclitem)
           FILTER (WHERE sc.letters <> '' AND sc.role_oid IS NOT NULL) AS items
  FROM groups g JOIN scopes sc ON sc.nsp = g.nsp AND sc.kind = g.kind
  GROUP BY 1, 2, 3
), judged AS MATERIALIZED (
  SELECT o.cls, o.oid, o.nsp, o.kind, o.owner,
         coalesce(e.checkable AND o.acl @> e.items AND strpos(o.acl::text, '*') = 0, false) AS ok
  FROM objects o JOIN expected e ON e.nsp = o.nsp AND e.kind = o.kind AND e.owner = o.owner
), exceptions AS (
  SELECT cls, oid FROM judged WHERE NOT ok
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
  'groups', coalesce((
    SELECT json_agg(json_build_array(n.nspname, j.kind, pg_get_userbyid(j.owner), j.total, j.ok))
    FROM (SELECT nsp, kind, owner, count(*) AS total, count(*) FILTER (WHERE ok) AS ok
          FROM judged GROUP BY 1, 2, 3) j
    JOIN schemas n ON n.oid = j.nsp), '[]'),
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
                JOIN grantees r ON r.oid = a.grantee)) AS doc
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
                JOIN grantees r ON r.oid = a.grantee))
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
"#;

#[derive(Deserialize)]
struct Row {
    database_acl: Vec<(String, String)>,
    schemas: Vec<SchemaRow>,
    /// (schema, kind, owner, objects, objects that hold exactly what every
    /// scope over them declares).
    groups: Vec<(String, String, String, usize, usize)>,
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

/// The declared scopes over objects in one database, as parallel arrays
/// (and as keys of the counts).
#[derive(Default)]
struct Scopes {
    roles: Vec<String>,
    schemas: Vec<String>,
    kinds: Vec<String>,
    letters: Vec<String>,
    list: Vec<(String, String, ObjectKind)>,
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
            out.letters.push(acl_letters(&grant.privileges));
            out.list
                .push((scope.role.clone(), schema.clone(), scope.on));
        }
        out
    }
}

pub(crate) async fn observe(
    databases: &Databases<'_>,
    desired: &DesiredGrants,
) -> Result<LiveGrants> {
    read(databases, desired, false).await
}

/// Every object of the schemas `desired` names, not only the exceptions:
/// for `dbops import`, which infers the scopes from them.
pub(crate) async fn observe_every_object(
    databases: &Databases<'_>,
    desired: &DesiredGrants,
) -> Result<LiveGrants> {
    read(databases, desired, true).await
}

async fn read(
    databases: &Databases<'_>,
    desired: &DesiredGrants,
    every: bool,
) -> Result<LiveGrants> {
    let mut live = LiveGrants::default();
    let roles: Vec<String> = desired.roles().into_iter().collect();
    for database in desired.databases() {
        let client = match databases.session(&database).await? {
            Some(client) => client,
            None => {
                live.databases
                    .insert(database, LiveDatabaseGrants::default());
                continue;
            }
        };
        let schemas: Vec<String> = desired.schemas_in(&database).into_iter().collect();
        let scopes = Scopes::of(desired, &database);
        let document = client
            .query_typed_one(
                QUERY,
                &[
                    (&roles, Type::TEXT_ARRAY),
                    (&schemas, Type::TEXT_ARRAY),
                    (&scopes.roles, Type::TEXT_ARRAY),
                    (&scopes.schemas, Type::TEXT_ARRAY),
                    (&scopes.kinds, Type::TEXT_ARRAY),
                    (&scopes.letters, Type::TEXT_ARRAY),
                    (&every, Type::BOOL),
                ],
            )
            .await
            .map_err(|e| server_error(format!("cannot read privileges in `{database}`"), &e))?;
        live.statements += 1;
        let text: String = document
            .try_get(0)
            .map_err(|e| Error::internal(format!("unexpected privileges document: {e}")))?;
        drop(document);
        let row: Row = serde_json::from_str(&text).map_err(|e| {
            Error::internal(format!(
                "unexpected privileges document from the server: {e}"
            ))
        })?;
        // At tens of thousands of exceptions the text is megabytes: gone
        // before the objects are built.
        drop(text);
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
        for scope in &scopes.list {
            let mut count = ScopeCount::default();
            for (schema, kind_text, owner, total, ok) in &row.groups {
                if *schema != scope.1 || kind(kind_text) != Some(scope.2) {
                    continue;
                }
                count.total += total;
                count.with_any += ok;
                if *owner == scope.0 {
                    count.owned += total;
                }
            }
            grants.counts.insert(scope.clone(), count);
        }
        grants.objects.reserve_exact(row.objects.len());
        for object in row.objects {
            let Some(kind) = kind(&object.kind) else {
                continue;
            };
            grants.objects.push(LiveObject {
                schema: object.schema,
                kind,
                display: object.display.into(),
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
