//! Facts: what one domain knows that another needs, as typed values on a
//! board the engine carries from phase to phase. A producing domain publishes
//! a fact (`facts.publish(StoredVerifiers(...))`); a consuming domain reads it
//! by type in its `inputs`, and never imports the producer. Every fact a
//! domain shares with another is defined here, in one vocabulary; a fact
//! only one domain and the engine use may live in that domain's folder.
//!
//! Three moments publish facts: resolution (what the file declares that
//! others derive from), planning (what the live state holds and what the
//! plan will change) and apply (what was done). The session keeps the board
//! between plans, so what an earlier plan or apply of the same run learned
//! (verifiers proven or sent) is known to the next observation.

use std::any::{Any, TypeId};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use crate::dsn::Dsn;
use crate::s3::BucketSpec;

/// A value one domain publishes for others.
pub(crate) trait Fact: Any + Send + Sync {}

impl Fact for () {}

/// The board: at most one value of each fact type; a newer one replaces it.
#[derive(Clone, Default)]
pub(crate) struct Facts {
    board: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl std::fmt::Debug for Facts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Facts({} published)", self.board.len())
    }
}

impl Facts {
    pub(crate) fn publish<T: Fact>(&mut self, fact: T) {
        self.board.insert(TypeId::of::<T>(), Arc::new(fact));
    }

    pub(crate) fn get<T: Fact>(&self) -> Option<&T> {
        self.board
            .get(&TypeId::of::<T>())
            .and_then(|fact| fact.downcast_ref::<T>())
    }

    /// The fact, or its empty value when nobody published it.
    pub(crate) fn cloned<T: Fact + Clone + Default>(&self) -> T {
        self.get::<T>().cloned().unwrap_or_default()
    }

    /// Takes every fact `newer` holds, replacing older ones of the same type.
    pub(crate) fn extend(&mut self, newer: Facts) {
        self.board.extend(newer.board);
    }
}

// Resolution.

/// How dbops reaches the server as its administrator (postgres).
#[derive(Debug, Clone)]
pub(crate) struct AdminConnection {
    pub(crate) dsn: Dsn,
}
impl Fact for AdminConnection {}

/// One role the file declares, as other domains need to know it.
#[derive(Debug, Clone)]
pub(crate) struct DeclaredRole {
    pub(crate) login: bool,
    pub(crate) bypass_rls: bool,
    /// The password dbops manages for it, if any.
    pub(crate) password: Option<SecretString>,
    /// The DSN that defines it (an application role), and where it comes from.
    pub(crate) dsn: Option<(Dsn, String)>,
}

/// Every role the file declares, by name (postgres).
#[derive(Debug, Clone, Default)]
pub(crate) struct DeclaredRoles(pub(crate) BTreeMap<String, DeclaredRole>);
impl Fact for DeclaredRoles {}

/// Roles the file drops (`absent = true`), which no other section may use (postgres).
#[derive(Debug, Clone, Default)]
pub(crate) struct AbsentRoles(pub(crate) BTreeSet<String>);
impl Fact for AbsentRoles {}

/// A managed database's declared owner and the roles whose objects move to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DeclaredDatabase {
    pub(crate) owner: Option<String>,
    pub(crate) reassign_owned_from: BTreeSet<String>,
}

/// Every managed database, by name (postgres).
#[derive(Debug, Clone, Default)]
pub(crate) struct DeclaredDatabases(pub(crate) BTreeMap<String, DeclaredDatabase>);
impl Fact for DeclaredDatabases {}

/// Roles another domain names, whose existence the role observation must
/// read (grants).
#[derive(Debug, Clone, Default)]
pub(crate) struct ReferencedRoles(pub(crate) BTreeSet<String>);
impl Fact for ReferencedRoles {}

/// `(role, database)` pairs whose CONNECT a declared database-level grant
/// governs, so the role domain does not grant it too (grants).
#[derive(Debug, Clone, Default)]
pub(crate) struct GovernedConnect(pub(crate) BTreeSet<(String, String)>);
impl Fact for GovernedConnect {}

/// Per database, the roles whose objects this file moves, and to whom
/// (ownership).
#[derive(Debug, Clone, Default)]
pub(crate) struct ObjectOwnerMoves(pub(crate) BTreeMap<String, (BTreeSet<String>, String)>);
impl Fact for ObjectOwnerMoves {}

/// Every declared bucket (bucket): those that resolved, and the names of
/// tables whose values were refused (already reported; not to be reported
/// again as missing).
#[derive(Debug, Clone, Default)]
pub(crate) struct DeclaredBuckets {
    pub(crate) valid: Vec<BucketSpec>,
    pub(crate) invalid: Vec<String>,
}
impl Fact for DeclaredBuckets {}

/// Lifecycle rules another domain needs in a bucket, by bucket name
/// (dumps: the retention of their class prefixes), merged with the rules
/// the file declares; a rule here replaces a declared one of the same id.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequiredLifecycle(pub(crate) BTreeMap<String, Vec<crate::s3::lifecycle::Rule>>);
impl Fact for RequiredLifecycle {}

/// The server settings continuous archiving needs, and the RPO they must
/// meet (backup).
#[derive(Debug, Clone)]
pub(crate) struct Archiving {
    /// `(name, value)`: a setting the file writes itself wins.
    pub(crate) settings: Vec<(String, String)>,
    pub(crate) rpo: Duration,
    /// The section they derive from, for messages and locations: `[backup]`.
    pub(crate) section: &'static str,
}
impl Fact for Archiving {}

/// How PostgreSQL is restarted for settings that wait for it, when
/// `apply --allow-restart` may (settings).
#[derive(Debug, Clone)]
pub(crate) struct RestartCommand(pub(crate) String);
impl Fact for RestartCommand {}

/// What the file declares of the whole cluster's configuration, for the
/// checks across environments that share a server (settings). Its values
/// may be secrets: never printed, not even by `Debug`.
#[derive(Clone, Default)]
pub(crate) struct DeclaredServer {
    /// Every setting the file writes (its own and derived ones), by name.
    pub(crate) settings: BTreeMap<String, String>,
    /// `prune = true`: every other `ALTER SYSTEM` entry is reset.
    pub(crate) prune: bool,
    /// `[server.hba]`: the block dbops writes into the HBA file.
    pub(crate) hba: Option<String>,
}
impl Fact for DeclaredServer {}

impl std::fmt::Debug for DeclaredServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeclaredServer")
            .field("settings", &self.settings.keys().collect::<Vec<_>>())
            .field("prune", &self.prune)
            .field("hba", &self.hba.is_some())
            .finish()
    }
}

// Planning.

/// Roles that exist, or will once this apply's role changes are made (postgres).
#[derive(Debug, Clone, Default)]
pub(crate) struct KnownRoles(pub(crate) BTreeSet<String>);
impl Fact for KnownRoles {}

/// Each role's SCRAM verifier as PostgreSQL stores it now (postgres).
#[derive(Debug, Clone, Default)]
pub(crate) struct StoredVerifiers(pub(crate) BTreeMap<String, String>);
impl Fact for StoredVerifiers {}

/// Roles whose verifier this apply sets: new roles with a password, and
/// passwords that change (postgres).
#[derive(Debug, Clone, Default)]
pub(crate) struct RotatingRoles(pub(crate) BTreeSet<String>);
impl Fact for RotatingRoles {}

/// Databases this apply creates (postgres).
#[derive(Debug, Clone, Default)]
pub(crate) struct CreatedDatabases(pub(crate) BTreeSet<String>);
impl Fact for CreatedDatabases {}

/// Databases whose owner this apply changes: `(old owner, new owner)` (postgres).
#[derive(Debug, Clone, Default)]
pub(crate) struct DatabaseOwnerMoves(pub(crate) BTreeMap<String, (String, String)>);
impl Fact for DatabaseOwnerMoves {}

/// Stored verifiers proven to hold the desired password, by role (postgres):
/// a later observation in the same run compares them byte for byte instead
/// of deriving again.
#[derive(Debug, Clone, Default)]
pub(crate) struct VerifiedPasswords(pub(crate) BTreeMap<String, String>);
impl Fact for VerifiedPasswords {}

// Apply.

/// The SCRAM verifiers the role transaction sent, by role (postgres).
#[derive(Debug, Clone, Default)]
pub(crate) struct SentVerifiers(pub(crate) BTreeMap<String, String>);
impl Fact for SentVerifiers {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fact_is_read_by_its_type_and_a_newer_one_replaces_it() {
        let mut facts = Facts::default();
        assert!(facts.get::<RotatingRoles>().is_none());
        assert!(facts.cloned::<RotatingRoles>().0.is_empty());
        facts.publish(RotatingRoles(BTreeSet::from(["a".to_string()])));
        let mut newer = Facts::default();
        newer.publish(RotatingRoles(BTreeSet::from(["b".to_string()])));
        newer.publish(CreatedDatabases(BTreeSet::from(["app".to_string()])));
        facts.extend(newer);
        assert_eq!(
            facts.get::<RotatingRoles>().unwrap().0,
            BTreeSet::from(["b".to_string()])
        );
        assert!(facts.get::<CreatedDatabases>().is_some());
    }
}
