//! Roles that must leave: `[roles.NAME] absent = true`. Resolution (absent
//! is exclusive with every attribute; the role it names is neither the
//! admin nor referenced elsewhere in the file), what a dropped role leaves
//! behind, read from the shared `pg_shdepend` catalog in one statement for
//! the whole cluster (objects it owns, privileges and default privileges it
//! holds or gives, per database) and its open sessions, and the destroy the
//! diff plans from them: refused before any change when it owns objects
//! and names no `reassign_to`, or has sessions and may not end them.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::desired::{AbsentRole, DesiredPostgres};
use super::diff::role_address;
use super::live::LivePostgres;
use super::operation::Operation;
use super::raw::RawRole;
use crate::diagnostics::Resolver;
use crate::error::{Error, Errors, Result};
use crate::plan::{Action, AttributeChange, Change, Planned, Value};

/// Resolves an absent role: `Ok(None)` when the role is not absent.
pub(crate) fn resolve(name: &str, role: &RawRole, r: &Resolver<'_>) -> Result<Option<AbsentRole>> {
    let key = r.key(&["roles", name, "absent"]);
    if role.absent != Some(true) {
        for (set, what) in [
            (role.reassign_to.is_some(), "reassign_to"),
            (role.terminate_sessions.is_some(), "terminate_sessions"),
        ] {
            if set {
                return Err(r
                    .key(&["roles", name, what])
                    .error(format!(
                        "`{what}` applies only to a role with `absent = true`"
                    ))
                    .hint("remove it, or add `absent = true` to drop the role"));
            }
        }
        return Ok(None);
    }
    let others = [
        (role.dsn.is_some(), "dsn"),
        (role.password.is_some(), "password"),
        (role.login.is_some(), "login"),
        (role.superuser.is_some(), "superuser"),
        (role.createdb.is_some(), "createdb"),
        (role.createrole.is_some(), "createrole"),
        (role.inherit.is_some(), "inherit"),
        (role.replication.is_some(), "replication"),
        (role.bypass_rls.is_some(), "bypass_rls"),
        (role.connection_limit.is_some(), "connection_limit"),
        (role.valid_until.is_some(), "valid_until"),
        (role.member_of.is_some(), "member_of"),
    ];
    let set: Vec<String> = others
        .iter()
        .filter(|(set, _)| *set)
        .map(|(_, what)| format!("`{what}`"))
        .collect();
    if !set.is_empty() {
        return Err(key
            .error(format!(
                "role `{name}` is `absent` and also sets {}: a role that must not exist has no attributes",
                set.join(", ")
            ))
            .hint("keep `absent = true` (with `reassign_to` and `terminate_sessions`), or remove `absent`"));
    }
    if let Some(to) = &role.reassign_to {
        let to_key = r.key(&["roles", name, "reassign_to"]);
        to_key.check_name(to, "role")?;
        if to == name {
            return Err(to_key.error(format!("role `{name}` cannot give its objects to itself")));
        }
    }
    Ok(Some(AbsentRole {
        name: name.to_string(),
        reassign_to: role.reassign_to.clone(),
        terminate_sessions: role.terminate_sessions.unwrap_or(false),
    }))
}

/// The file may not use a role it also drops: as an owner, a group, a
/// receiver of objects.
pub(crate) fn check_references(desired: &DesiredPostgres, r: &mut Resolver<'_>) {
    for (name, absent) in &desired.absent {
        if let Some(to) = &absent.reassign_to {
            if desired.absent.contains_key(to) {
                r.error(r.key(&["roles", name, "reassign_to"]).error(format!(
                    "`{to}` is `absent` too: objects cannot move to a role that is dropped"
                )));
            }
        }
        for role in desired
            .roles
            .values()
            .filter(|r| r.member_of.contains(name))
        {
            r.error(r.key(&["roles", &role.name, "member_of"]).error(format!(
                "`{name}` is `absent`: `{}` cannot be a member of a role that is dropped",
                role.name
            )));
        }
        for database in desired.databases.values() {
            if database.owner.as_ref() == Some(name) {
                r.error(
                    r.key(&["databases", &database.name, "owner"])
                        .error(format!(
                            "`{name}` is `absent`: it cannot own `{}`",
                            database.name
                        )),
                );
            }
        }
    }
}

/// What a role to drop leaves behind in one database (`""`: the cluster's
/// shared objects, such as databases it owns or may connect to).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Dependencies {
    pub(crate) database: String,
    /// Whether the database accepts connections (`template0` does not).
    pub(crate) allow_connections: bool,
    /// Objects it owns (tables, schemas, functions, types, databases...).
    pub(crate) owned: u64,
    /// Default privileges it gives (`ALTER DEFAULT PRIVILEGES FOR ROLE` it).
    pub(crate) default_privileges_given: u64,
    /// Default privileges another role's defaults grant it.
    pub(crate) default_privileges_received: u64,
    /// Objects on which it holds privileges, and row-level policies naming it.
    pub(crate) privileges: u64,
}

/// An open session of a role to drop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Session {
    pub(crate) pid: i32,
    pub(crate) database: String,
    pub(crate) application: String,
    pub(crate) client: String,
}

/// A role to drop, as the cluster holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LiveAbsent {
    pub(crate) dependencies: Vec<Dependencies>,
    pub(crate) sessions: Vec<Session>,
}

/// One statement for every role to drop: `pg_shdepend` is shared, so one
/// connection sees every database's dependencies.
pub(crate) const QUERY: &str = r#"
SELECT coalesce(json_object_agg(name, state), '{}')::text FROM (
  SELECT r.rolname AS name, json_build_object(
    'dependencies', coalesce((
      SELECT json_agg(g.state ORDER BY g.datname NULLS FIRST) FROM (
        SELECT d.datname, json_build_object(
          'database', coalesce(d.datname, ''),
          'allow_connections', coalesce(d.datallowconn, true),
          'owned', count(*) FILTER (WHERE s.deptype = 'o' AND s.classid <> 'pg_default_acl'::regclass),
          'default_privileges_given', count(*) FILTER (WHERE s.deptype = 'o' AND s.classid = 'pg_default_acl'::regclass),
          'default_privileges_received', count(*) FILTER (WHERE s.deptype = 'a' AND s.classid = 'pg_default_acl'::regclass),
          'privileges', count(*) FILTER (WHERE s.deptype IN ('a', 'r') AND s.classid <> 'pg_default_acl'::regclass)) AS state
        FROM pg_shdepend s LEFT JOIN pg_database d ON d.oid = s.dbid
        WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = r.oid
        GROUP BY d.datname, d.datallowconn) g), '[]'),
    'sessions', coalesce((
      SELECT json_agg(json_build_object(
        'pid', a.pid,
        'database', coalesce(a.datname, ''),
        'application', coalesce(a.application_name, ''),
        'client', coalesce(host(a.client_addr), 'local')) ORDER BY a.pid)
      FROM pg_stat_activity a WHERE a.usesysid = r.oid AND a.pid <> pg_backend_pid()), '[]')
  ) AS state
  FROM pg_roles r JOIN unnest($1::text[]) AS wanted(name) ON wanted.name = r.rolname
) AS roles
"#;

/// The state of each role to drop that exists.
pub(crate) fn parse(text: &str) -> Result<BTreeMap<String, LiveAbsent>> {
    serde_json::from_str(text)
        .map_err(|e| Error::internal(format!("unexpected dependency document: {e}")))
}

/// Every database its `REASSIGN OWNED` and `DROP OWNED` must run in: each
/// that holds a dependency, and `admin_database` for shared objects.
pub(crate) fn databases(live: &LiveAbsent, admin_database: &str) -> Vec<String> {
    let mut out: BTreeSet<String> = live
        .dependencies
        .iter()
        .filter(|d| !d.database.is_empty())
        .map(|d| d.database.clone())
        .collect();
    if live.dependencies.iter().any(|d| d.database.is_empty()) {
        out.insert(admin_database.to_string());
    }
    out.into_iter().collect()
}

/// The destroy of each absent role that exists, with what it leaves behind
/// per database; an error (before any change) when it owns objects and
/// names no `reassign_to`, has sessions it may not end, is the bootstrap
/// superuser, or has objects in a database that takes no connections.
pub(crate) fn drops(
    desired: &DesiredPostgres,
    live: &LivePostgres,
) -> std::result::Result<Vec<Planned<Operation>>, Errors> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (name, absent) in &desired.absent {
        let Some(live_role) = live.roles.get(name) else {
            continue;
        };
        let state = live.absent.get(name).cloned().unwrap_or_default();
        match drop_role(desired, live, absent, live_role.bootstrap, &state) {
            Ok(planned) => out.push(planned),
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Errors::new(errors))
    }
}

fn drop_role(
    desired: &DesiredPostgres,
    live: &LivePostgres,
    absent: &AbsentRole,
    bootstrap: bool,
    state: &LiveAbsent,
) -> Result<Planned<Operation>> {
    let name = &absent.name;
    let hint_key = format!("[roles.{name}]");
    if bootstrap {
        return Err(Error::config(format!(
            "role `{name}` is the bootstrap superuser (the role `initdb` created); it cannot be dropped"
        ))
        .hint(format!("remove `absent` from `{hint_key}`")));
    }
    let owned: Vec<String> = state
        .dependencies
        .iter()
        .filter(|d| d.owned > 0)
        .map(|d| format!("{} in {}", d.owned, where_(d)))
        .collect();
    let reassign_to = match &absent.reassign_to {
        Some(to) if !desired.roles.contains_key(to) && !live.roles.contains_key(to) => {
            return Err(Error::config(format!(
                "role `{name}` is to give its objects to `{to}`, which neither exists nor is declared"
            ))
            .hint(format!("declare `[roles.{to}]`, or fix `reassign_to`")));
        }
        Some(to) => Some(to.clone()),
        None if !owned.is_empty() => {
            return Err(Error::config(format!(
                "role `{name}` is `absent` but owns objects ({}): dropping it would need them gone or given to another role",
                owned.join(", ")
            ))
            .hint(format!(
                "add `reassign_to = \"ROLE\"` to `{hint_key}` (for example the migration role); nothing was changed"
            )));
        }
        None => None,
    };
    if let Some(closed) = state.dependencies.iter().find(|d| !d.allow_connections) {
        return Err(Error::config(format!(
            "role `{name}` has objects or privileges in `{}`, which takes no connections: `DROP OWNED` cannot run there",
            closed.database
        ))
        .hint("allow connections to it for the drop (`ALTER DATABASE ... ALLOW_CONNECTIONS true`), or remove what it holds there by hand"));
    }
    if !state.sessions.is_empty() && !absent.terminate_sessions {
        let sessions: Vec<String> = state.sessions.iter().map(describe_session).collect();
        return Err(Error::config(format!(
            "role `{name}` is `absent` but has open sessions: {}",
            sessions.join(", ")
        ))
        .hint(format!(
            "stop the application that uses it, or add `terminate_sessions = true` to `{hint_key}` so apply ends them; nothing was changed"
        )));
    }
    let mut change = Change::new(role_address(name), Action::Delete).reason(match &reassign_to {
        Some(to) => format!("`absent = true`; what it owns goes to `{to}`"),
        None => "`absent = true`".to_string(),
    });
    change = consequences(change, state, reassign_to.as_deref());
    Ok(change.with(Operation::DropRole {
        name: name.clone(),
        reassign_to,
        databases: databases(state, &desired.admin.database),
        terminate_sessions: absent.terminate_sessions,
    }))
}

/// What the drop does, per database and to its sessions, as attributes.
fn consequences(mut change: Change, state: &LiveAbsent, reassign_to: Option<&str>) -> Change {
    for dependency in &state.dependencies {
        let mut before = Vec::new();
        let mut after = Vec::new();
        if dependency.owned > 0 {
            before.push(format!("owns {}", dependency.owned));
            after.push(format!("reassigned to {}", reassign_to.unwrap_or_default()));
        }
        let revoked = dependency.default_privileges_given
            + dependency.default_privileges_received
            + dependency.privileges;
        if dependency.default_privileges_given > 0 {
            before.push(format!(
                "gives {} default privilege(s)",
                dependency.default_privileges_given
            ));
        }
        if dependency.default_privileges_received > 0 {
            before.push(format!(
                "receives {} default privilege(s)",
                dependency.default_privileges_received
            ));
        }
        if dependency.privileges > 0 {
            before.push(format!("holds privileges on {}", dependency.privileges));
        }
        if revoked > 0 {
            after.push("revoked".into());
        }
        change = change.attribute(AttributeChange::new(
            &where_(dependency),
            Some(Value::Text(before.join(", "))),
            Some(Value::Text(after.join(", "))),
        ));
    }
    if !state.sessions.is_empty() {
        let sessions: Vec<String> = state.sessions.iter().map(describe_session).collect();
        change = change.attribute(AttributeChange::new(
            "sessions",
            Some(Value::Text(sessions.join(", "))),
            Some(Value::text("terminated")),
        ));
    }
    change
}

/// Where a dependency is: `database app`, or the cluster's shared objects.
fn where_(dependency: &Dependencies) -> String {
    if dependency.database.is_empty() {
        "cluster".to_string()
    } else {
        format!("database {}", dependency.database)
    }
}

fn describe_session(session: &Session) -> String {
    let application = if session.application.is_empty() {
        String::new()
    } else {
        format!(" `{}`", session.application)
    };
    format!(
        "pid {} ({} from {}{application})",
        session.pid, session.database, session.client
    )
}

/// Roles dbops marked as managed that the file no longer names: left alone,
/// said once per plan.
pub(crate) fn left_the_file(desired: &DesiredPostgres, live: &LivePostgres) -> Vec<String> {
    live.managed
        .iter()
        .filter(|name| !desired.roles.contains_key(*name) && !desired.absent.contains_key(*name))
        .map(|name| {
            format!(
                "role `{name}` was managed by dbops and is no longer in the file: it is left as it is (its grants, its password, its login); add `[roles.{name}] absent = true` to drop it"
            )
        })
        .collect()
}
