//! The PostgreSQL domain's diff: a pure function from desired and live state to
//! ordered changes. Opens no connection and prints nothing.
//!
//! Order: databases to create, roles to create, roles to update, memberships to
//! grant, database owners, CONNECT grants, memberships to revoke, roles to
//! drop (`absent`). Roles not in the file are never touched (those dbops
//! marked as managed are named in a note); a membership is revoked only when
//! both of its roles are managed and the file does not list it.

use std::collections::BTreeSet;

use super::absent;
use super::desired::{DesiredDatabase, DesiredPostgres, DesiredRole, RoleAttributes};
use super::live::{LivePostgres, LiveRole, StoredPassword};
use super::operation::{Operation, RoleOption};
use super::verify::Verified;
use crate::error::{Error, Errors};
use crate::pg::scram::Verifier;
use crate::plan::{
    Action, Address, AttributeChange, Change, DomainDiff, Finding, FindingClass, Planned, Value,
};

pub(crate) fn role_address(name: &str) -> Address {
    super::ID.address().word("role").name(name)
}

pub(crate) fn database_address(name: &str) -> Address {
    super::ID.address().word("database").name(name)
}

/// A role's privileges on a database: `postgres.grant.ROLE.DATABASE.database`,
/// the address the grants domain also gives a database-level scope.
pub(crate) fn database_grant_address(role: &str, database: &str) -> Address {
    super::ID
        .address()
        .word("grant")
        .name(role)
        .name(database)
        .word("database")
}

fn membership_address(member: &str, group: &str) -> Address {
    super::ID
        .address()
        .word("membership")
        .name(member)
        .name(group)
}

/// From desired to live, in apply order. `live.verified` holds the roles
/// whose stored verifier is the desired password (checked while observing,
/// on every core); `governed`: `(role, database)` pairs whose CONNECT a
/// declared database-level grant manages instead.
pub(crate) fn diff(
    desired: &DesiredPostgres,
    live: &LivePostgres,
    governed: &BTreeSet<(String, String)>,
) -> Result<DomainDiff<Operation>, Errors> {
    check_references(desired, live)?;
    check_superusers(desired, live)?;
    let mut out = DomainDiff {
        notes: superuser_memberships(desired, live),
        findings: rls_escapes(desired, live),
        ..DomainDiff::default()
    };
    out.changes.extend(database_creates(desired, live));
    let mut updates = Vec::new();
    for role in desired.roles.values() {
        match live.roles.get(&role.name) {
            None => out.changes.push(create_role(role, live.superuser)),
            Some(live_role) => updates.extend(update_role(
                role,
                live_role,
                &live.verified,
                // Only a superuser may set the marker (a custom setting).
                live.managed.contains(&role.name) || !live.superuser,
            )),
        }
    }
    out.changes.extend(updates);
    out.changes.extend(membership_grants(desired, live));
    for database in desired.databases.values() {
        out.changes
            .extend(owner_and_connect(database, live, governed));
    }
    out.changes.extend(membership_revokes(desired, live));
    out.changes.extend(absent::drops(desired, live)?);
    out.notes.extend(absent::left_the_file(desired, live));
    Ok(out)
}

fn database_creates(desired: &DesiredPostgres, live: &LivePostgres) -> Vec<Planned<Operation>> {
    let mut out = Vec::new();
    for database in desired.databases.values() {
        if !live.databases.contains_key(&database.name) {
            let mut change = Change::new(database_address(&database.name), Action::Create);
            if let Some(owner) = &database.owner {
                change = change.attribute(AttributeChange::new("owner", None, Some(text(owner))));
            }
            out.push(change.with(Operation::CreateDatabase {
                name: database.name.clone(),
                owner: database.owner.clone(),
            }));
        }
    }
    out
}

fn membership_grants(desired: &DesiredPostgres, live: &LivePostgres) -> Vec<Planned<Operation>> {
    let mut out = Vec::new();
    for role in desired.roles.values() {
        for group in &role.member_of {
            if !live
                .memberships
                .contains(&(role.name.clone(), group.clone()))
            {
                out.push(
                    Change::new(membership_address(&role.name, group), Action::Create)
                        .attribute(AttributeChange::new("member_of", None, Some(text(group))))
                        .with(Operation::GrantMembership {
                            member: role.name.clone(),
                            group: group.clone(),
                        }),
                );
            }
        }
    }
    out
}

/// A database's owner, then the CONNECT its DSN roles need.
fn owner_and_connect(
    database: &DesiredDatabase,
    live: &LivePostgres,
    governed: &BTreeSet<(String, String)>,
) -> Vec<Planned<Operation>> {
    let mut out = Vec::new();
    let live_database = live.databases.get(&database.name);
    if let (Some(owner), Some(live_database)) = (&database.owner, live_database) {
        if &live_database.owner != owner {
            out.push(
                Change::new(database_address(&database.name), Action::Update)
                    .attribute(AttributeChange::new(
                        "owner",
                        Some(text(&live_database.owner)),
                        Some(text(owner)),
                    ))
                    .with(Operation::SetDatabaseOwner {
                        database: database.name.clone(),
                        owner: owner.clone(),
                    }),
            );
        }
    }
    // `ALTER DATABASE ... OWNER` hands every privilege the old owner held
    // (as owner and as grantee) to the new owner: predict it, so the old
    // owner's CONNECT is granted in the same apply.
    let new_owner = database
        .owner
        .as_ref()
        .filter(|o| live_database.is_some_and(|d| &d.owner != *o));
    for role in &database.connect {
        if governed.contains(&(role.clone(), database.name.clone())) {
            continue;
        }
        let (has, loses) = match (live_database, new_owner) {
            (None, _) => (false, false),
            (Some(d), Some(new)) if role == &d.owner => (role == new, true),
            (Some(_), Some(new)) if role == new => (true, false),
            (Some(d), _) => (d.connect.contains(role), false),
        };
        if has {
            continue;
        }
        let mut change = Change::new(database_grant_address(role, &database.name), Action::Create)
            .attribute(AttributeChange::new(
                "privileges",
                None,
                Some(Value::List(vec!["CONNECT".into()].into())),
            ));
        if loses {
            change = change.reason(format!(
                "`{role}` holds CONNECT only as the owner of `{}`; it loses it when ownership moves",
                database.name
            ));
        }
        out.push(change.with(Operation::GrantConnect {
            database: database.name.clone(),
            role: role.clone(),
        }));
    }
    out
}

fn membership_revokes(desired: &DesiredPostgres, live: &LivePostgres) -> Vec<Planned<Operation>> {
    let mut out = Vec::new();
    for (member, group) in &live.memberships {
        let Some(role) = desired.roles.get(member) else {
            continue;
        };
        if desired.roles.contains_key(group) && !role.member_of.contains(group) {
            out.push(
                Change::new(membership_address(member, group), Action::Delete)
                    .attribute(AttributeChange::new("member_of", Some(text(group)), None))
                    .reason(format!(
                        "`{group}` is managed and `{member}` does not list it in `member_of`"
                    ))
                    .with(Operation::RevokeMembership {
                        member: member.clone(),
                        group: group.clone(),
                    }),
            );
        }
    }
    out
}

fn text(value: &str) -> Value {
    Value::Text(value.to_string())
}

/// Roles the file refers to but does not declare must already exist.
fn check_references(desired: &DesiredPostgres, live: &LivePostgres) -> Result<(), Errors> {
    let exists = |name: &String| desired.roles.contains_key(name) || live.roles.contains_key(name);
    let mut errors = Vec::new();
    for role in desired.roles.values() {
        for group in role.member_of.iter().filter(|g| !exists(g)) {
            errors.push(
                Error::config(format!(
                    "role `{}` is to be a member of `{group}`, which neither exists nor is declared",
                    role.name
                ))
                .hint(format!(
                    "declare it as `[roles.{group}]`, or fix the name in `member_of`"
                )),
            );
        }
    }
    for database in desired.databases.values() {
        if let Some(owner) = database.owner.as_ref().filter(|o| !exists(o)) {
            errors.push(
                Error::config(format!(
                    "database `{}` is to be owned by `{owner}`, which neither exists nor is declared",
                    database.name
                ))
                .hint(format!(
                    "declare it as `[roles.{owner}]`, or fix `databases.{}.owner`",
                    database.name
                )),
            );
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Errors::new(errors))
    }
}

/// The bootstrap superuser is never demoted or locked, and no plan may leave
/// the cluster without a superuser that can log in.
fn check_superusers(desired: &DesiredPostgres, live: &LivePostgres) -> Result<(), Errors> {
    let mut errors = Vec::new();
    for role in desired.roles.values() {
        let Some(live_role) = live.roles.get(&role.name).filter(|r| r.bootstrap) else {
            continue;
        };
        let a = &role.attributes;
        let mut what = Vec::new();
        if live_role.attributes.superuser && !a.superuser {
            what.push("`superuser = false` would demote it");
        }
        if live_role.attributes.login && !a.login {
            what.push("`login = false` would lock it out");
        }
        if a.valid_until.is_some() {
            what.push("`valid_until` would expire its password");
        }
        if a.connection_limit == 0 {
            what.push("`connection_limit = 0` would lock it out");
        }
        if !what.is_empty() {
            errors.push(
                Error::config(format!(
                    "role `{}` is the bootstrap superuser (the role `initdb` created); dbops never demotes or locks it: {}",
                    role.name,
                    what.join(", ")
                ))
                .hint(format!(
                    "remove those keys from `[roles.{}]`, or stop managing the role",
                    role.name
                )),
            );
        }
    }
    let mut after: BTreeSet<String> = live.login_superusers.clone();
    for role in desired.roles.values() {
        if role.attributes.superuser
            && role.attributes.login
            && role.attributes.connection_limit != 0
        {
            after.insert(role.name.clone());
        } else {
            after.remove(&role.name);
        }
    }
    if after.is_empty() && !live.login_superusers.is_empty() {
        let lost: Vec<String> = live
            .login_superusers
            .iter()
            .map(|r| format!("`{r}`"))
            .collect();
        errors.push(
            Error::config(format!(
                "the plan would leave the cluster without a superuser that can log in (today: {})",
                lost.join(", ")
            ))
            .hint("keep at least one role with `superuser = true` and `login = true`"),
        );
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Errors::new(errors))
    }
}

/// Memberships in superuser roles: they hand out superuser through `SET ROLE`.
fn superuser_memberships(desired: &DesiredPostgres, live: &LivePostgres) -> Vec<String> {
    let is_superuser = |name: &str| {
        desired
            .roles
            .get(name)
            .map(|r| r.attributes.superuser)
            .or_else(|| live.roles.get(name).map(|r| r.attributes.superuser))
            .unwrap_or(false)
    };
    let mut notes = Vec::new();
    for role in desired.roles.values() {
        // Application roles (with a DSN, under RLS) get a finding instead.
        if role.dsn.is_some() && !role.attributes.bypass_rls {
            continue;
        }
        for group in role.member_of.iter().filter(|g| is_superuser(g)) {
            notes.push(format!(
                "warning: role `{}` is a member of `{group}`, a superuser: it can `SET ROLE {group}` and act as a superuser",
                role.name
            ));
        }
    }
    notes
}

/// An application role under row-level security (a DSN, no `bypass_rls`)
/// that is a member of a role with BYPASSRLS or superuser escapes RLS.
fn rls_escapes(desired: &DesiredPostgres, live: &LivePostgres) -> Vec<Finding> {
    let attributes = |name: &str| {
        desired
            .roles
            .get(name)
            .map(|r| r.attributes.clone())
            .or_else(|| live.roles.get(name).map(|r| r.attributes.clone()))
    };
    let mut findings = Vec::new();
    for role in desired.roles.values() {
        if role.dsn.is_none() || role.attributes.bypass_rls {
            continue;
        }
        let groups: BTreeSet<&String> = role
            .member_of
            .iter()
            .chain(
                live.memberships
                    .iter()
                    .filter(|(member, _)| member == &role.name)
                    .map(|(_, group)| group),
            )
            .collect();
        for group in groups {
            let Some(group_attributes) = attributes(group) else {
                continue;
            };
            let what = if group_attributes.superuser {
                "a superuser"
            } else if group_attributes.bypass_rls {
                "a role with BYPASSRLS"
            } else {
                continue;
            };
            findings.push(
                Finding::new(
                    "security.rls_membership",
                    FindingClass::Security,
                    membership_address(&role.name, group),
                    format!(
                        "`{}` logs in as the application under row-level security, but is a member of `{group}`, {what}: `SET ROLE {group}` escapes row-level security; remove `{group}` from its `member_of` (or revoke the membership)",
                        role.name
                    ),
                )
                .detail("role", role.name.as_str())
                .detail("group", group.as_str()),
            );
        }
    }
    findings
}

/// Each attribute as a plan value and as a role clause, in a fixed order.
fn attribute_list(attributes: &RoleAttributes) -> Vec<(&'static str, Value, RoleOption)> {
    let a = attributes;
    vec![
        ("login", Value::Bool(a.login), RoleOption::Login(a.login)),
        (
            "superuser",
            Value::Bool(a.superuser),
            RoleOption::Superuser(a.superuser),
        ),
        (
            "createdb",
            Value::Bool(a.createdb),
            RoleOption::CreateDb(a.createdb),
        ),
        (
            "createrole",
            Value::Bool(a.createrole),
            RoleOption::CreateRole(a.createrole),
        ),
        (
            "inherit",
            Value::Bool(a.inherit),
            RoleOption::Inherit(a.inherit),
        ),
        (
            "replication",
            Value::Bool(a.replication),
            RoleOption::Replication(a.replication),
        ),
        (
            "bypass_rls",
            Value::Bool(a.bypass_rls),
            RoleOption::BypassRls(a.bypass_rls),
        ),
        (
            "connection_limit",
            Value::Int(a.connection_limit.into()),
            RoleOption::ConnectionLimit(a.connection_limit),
        ),
        (
            "valid_until",
            Value::Text(a.valid_until.clone().unwrap_or_else(|| "infinity".into())),
            RoleOption::ValidUntil(a.valid_until.clone()),
        ),
    ]
}

fn create_role(role: &DesiredRole, mark: bool) -> Planned<Operation> {
    let list = attribute_list(&role.attributes);
    let options = list.iter().map(|(_, _, option)| option.clone()).collect();
    let mut change = Change::new(role_address(&role.name), Action::Create);
    for (name, value, _) in list {
        change = change.attribute(AttributeChange::new(name, None, Some(value)));
    }
    if role.password.is_some() {
        change = change.attribute(AttributeChange::sensitive("password"));
    }
    change.with(Operation::CreateRole {
        name: role.name.clone(),
        options,
        password: role.password.clone(),
        mark,
    })
}

fn update_role(
    role: &DesiredRole,
    live: &LiveRole,
    verified: &Verified,
    managed: bool,
) -> Option<Planned<Operation>> {
    let wanted = attribute_list(&role.attributes);
    let have = attribute_list(&live.attributes);
    let mut attributes = Vec::new();
    let mut options = Vec::new();
    for ((name, after, option), (_, before, _)) in wanted.into_iter().zip(have) {
        if after != before {
            attributes.push(AttributeChange::new(name, Some(before), Some(after)));
            options.push(option);
        }
    }
    let password_reason = role
        .password
        .as_ref()
        .and_then(|_| password_mismatch(&role.name, &live.password, verified));
    if password_reason.is_some() {
        attributes.push(AttributeChange::sensitive("password"));
    }
    if attributes.is_empty() {
        return None;
    }
    let mut change = Change::new(role_address(&role.name), Action::Update);
    change.attributes = attributes;
    if let Some(reason) = password_reason.clone().flatten() {
        change = change.reason(reason);
    }
    Some(change.with(Operation::AlterRole {
        name: role.name.clone(),
        options,
        password: password_reason.and(role.password.clone()),
        mark: !managed,
    }))
}

/// `None`: the stored password is the desired one. `Some(reason)`: it must be
/// set, with a reason worth showing when "it differs" is not the whole story.
fn password_mismatch(
    role: &str,
    stored: &StoredPassword,
    verified: &Verified,
) -> Option<Option<String>> {
    match stored {
        StoredPassword::Scram(text) if verified.matches(role, text) => None,
        StoredPassword::Scram(text) => match Verifier::parse(text) {
            Some(v) if !v.checkable() => Some(Some(format!(
                "the stored SCRAM verifier uses {} iterations, more than dbops checks ({}); it will be stored again with {}",
                v.iterations,
                crate::pg::scram::MAX_ITERATIONS,
                crate::pg::scram::DEFAULT_ITERATIONS
            ))),
            Some(_) => Some(None),
            None => Some(Some("the stored SCRAM verifier is malformed".into())),
        },
        StoredPassword::Md5 => Some(Some(
            "the password is stored as an MD5 hash; it will be stored as SCRAM-SHA-256".into(),
        )),
        StoredPassword::Plain => Some(Some(
            "the password is stored in plain text; it will be stored as SCRAM-SHA-256".into(),
        )),
        StoredPassword::None => Some(Some("the role has no password".into())),
        StoredPassword::LoginChecked { matches: true } => None,
        StoredPassword::LoginChecked { matches: false } => Some(Some(
            "the password did not log in (checked by a login attempt: `pg_authid` is not readable)"
                .into(),
        )),
        StoredPassword::Unknown => {
            Some(Some("the stored password cannot be read or checked".into()))
        }
    }
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
