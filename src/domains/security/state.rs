//! What the security checks compare: what the file declares on purpose
//! (desired) and the cluster's posture as read (live).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// What the file says on purpose.
#[derive(Debug, Clone, Default)]
pub(crate) struct DesiredSecurity {
    /// The admin DSN's user: exempt.
    pub(crate) admin: String,
    /// Roles the file declares: their attributes are intended.
    pub(crate) declared: BTreeSet<String>,
    /// Roles whose password the file manages: a weak stored password is a
    /// planned change already, not a finding.
    pub(crate) managed_passwords: BTreeSet<String>,
    /// Databases whose `public` schema is checked: the managed ones.
    pub(crate) databases: BTreeSet<String>,
}

/// How a role's password is stored, as far as the admin may read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Stored {
    None,
    Scram,
    Md5,
    Plain,
    /// `pg_authid` is not readable.
    Unknown,
}

/// One role of the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RolePosture {
    pub(crate) name: String,
    /// The role `initdb` created (OID 10): the cluster's own, exempt.
    #[serde(default)]
    pub(crate) bootstrap: bool,
    pub(crate) superuser: bool,
    pub(crate) bypass_rls: bool,
    pub(crate) createrole: bool,
    pub(crate) replication: bool,
    pub(crate) login: bool,
    pub(crate) password: Stored,
}

/// One line of the HBA file as `pg_hba_file_rules` reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct HbaLine {
    pub(crate) line: i32,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) database: Vec<String>,
    pub(crate) user_name: Vec<String>,
    pub(crate) address: Option<String>,
    pub(crate) auth_method: String,
}

/// The cluster's posture.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct LiveSecurity {
    pub(crate) roles: BTreeMap<String, RolePosture>,
    /// `(member, group)`.
    pub(crate) memberships: BTreeSet<(String, String)>,
    pub(crate) password_encryption: String,
    /// `None` when `pg_hba_file_rules` is not readable.
    pub(crate) hba: Option<Vec<HbaLine>>,
    /// Databases whose `public` schema grants CREATE to PUBLIC.
    pub(crate) public_create: BTreeSet<String>,
    /// What could not be checked, and why.
    pub(crate) skipped: Vec<String>,
}
