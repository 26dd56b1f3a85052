//! From `[postgres]`, `[roles]` and `[databases]` to the desired roles and
//! databases: DSNs parsed and cross-checked, attributes defaulted, memberships
//! and the CONNECT each DSN role needs. Every problem is reported, not only the
//! first; no message quotes a secret or a DSN.

use std::collections::{BTreeMap, BTreeSet};

use secrecy::SecretString;

use super::absent;
use super::desired::{DesiredDatabase, DesiredPostgres, DesiredRole, RoleAttributes};
use super::raw::{RawDatabase, RawPostgres, RawRole};
use crate::diagnostics::{Resolver, UnknownParams};
use crate::dsn::Dsn;
use crate::error::Result;

/// Role names PostgreSQL reserves or that mean something else in SQL.
const RESERVED_ROLE_NAMES: &[&str] = &[
    "public",
    "none",
    "current_user",
    "session_user",
    "current_role",
];

pub(crate) fn resolve(
    raw: &RawPostgres,
    roles: &BTreeMap<String, RawRole>,
    databases: &BTreeMap<String, RawDatabase>,
    r: &mut Resolver<'_>,
) -> Option<DesiredPostgres> {
    let admin_key = r.key(&["postgres", "admin"]);
    let admin = r
        .check(admin_key.dsn(&raw.admin, UnknownParams::Refused))
        .map(|(dsn, _)| dsn);
    let admin_source = raw.admin.source_name();

    let mut desired_roles = BTreeMap::new();
    let mut desired_databases: BTreeMap<String, DesiredDatabase> = BTreeMap::new();
    let mut absent = BTreeMap::new();
    for (name, role) in roles {
        match absent::resolve(name, role, r) {
            Err(error) => {
                r.error(error);
                continue;
            }
            Ok(Some(gone)) => {
                if r.check(check_role_name(name, r, admin.as_ref(), &admin_source))
                    .is_some()
                {
                    absent.insert(name.clone(), gone);
                }
                continue;
            }
            Ok(None) => {}
        }
        let resolved = resolve_role(name, role, r, admin.as_ref(), &admin_source);
        let Some(desired) = r.check(resolved) else {
            continue;
        };
        if let Some(dsn) = &desired.dsn {
            desired_databases
                .entry(dsn.database.clone())
                .or_insert_with(|| DesiredDatabase::named(&dsn.database))
                .connect
                .insert(name.clone());
        }
        desired_roles.insert(name.clone(), desired);
    }
    for (name, database) in databases {
        let key = r.key(&["databases", name]);
        if r.check(key.check_name(name, "database")).is_none() {
            continue;
        }
        if matches!(name.as_str(), "template0" | "template1") {
            r.error(
                key.error(format!(
                    "`{name}` is a template database; dbops does not manage it"
                ))
                .hint("remove the table; manage the databases your application uses"),
            );
            continue;
        }
        let entry = desired_databases
            .entry(name.clone())
            .or_insert_with(|| DesiredDatabase::named(name));
        if let Some(owner) = &database.owner {
            let key = r.key(&["databases", name, "owner"]);
            if r.check(key.check_name(owner, "role")).is_some() {
                entry.owner = Some(owner.clone());
            }
        }
        for (index, from) in database.reassign_owned_from.iter().flatten().enumerate() {
            let key = r.key(&["databases", name, "reassign_owned_from", &index.to_string()]);
            if r.check(key.check_name(from, "role")).is_none() {
                continue;
            }
            match &database.owner {
                None => r.error(
                    key.error("moving ownership needs `owner`, the role that receives it")
                        .hint(format!(
                            "add `owner = \"migrator\"` to `[databases.{name}]`"
                        )),
                ),
                Some(owner) if owner == from => r.error(key.error(format!(
                    "`{from}` is the database's `owner`; it cannot give its objects to itself"
                ))),
                Some(_) => {
                    entry.reassign_owned_from.insert(from.clone());
                }
            }
        }
    }
    check_membership_cycles(&desired_roles, r);
    let desired = DesiredPostgres {
        admin: admin?,
        roles: desired_roles,
        databases: desired_databases,
        absent,
    };
    absent::check_references(&desired, r);
    Some(desired)
}

/// The role's DSN (checked against its name and its need of a password) or
/// its password reference, never both.
fn check_credentials(
    name: &str,
    role: &RawRole,
    r: &mut Resolver<'_>,
) -> Result<(Option<Dsn>, Option<SecretString>)> {
    match (&role.dsn, &role.password) {
        (Some(_), Some(_)) => Err(r
            .key(&["roles", name, "password"])
            .error(format!(
                "role `{name}` sets both `dsn` and `password`; the DSN already carries the password"
            ))
            .hint("keep `dsn` and remove `password`")),
        (Some(reference), None) => {
            let key = r.key(&["roles", name, "dsn"]);
            let (dsn, warning) = key.dsn(reference, UnknownParams::Warned)?;
            if let Some(warning) = warning {
                r.warn(warning);
            }
            // The DSN's user is never quoted: a secret pasted in the wrong
            // place of a DSN would be printed.
            if dsn.user != name {
                return Err(key
                    .error(format!(
                        "role `{name}`: the DSN in `{}` is for another user",
                        reference.source_name()
                    ))
                    .hint(format!(
                        "a role's DSN names the role as its user: point `dsn` at the DSN of `{name}`, or rename the table to `[roles.USER]` for the DSN's user"
                    )));
            }
            let login = role.login.unwrap_or(true);
            if dsn.password().is_none() && login {
                return Err(key.error(format!(
                    "role `{name}`: the DSN in `{}` has no password, and `{name}` is a login role",
                    reference.source_name()
                ))
                .hint("put the password in the DSN, percent-encoded: `postgres://USER:PASSWORD@HOST/DATABASE`"));
            }
            if crate::pg::names::invalid_name(&dsn.database, "database").is_some() {
                return Err(key.error(format!(
                    "role `{name}`: the DSN in `{}` names a database PostgreSQL cannot have (empty, a NUL byte, or longer than 63 bytes)",
                    reference.source_name()
                )));
            }
            let password = dsn.password().cloned();
            Ok((Some(dsn), password))
        }
        (None, Some(reference)) => {
            let key = r.key(&["roles", name, "password"]);
            Ok((None, Some(key.secret(reference)?)))
        }
        (None, None) => Ok((None, None)),
    }
}

/// A role name the file may manage (or drop): valid, not reserved, not the admin.
fn check_role_name(
    name: &str,
    r: &Resolver<'_>,
    admin: Option<&Dsn>,
    admin_source: &str,
) -> Result<()> {
    let role_key = r.key(&["roles", name]);
    role_key.check_name(name, "role")?;
    if name.starts_with("pg_") {
        return Err(role_key.error(format!(
            "role `{name}`: names beginning with `pg_` are reserved for PostgreSQL's built-in roles"
        )));
    }
    // Only the lower-case spellings are reserved: `"Public"` is an ordinary
    // (quoted) role name.
    if RESERVED_ROLE_NAMES.contains(&name) {
        return Err(role_key.error(format!(
            "role `{name}`: `{name}` is reserved in SQL and cannot be a role name"
        )));
    }
    if admin.is_some_and(|a| a.user == name) {
        return Err(role_key
            .error(format!(
                "role `{name}` is the admin user of `{admin_source}`; dbops connects as the admin and never manages it"
            ))
            .hint("remove the table; give the application its own role"));
    }
    Ok(())
}

fn resolve_role(
    name: &str,
    role: &RawRole,
    r: &mut Resolver<'_>,
    admin: Option<&Dsn>,
    admin_source: &str,
) -> Result<DesiredRole> {
    check_role_name(name, r, admin, admin_source)?;
    let (dsn, password) = check_credentials(name, role, r)?;
    let connection_limit = role.connection_limit.unwrap_or(-1);
    if connection_limit < -1 {
        return Err(r
            .key(&["roles", name, "connection_limit"])
            .error(format!("{connection_limit} is not a connection limit"))
            .hint("use a number of connections, or -1 for no limit"));
    }
    let valid_until = match &role.valid_until {
        None => None,
        Some(text) => normalize_valid_until(text).map_err(|why| {
            r.key(&["roles", name, "valid_until"]).error(why)
                .hint("write an RFC 3339 UTC timestamp such as `2027-01-01T00:00:00Z`, a date such as `2027-01-01`, or `infinity`")
        })?,
    };

    let mut member_of = BTreeSet::new();
    for (index, group) in role.member_of.iter().flatten().enumerate() {
        let key = r.key(&["roles", name, "member_of", &index.to_string()]);
        key.check_name(group, "role")?;
        if group == name {
            return Err(key.error(format!("role `{name}` cannot be a member of itself")));
        }
        member_of.insert(group.clone());
    }

    let has_password = password.is_some();
    Ok(DesiredRole {
        name: name.to_string(),
        attributes: RoleAttributes {
            login: role.login.unwrap_or(has_password || dsn.is_some()),
            superuser: role.superuser.unwrap_or(false),
            createdb: role.createdb.unwrap_or(false),
            createrole: role.createrole.unwrap_or(false),
            inherit: role.inherit.unwrap_or(true),
            replication: role.replication.unwrap_or(false),
            bypass_rls: role.bypass_rls.unwrap_or(false),
            connection_limit,
            valid_until,
        },
        password,
        dsn,
        dsn_source: role.dsn.as_ref().map(|r| r.source_name()),
        member_of,
    })
}

/// Membership among managed roles must not loop: PostgreSQL refuses it at apply.
fn check_membership_cycles(roles: &BTreeMap<String, DesiredRole>, r: &mut Resolver<'_>) {
    let mut reported = BTreeSet::new();
    for start in roles.keys() {
        // Depth-first search from `start` through declared memberships.
        let mut stack: Vec<(String, Vec<String>)> = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((role, path)) = stack.pop() {
            let Some(desired) = roles.get(&role) else {
                continue;
            };
            for group in &desired.member_of {
                if group == start {
                    let mut cycle = path.clone();
                    cycle.push(start.clone());
                    let mut members: Vec<String> = cycle.clone();
                    members.sort();
                    members.dedup();
                    if reported.insert(members) {
                        let shown: Vec<String> = cycle.iter().map(|n| format!("`{n}`")).collect();
                        r.error(
                            r.key(&["roles", start, "member_of"])
                                .error(format!(
                                    "role memberships form a cycle: {}",
                                    shown.join(" -> ")
                                ))
                                .hint("PostgreSQL refuses circular role membership; remove one of the `member_of` entries"),
                        );
                    }
                } else if seen.insert(group.clone()) {
                    let mut next = path.clone();
                    next.push(group.clone());
                    stack.push((group.clone(), next));
                }
            }
        }
    }
}

/// `infinity` -> `None`; a date or RFC 3339 UTC timestamp -> `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn normalize_valid_until(text: &str) -> std::result::Result<Option<String>, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("infinity") {
        return Ok(None);
    }
    let utc = if text.len() == 10 {
        Some(format!("{text}T00:00:00"))
    } else {
        text.strip_suffix('Z')
            .or_else(|| text.strip_suffix("+00:00"))
            .map(str::to_string)
    };
    let time = utc
        .and_then(|t| humantime::parse_rfc3339_weak(&t).ok())
        .ok_or_else(|| format!("`{text}` is not a UTC timestamp"))?;
    Ok(Some(humantime::format_rfc3339_seconds(time).to_string()))
}

#[cfg(test)]
mod tests {
    use super::normalize_valid_until;

    #[test]
    fn valid_until_normalizes() {
        assert_eq!(normalize_valid_until("infinity").unwrap(), None);
        assert_eq!(
            normalize_valid_until("2027-01-01").unwrap().as_deref(),
            Some("2027-01-01T00:00:00Z")
        );
        assert_eq!(
            normalize_valid_until("2027-01-01T10:20:30Z")
                .unwrap()
                .as_deref(),
            Some("2027-01-01T10:20:30Z")
        );
        assert_eq!(
            normalize_valid_until("2027-01-01T10:20:30+00:00")
                .unwrap()
                .as_deref(),
            Some("2027-01-01T10:20:30Z")
        );
        assert!(normalize_valid_until("2027-01-01T10:20:30+02:00").is_err());
        assert!(normalize_valid_until("2027-01-01T10:20:30").is_err());
        assert!(normalize_valid_until("next week").is_err());
    }
}
