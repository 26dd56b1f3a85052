//! The work apply does in PostgreSQL, one variant per kind of change, and the
//! SQL each becomes. A role operation that sets a password carries it as a
//! secret; apply sends only a SCRAM verifier computed from it.

use secrecy::SecretString;

use crate::pg::quote::{ident, literal};

/// One attribute clause of `CREATE ROLE` / `ALTER ROLE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RoleOption {
    Login(bool),
    Superuser(bool),
    CreateDb(bool),
    CreateRole(bool),
    Inherit(bool),
    Replication(bool),
    BypassRls(bool),
    ConnectionLimit(i32),
    /// `None` is `infinity`: PostgreSQL cannot go back to NULL.
    ValidUntil(Option<String>),
}

impl RoleOption {
    pub(crate) fn sql(&self) -> String {
        fn flag(on: bool, name: &str) -> String {
            if on {
                name.to_string()
            } else {
                format!("NO{name}")
            }
        }
        match self {
            RoleOption::Login(on) => flag(*on, "LOGIN"),
            RoleOption::Superuser(on) => flag(*on, "SUPERUSER"),
            RoleOption::CreateDb(on) => flag(*on, "CREATEDB"),
            RoleOption::CreateRole(on) => flag(*on, "CREATEROLE"),
            RoleOption::Inherit(on) => flag(*on, "INHERIT"),
            RoleOption::Replication(on) => flag(*on, "REPLICATION"),
            RoleOption::BypassRls(on) => flag(*on, "BYPASSRLS"),
            RoleOption::ConnectionLimit(n) => format!("CONNECTION LIMIT {n}"),
            RoleOption::ValidUntil(at) => {
                format!(
                    "VALID UNTIL {}",
                    literal(at.as_deref().unwrap_or("infinity"))
                )
            }
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Operation {
    /// `CREATE DATABASE`, outside any transaction; the owner is set afterwards,
    /// inside the role transaction, once the owning role exists.
    CreateDatabase {
        name: String,
        owner: Option<String>,
    },
    CreateRole {
        name: String,
        options: Vec<RoleOption>,
        /// The password to set, as a SCRAM verifier apply computes.
        password: Option<SecretString>,
        /// Mark it managed (`dbops.managed`): only a superuser admin may.
        mark: bool,
    },
    AlterRole {
        name: String,
        options: Vec<RoleOption>,
        password: Option<SecretString>,
        /// Mark it managed (`dbops.managed`) too: it was not yet.
        mark: bool,
    },
    /// `[roles.NAME] absent = true`: no new logins, its sessions ended when
    /// allowed, `REASSIGN OWNED` and `DROP OWNED` in each database it has
    /// anything in, then `DROP ROLE`.
    DropRole {
        name: String,
        reassign_to: Option<String>,
        databases: Vec<String>,
        terminate_sessions: bool,
    },
    GrantMembership {
        member: String,
        group: String,
    },
    RevokeMembership {
        member: String,
        group: String,
    },
    SetDatabaseOwner {
        database: String,
        owner: String,
    },
    GrantConnect {
        database: String,
        role: String,
    },
}

/// Marks a role as managed by dbops: a role-level setting, which leaves the
/// role's comment alone and changes nothing for its sessions.
pub(crate) fn mark_managed_sql(name: &str) -> String {
    format!("ALTER ROLE {} SET dbops.managed = 'true'", ident(name))
}

/// What `DROP OWNED` runs in one database, after `REASSIGN OWNED` when the
/// role's objects go to another.
pub(crate) fn drop_owned_sql(name: &str, reassign_to: Option<&str>) -> String {
    let mut sql = String::new();
    if let Some(to) = reassign_to {
        sql.push_str(&format!(
            "REASSIGN OWNED BY {} TO {}; ",
            ident(name),
            ident(to)
        ));
    }
    sql.push_str(&format!("DROP OWNED BY {}", ident(name)));
    sql
}

/// `CREATE ROLE` / `ALTER ROLE` text; `verifier` is a SCRAM verifier, never a plaintext.
pub(crate) fn role_sql(
    verb: &str,
    name: &str,
    options: &[RoleOption],
    verifier: Option<&str>,
) -> String {
    let mut sql = format!("{verb} ROLE {}", ident(name));
    if !options.is_empty() || verifier.is_some() {
        sql.push_str(" WITH");
    }
    for option in options {
        sql.push(' ');
        sql.push_str(&option.sql());
    }
    if let Some(verifier) = verifier {
        sql.push_str(" PASSWORD ");
        sql.push_str(&literal(verifier));
    }
    sql
}

impl Operation {
    /// The role whose password this operation sets, if it sets one.
    pub(crate) fn sets_password(&self) -> Option<&str> {
        match self {
            Operation::CreateRole {
                name,
                password: Some(_),
                ..
            }
            | Operation::AlterRole {
                name,
                password: Some(_),
                ..
            } => Some(name),
            _ => None,
        }
    }

    /// SQL for operations that need nothing but their own fields.
    pub(crate) fn plain_sql(&self) -> Option<String> {
        Some(match self {
            Operation::CreateDatabase { name, .. } => format!("CREATE DATABASE {}", ident(name)),
            Operation::GrantMembership { member, group } => {
                format!("GRANT {} TO {}", ident(group), ident(member))
            }
            Operation::RevokeMembership { member, group } => {
                format!("REVOKE {} FROM {}", ident(group), ident(member))
            }
            Operation::SetDatabaseOwner { database, owner } => {
                format!(
                    "ALTER DATABASE {} OWNER TO {}",
                    ident(database),
                    ident(owner)
                )
            }
            Operation::GrantConnect { database, role } => {
                format!(
                    "GRANT CONNECT ON DATABASE {} TO {}",
                    ident(database),
                    ident(role)
                )
            }
            Operation::CreateRole { .. }
            | Operation::AlterRole { .. }
            | Operation::DropRole { .. } => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_sql_quotes_names_and_values() {
        let sql = role_sql(
            "CREATE",
            "App \"User\"",
            &[
                RoleOption::Login(true),
                RoleOption::BypassRls(false),
                RoleOption::ConnectionLimit(5),
            ],
            Some("SCRAM-SHA-256$4096:c2FsdA==$a:b"),
        );
        assert_eq!(
            sql,
            "CREATE ROLE \"App \"\"User\"\"\" WITH LOGIN NOBYPASSRLS CONNECTION LIMIT 5 PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$a:b'"
        );
        assert_eq!(
            role_sql("ALTER", "r", &[RoleOption::ValidUntil(None)], None),
            "ALTER ROLE \"r\" WITH VALID UNTIL 'infinity'"
        );
    }
}
