//! Reading the live state in a constant number of round trips: one statement
//! returns every managed role, membership and database as one JSON document,
//! however many roles the file manages. Names are joined against `unnest` of
//! the wanted list (a hash join), not `= ANY(...)`, which is quadratic. When
//! `pg_authid` is not readable (the admin is not a superuser), a second form
//! of the statement reads `pg_roles`, and each role's password is checked by
//! a login attempt instead.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use secrecy::ExposeSecret;
use serde::Deserialize;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

use super::absent;
use super::desired::{DesiredPostgres, RoleAttributes};
use super::live::{LiveDatabase, LivePostgres, LiveRole, StoredPassword};
use super::verify::{verify, Verified};
use crate::dsn::Dsn;
use crate::error::{Error, Result};
use crate::pg::connect::{connect, server_error, Access};

const QUERY: &str = r#"
SELECT json_build_object(
  'current_user', current_user,
  'superuser', (SELECT rolsuper FROM __ROLES__ WHERE rolname = current_user),
  'server_version_num', current_setting('server_version_num')::int,
  'login_superusers', (SELECT coalesce(json_agg(rolname ORDER BY rolname), '[]')
                       FROM __ROLES__ WHERE rolsuper AND rolcanlogin),
  'managed', (SELECT coalesce(json_agg(r.rolname ORDER BY r.rolname), '[]')
              FROM pg_db_role_setting s JOIN __ROLES__ r ON r.oid = s.setrole
              WHERE s.setdatabase = 0 AND 'dbops.managed=true' = ANY(s.setconfig)),
  'roles', coalesce((
    SELECT json_agg(json_build_object(
      'name', a.rolname,
      'oid', a.oid::bigint,
      'login', a.rolcanlogin,
      'superuser', a.rolsuper,
      'createdb', a.rolcreatedb,
      'createrole', a.rolcreaterole,
      'inherit', a.rolinherit,
      'replication', a.rolreplication,
      'bypass_rls', a.rolbypassrls,
      'connection_limit', a.rolconnlimit,
      'valid_until', CASE WHEN a.rolvaliduntil IS NULL OR a.rolvaliduntil = 'infinity' THEN NULL
                          ELSE to_char(a.rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END,
      'password', __PASSWORD__) ORDER BY a.rolname)
    FROM __ROLES__ a __ROLE_FILTER__), '[]'),
  'memberships', coalesce((
    SELECT json_agg(json_build_array(m.rolname, g.rolname))
    FROM pg_auth_members am
    JOIN __ROLES__ m ON m.oid = am.member
    JOIN __ROLES__ g ON g.oid = am.roleid
    __MEMBER_FILTER__), '[]'),
  'databases', coalesce((
    SELECT json_agg(json_build_object(
      'name', d.datname,
      'owner', pg_get_userbyid(d.datdba),
      'connect', (SELECT coalesce(json_agg(pg_get_userbyid(x.grantee)), '[]')
                  FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) x
                  WHERE x.privilege_type = 'CONNECT' AND x.grantee <> 0)))
    FROM pg_database d __DATABASE_FILTER__), '[]')
)::text
"#;

/// The role `initdb` creates: OID 10, whatever its name.
const BOOTSTRAP_SUPERUSER_OID: u32 = 10;

#[derive(Deserialize)]
struct Row {
    current_user: String,
    superuser: bool,
    server_version_num: i32,
    login_superusers: Vec<String>,
    managed: Vec<String>,
    roles: Vec<RoleRow>,
    memberships: Vec<(String, String)>,
    databases: Vec<DatabaseRow>,
}

#[derive(Deserialize)]
struct RoleRow {
    name: String,
    oid: u32,
    login: bool,
    superuser: bool,
    createdb: bool,
    createrole: bool,
    inherit: bool,
    replication: bool,
    bypass_rls: bool,
    connection_limit: i32,
    valid_until: Option<String>,
    password: Option<String>,
}

#[derive(Deserialize)]
struct DatabaseRow {
    name: String,
    owner: String,
    connect: Vec<String>,
}

/// Reads the managed roles and databases, plus `extra_roles` (roles other
/// domains refer to, whose existence they need to know), then checks every
/// desired password against its stored verifier (`known`: verifiers this run
/// already sent or proved, compared byte for byte).
pub(crate) async fn observe(
    client: &Client,
    desired: &DesiredPostgres,
    extra_roles: &BTreeSet<String>,
    known: &BTreeMap<String, String>,
    timeout: Duration,
) -> Result<LivePostgres> {
    let mut roles = desired.referenced_roles();
    roles.extend(extra_roles.iter().cloned());
    let roles: Vec<String> = roles.into_iter().collect();
    let databases: Vec<String> = desired.databases.keys().cloned().collect();

    let authid = named(QUERY)
        .replace("__ROLES__", "pg_authid")
        .replace("__PASSWORD__", "a.rolpassword");
    let mut statements = 1;
    let text = match query(client, &authid, &roles, &databases).await {
        Ok(text) => text,
        Err(e) if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => {
            let fallback = named(QUERY)
                .replace("__ROLES__", "pg_roles")
                .replace("__PASSWORD__", "NULL::text");
            statements += 1;
            query(client, &fallback, &roles, &databases)
                .await
                .map_err(|e| observe_error(&e))?
        }
        Err(e) => return Err(observe_error(&e)),
    };
    let can_read_authid = statements == 1;
    let mut live = live_state(parse(&text)?, can_read_authid, statements);
    if !desired.absent.is_empty() {
        let names: Vec<String> = desired.absent.keys().cloned().collect();
        let row = client
            .query_typed_one(absent::QUERY, &[(&names, Type::TEXT_ARRAY)])
            .await
            .map_err(|e| observe_error(&e))?;
        let text: String = row.try_get(0).map_err(|e| observe_error(&e))?;
        live.absent = absent::parse(&text)?;
        live.statements += 1;
    }
    if !can_read_authid {
        check_passwords_by_login(&mut live, desired, timeout).await;
    }
    live.verified = verify(desired, &live, known).await?;
    Ok(live)
}

fn parse(text: &str) -> Result<Row> {
    serde_json::from_str(text).map_err(|e| {
        Error::internal(format!(
            "unexpected live-state document from the server: {e}"
        ))
    })
}

/// The live state from the statement's document; passwords as read, or
/// `Unknown` when `pg_authid` was not readable.
fn live_state(row: Row, can_read_authid: bool, statements: usize) -> LivePostgres {
    let mut live = LivePostgres {
        current_user: row.current_user,
        superuser: row.superuser,
        server_version_num: row.server_version_num,
        login_superusers: row.login_superusers.into_iter().collect(),
        managed: row.managed.into_iter().collect(),
        absent: BTreeMap::new(),
        roles: BTreeMap::new(),
        memberships: row.memberships.into_iter().collect(),
        databases: BTreeMap::new(),
        statements,
        verified: Verified::default(),
    };
    for role in row.roles {
        let password = match role.password {
            _ if !can_read_authid => StoredPassword::Unknown,
            None => StoredPassword::None,
            Some(p) if p.starts_with("SCRAM-SHA-256$") => StoredPassword::Scram(p),
            Some(p) if p.starts_with("md5") && p.len() == 35 => StoredPassword::Md5,
            Some(_) => StoredPassword::Plain,
        };
        live.roles.insert(
            role.name.clone(),
            LiveRole {
                name: role.name,
                bootstrap: role.oid == BOOTSTRAP_SUPERUSER_OID,
                attributes: RoleAttributes {
                    login: role.login,
                    superuser: role.superuser,
                    createdb: role.createdb,
                    createrole: role.createrole,
                    inherit: role.inherit,
                    replication: role.replication,
                    bypass_rls: role.bypass_rls,
                    connection_limit: role.connection_limit,
                    valid_until: role.valid_until,
                },
                password,
            },
        );
    }
    for database in row.databases {
        live.databases.insert(
            database.name.clone(),
            LiveDatabase {
                name: database.name,
                owner: database.owner,
                connect: database.connect.into_iter().collect::<BTreeSet<_>>(),
            },
        );
    }
    live
}

/// The statement for the named roles and databases: joined against `unnest`.
fn named(query: &str) -> String {
    query
        .replace(
            "__ROLE_FILTER__",
            "JOIN unnest($1::text[]) AS wanted(name) ON wanted.name = a.rolname",
        )
        .replace(
            "__MEMBER_FILTER__",
            "JOIN unnest($1::text[]) AS wanted(name) ON wanted.name = m.rolname",
        )
        .replace(
            "__DATABASE_FILTER__",
            "JOIN unnest($2::text[]) AS wanted(name) ON wanted.name = d.datname",
        )
}

/// The whole catalog, for `dbops import`: every role but PostgreSQL's
/// built-in `pg_*` ones, every database that takes connections, and never a
/// password (read from `pg_roles`, whatever the admin may read).
pub(crate) async fn observe_catalog(client: &Client) -> Result<LivePostgres> {
    let sql = QUERY
        .replace("__ROLE_FILTER__", r"WHERE a.rolname NOT LIKE 'pg\_%'")
        .replace("__MEMBER_FILTER__", r"WHERE m.rolname NOT LIKE 'pg\_%'")
        .replace(
            "__DATABASE_FILTER__",
            "WHERE NOT d.datistemplate AND d.datallowconn",
        )
        .replace("__ROLES__", "pg_roles")
        .replace("__PASSWORD__", "NULL::text");
    let text = query(client, &sql, &[], &[])
        .await
        .map_err(|e| observe_error(&e))?;
    Ok(live_state(parse(&text)?, false, 1))
}

async fn query(
    client: &Client,
    sql: &str,
    roles: &[String],
    databases: &[String],
) -> std::result::Result<String, tokio_postgres::Error> {
    let row = client
        .query_typed_one(
            sql,
            &[(&roles, Type::TEXT_ARRAY), (&databases, Type::TEXT_ARRAY)],
        )
        .await?;
    row.try_get(0)
}

fn observe_error(error: &tokio_postgres::Error) -> Error {
    server_error("cannot read the live state", error)
}

/// Without `pg_authid`, a password is known to match only if it logs in.
async fn check_passwords_by_login(
    live: &mut LivePostgres,
    desired: &DesiredPostgres,
    timeout: Duration,
) {
    for (name, role) in &desired.roles {
        let (Some(password), Some(live_role)) = (&role.password, live.roles.get_mut(name)) else {
            continue;
        };
        let mut dsn = role.dsn.clone().unwrap_or_else(|| desired.admin.clone());
        dsn = login_dsn(&dsn, name, password.expose_secret());
        let attempt = connect(&dsn, Access::ReadOnly, timeout).await;
        live_role.password = match attempt {
            Ok(_) => StoredPassword::LoginChecked { matches: true },
            Err(_) => StoredPassword::LoginChecked { matches: false },
        };
    }
}

fn login_dsn(base: &Dsn, user: &str, password: &str) -> Dsn {
    let mut dsn = base.clone();
    dsn.user = user.to_string();
    dsn.set_password(password);
    dsn
}
