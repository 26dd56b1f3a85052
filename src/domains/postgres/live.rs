//! The PostgreSQL domain's live state, as `observe` reads it: the same
//! [`RoleAttributes`] the file declares, the stored password's kind, role
//! memberships and databases with their CONNECT grantees.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Serialize, Serializer};

use super::absent::LiveAbsent;
use super::desired::RoleAttributes;
use super::verify::Verified;
use crate::util::digest::sha256_hex;

fn digest<S: Serializer>(verifier: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&sha256_hex(verifier.as_bytes()))
}

/// What the server holds as a role's password, as far as dbops can tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StoredPassword {
    /// No password is set.
    None,
    /// A SCRAM-SHA-256 verifier (read from `pg_authid`); serialized only as
    /// its digest, so a saved plan's fingerprint reveals nothing.
    Scram(#[serde(serialize_with = "digest")] String),
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
pub(crate) struct LiveRole {
    pub(crate) name: String,
    /// The bootstrap superuser `initdb` created (OID 10): never demoted or locked.
    pub(crate) bootstrap: bool,
    pub(crate) attributes: RoleAttributes,
    pub(crate) password: StoredPassword,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct LiveDatabase {
    pub(crate) name: String,
    pub(crate) owner: String,
    /// Roles (not PUBLIC) holding CONNECT, explicitly or as owner by default.
    pub(crate) connect: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct LivePostgres {
    pub(crate) current_user: String,
    pub(crate) superuser: bool,
    pub(crate) server_version_num: i32,
    /// Every role that is a superuser and may log in, managed or not.
    pub(crate) login_superusers: BTreeSet<String>,
    /// Every role dbops marked as managed (`dbops.managed`), in or out of the file.
    pub(crate) managed: BTreeSet<String>,
    /// Each `absent` role that still exists, and what it leaves behind.
    pub(crate) absent: BTreeMap<String, LiveAbsent>,
    pub(crate) roles: BTreeMap<String, LiveRole>,
    /// `(member, group)` pairs for every observed member.
    pub(crate) memberships: BTreeSet<(String, String)>,
    pub(crate) databases: BTreeMap<String, LiveDatabase>,
    /// Statements sent to read this state; for the round-trip budget.
    #[serde(skip)]
    pub(crate) statements: usize,
    /// The roles whose stored verifier holds the desired password: checked
    /// while observing, on every core, so the diff stays pure.
    #[serde(skip)]
    pub(crate) verified: Verified,
}
