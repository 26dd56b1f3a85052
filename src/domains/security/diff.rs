//! The security findings, from the posture read and what the file declares.
//! Pure. Each finding names what it found and how to fix it; none changes
//! anything.

use super::state::{DesiredSecurity, LiveSecurity, RolePosture, Stored};
use super::Operation;
use crate::plan::{Address, DomainDiff, Finding, FindingClass};

fn role_address(name: &str) -> Address {
    super::ID.address().word("role").name(name)
}

/// Whether the checks leave a role alone: PostgreSQL's own (`pg_*`, the
/// bootstrap superuser), or the admin.
fn exempt(desired: &DesiredSecurity, live: &LiveSecurity, name: &str) -> bool {
    name.starts_with("pg_")
        || name == desired.admin
        || live.roles.get(name).is_some_and(|r| r.bootstrap)
}

/// The privileged attributes a role holds, in SQL's words.
fn privileges(role: &RolePosture) -> Vec<&'static str> {
    let mut out = Vec::new();
    for (held, word) in [
        (role.superuser, "SUPERUSER"),
        (role.bypass_rls, "BYPASSRLS"),
        (role.createrole, "CREATEROLE"),
        (role.replication, "REPLICATION"),
    ] {
        if held {
            out.push(word);
        }
    }
    out
}

pub(crate) fn diff(desired: &DesiredSecurity, live: &LiveSecurity) -> DomainDiff<Operation> {
    let mut out = DomainDiff::default();
    out.findings.extend(undeclared_privileges(desired, live));
    out.findings.extend(weak_passwords(desired, live));
    if !live.password_encryption.is_empty() && live.password_encryption != "scram-sha-256" {
        out.findings.push(
            Finding::new(
                "security.password_encryption",
                FindingClass::Security,
                super::ID.address().word("setting").name("password_encryption"),
                format!(
                    "`password_encryption` is `{}`: a password set by hand is stored as an MD5 hash, weaker and unusable for pgBouncer's SCRAM pass-through; set `password_encryption = \"scram-sha-256\"` in `[server.settings]`",
                    live.password_encryption
                ),
            )
            .detail("value", live.password_encryption.as_str()),
        );
    }
    for line in live.hba.iter().flatten() {
        if !matches!(line.auth_method.as_str(), "trust" | "password" | "md5") {
            continue;
        }
        let why = match line.auth_method.as_str() {
            "trust" => "lets anyone who matches it in without a password",
            "password" => "sends the password in clear text",
            _ => "accepts MD5 password hashes, which are weaker than SCRAM",
        };
        out.findings.push(
            Finding::new(
                "security.hba_method",
                FindingClass::Security,
                super::ID.address().word("hba").word("line").name(line.line.to_string()),
                format!(
                    "line {} of the HBA file (`{} {} {}{}`) uses `{}`, which {why}; use `scram-sha-256` (dbops manages the file with `[server.hba]`)",
                    line.line,
                    line.kind,
                    line.database.join(","),
                    line.user_name.join(","),
                    line.address.as_deref().map(|a| format!(" {a}")).unwrap_or_default(),
                    line.auth_method
                ),
            )
            .detail("line", i64::from(line.line))
            .detail("method", line.auth_method.as_str()),
        );
    }
    for database in &live.public_create {
        out.findings.push(
            Finding::new(
                "security.public_create",
                FindingClass::Security,
                super::ID.address().word("schema").name(database).name("public"),
                format!(
                    "every role may create objects in the `public` schema of `{database}` (CREATE for PUBLIC, the default before PostgreSQL 15): a role can plant a function or table that another role's search path finds first; run `REVOKE CREATE ON SCHEMA public FROM PUBLIC` in `{database}`"
                ),
            )
            .detail("database", database.as_str()),
        );
    }
    for what in &live.skipped {
        out.notes.push(format!("security checks skipped: {what}"));
    }
    out
}

/// Roles the file does not declare that hold a privileged attribute, and
/// the undeclared members of any role that does.
fn undeclared_privileges(desired: &DesiredSecurity, live: &LiveSecurity) -> Vec<Finding> {
    let mut out = Vec::new();
    for role in live.roles.values() {
        let held = privileges(role);
        if held.is_empty()
            || exempt(desired, live, &role.name)
            || desired.declared.contains(&role.name)
        {
            continue;
        }
        let clauses: Vec<String> = held.iter().map(|p| format!("NO{p}")).collect();
        let keys: Vec<String> = held
            .iter()
            .map(|p| format!("{} = true", key_of(p)))
            .collect();
        out.push(
            Finding::new(
                "security.undeclared_privileged_role",
                FindingClass::Security,
                role_address(&role.name),
                format!(
                    "role `{}` holds {} but the file does not declare it: if that is on purpose, declare it (`[roles.{}]` with {}; `dbops import` writes it); otherwise `ALTER ROLE {} {}`, or drop it with `absent = true`",
                    role.name,
                    held.join(", "),
                    role.name,
                    keys.join(", "),
                    crate::pg::quote::ident(&role.name),
                    clauses.join(" ")
                ),
            )
            .detail("role", role.name.as_str())
            .detail("attributes", held.join(",")),
        );
    }
    for (member, group) in &live.memberships {
        let Some(group_role) = live.roles.get(group) else {
            continue;
        };
        let held = privileges(group_role);
        if held.is_empty() || exempt(desired, live, member) || desired.declared.contains(member) {
            continue;
        }
        out.push(
            Finding::new(
                "security.undeclared_privileged_role",
                FindingClass::Security,
                role_address(member),
                format!(
                    "role `{member}` is a member of `{group}`, which holds {}: `SET ROLE {group}` gives it that power, and the file does not declare `{member}`; declare it with `member_of = [\"{group}\"]` if that is on purpose, else `REVOKE {} FROM {}`",
                    held.join(", "),
                    crate::pg::quote::ident(group),
                    crate::pg::quote::ident(member)
                ),
            )
            .detail("role", member.as_str())
            .detail("group", group.as_str()),
        );
    }
    out
}

/// The `[roles]` key of an attribute.
fn key_of(attribute: &str) -> &'static str {
    match attribute {
        "SUPERUSER" => "superuser",
        "BYPASSRLS" => "bypass_rls",
        "CREATEROLE" => "createrole",
        _ => "replication",
    }
}

/// Login roles whose stored password is an MD5 hash or plain text, but
/// those whose password the file manages (the plan sets them already).
fn weak_passwords(desired: &DesiredSecurity, live: &LiveSecurity) -> Vec<Finding> {
    live.roles
        .values()
        .filter(|r| r.login && matches!(r.password, Stored::Md5 | Stored::Plain))
        .filter(|r| !exempt(desired, live, &r.name) && !desired.managed_passwords.contains(&r.name))
        .map(|role| {
            let how = if role.password == Stored::Md5 {
                "an MD5 hash"
            } else {
                "plain text"
            };
            Finding::new(
                "security.weak_password",
                FindingClass::Security,
                role_address(&role.name),
                format!(
                    "the password of login role `{}` is stored as {how}: set it again with `password_encryption = scram-sha-256` (or let dbops manage it with `password` or `dsn` in `[roles.{}]`)",
                    role.name, role.name
                ),
            )
            .detail("role", role.name.as_str())
        })
        .collect()
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
