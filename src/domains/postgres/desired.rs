//! The PostgreSQL domain's desired state: roles and databases as the file
//! declares them, with secrets resolved. Live state uses the same attribute
//! type, so the diff compares like with like.

use std::collections::{BTreeMap, BTreeSet};

use secrecy::SecretString;
use serde::Serialize;

use crate::dsn::Dsn;

/// The attributes that fully describe a role, each at PostgreSQL's default
/// unless the file says otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct RoleAttributes {
    pub(crate) login: bool,
    pub(crate) superuser: bool,
    pub(crate) createdb: bool,
    pub(crate) createrole: bool,
    pub(crate) inherit: bool,
    pub(crate) replication: bool,
    pub(crate) bypass_rls: bool,
    pub(crate) connection_limit: i32,
    /// `YYYY-MM-DDTHH:MM:SSZ` in UTC; `None` means no expiry (`infinity`).
    pub(crate) valid_until: Option<String>,
}

impl Default for RoleAttributes {
    fn default() -> Self {
        Self {
            login: false,
            superuser: false,
            createdb: false,
            createrole: false,
            inherit: true,
            replication: false,
            bypass_rls: false,
            connection_limit: -1,
            valid_until: None,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct DesiredRole {
    pub(crate) name: String,
    pub(crate) attributes: RoleAttributes,
    /// `None`: the password is not managed (a group role, or peer/cert login).
    pub(crate) password: Option<SecretString>,
    /// The DSN that defines this role, if any; its host, port and database are
    /// used for the login-attempt fallback.
    pub(crate) dsn: Option<Dsn>,
    /// Where the DSN comes from (`$DATABASE_URL`), for messages.
    pub(crate) dsn_source: Option<String>,
    pub(crate) member_of: BTreeSet<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DesiredDatabase {
    pub(crate) name: String,
    /// `None`: the owner is not managed.
    pub(crate) owner: Option<String>,
    /// Roles that must hold CONNECT (every DSN role on its DSN's database).
    pub(crate) connect: BTreeSet<String>,
    /// Roles whose objects in the database move to `owner`.
    pub(crate) reassign_owned_from: BTreeSet<String>,
}

impl DesiredDatabase {
    pub(crate) fn named(name: &str) -> Self {
        Self {
            name: name.to_string(),
            ..Self::default()
        }
    }
}

/// `[roles.NAME] absent = true`: a role that must not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AbsentRole {
    pub(crate) name: String,
    /// Who receives the objects it owns.
    pub(crate) reassign_to: Option<String>,
    /// End its open sessions before dropping it.
    pub(crate) terminate_sessions: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct DesiredPostgres {
    /// The admin connection: used to observe and apply, never managed.
    pub(crate) admin: Dsn,
    pub(crate) roles: BTreeMap<String, DesiredRole>,
    pub(crate) databases: BTreeMap<String, DesiredDatabase>,
    /// Roles that must be gone.
    pub(crate) absent: BTreeMap<String, AbsentRole>,
}

impl DesiredPostgres {
    /// Every role name the live state must be read for: managed roles, the
    /// groups they join, database owners and CONNECT grantees.
    pub(crate) fn referenced_roles(&self) -> BTreeSet<String> {
        let mut names: BTreeSet<String> = self.roles.keys().cloned().collect();
        names.extend(self.absent.keys().cloned());
        names.extend(self.absent.values().filter_map(|a| a.reassign_to.clone()));
        for role in self.roles.values() {
            names.extend(role.member_of.iter().cloned());
        }
        for database in self.databases.values() {
            names.extend(database.owner.iter().cloned());
            names.extend(database.connect.iter().cloned());
        }
        names
    }
}
