//! The PostgreSQL domain's live state, as `observe` reads it: the same
//! [`RoleAttributes`] the file declares, the stored password's kind, role
//! memberships and databases with their CONNECT grantees.

use std::collections::{BTreeMap, BTreeSet};

use super::desired::RoleAttributes;
use crate::util::digest::sha256_hex;
use serde::Serialize;

/// What the server holds as a role's password, as far as dbops can tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StoredPassword {
    /// No password is set.
    None,
    /// A SCRAM-SHA-256 verifier (read from `pg_authid`).
    Scram(String),
    /// An MD5 hash: weaker, and not usable for pgBouncer's SCRAM pass-through.
    Md5,
    /// Stored in plain text (only by very old servers).
    Plain,
    /// `pg_authid` is not readable: a login attempt told whether the desired password works.
    LoginChecked { matches: bool },
    /// Not readable, and not checked.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveRole {
    pub name: String,
    /// The bootstrap superuser `initdb` created (OID 10): never demoted or locked.
    pub bootstrap: bool,
    pub attributes: RoleAttributes,
    pub password: StoredPassword,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveDatabase {
    pub name: String,
    pub owner: String,
    /// Roles (not PUBLIC) holding CONNECT, explicitly or as owner by default.
    pub connect: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LivePostgres {
    pub current_user: String,
    pub superuser: bool,
    pub server_version_num: i32,
    /// Every role that is a superuser and may log in, managed or not.
    pub login_superusers: BTreeSet<String>,
    pub roles: BTreeMap<String, LiveRole>,
    /// `(member, group)` pairs for every observed member.
    pub memberships: BTreeSet<(String, String)>,
    pub databases: BTreeMap<String, LiveDatabase>,
    /// Statements sent to read this state; for the round-trip budget.
    #[serde(skip)]
    pub statements: usize,
}

impl LivePostgres {
    /// SHA-256 over the observed state, with stored verifiers hashed again so
    /// the digest reveals nothing: what a saved plan pins.
    pub fn fingerprint(&self) -> String {
        let mut copy = self.clone();
        for role in copy.roles.values_mut() {
            if let StoredPassword::Scram(verifier) = &role.password {
                role.password = StoredPassword::Scram(sha256_hex(verifier.as_bytes()));
            }
        }
        let json = serde_json::to_vec(&copy).expect("live state serializes");
        sha256_hex(&json)
    }
}
