//! The security domain: the cluster's posture beyond what the file manages,
//! as findings of class `security` (ids `security.*`): roles the file does
//! not declare that hold SUPERUSER, BYPASSRLS, CREATEROLE or REPLICATION
//! (and their members), login roles whose stored password is MD5 or
//! plaintext, `password_encryption` other than `scram-sha-256`, `trust`,
//! `password` or `md5` lines in the HBA file, and CREATE on the `public`
//! schema for PUBLIC. It changes nothing: the fix is said in each finding.
//! Read by `drift` (its health), so a plan costs nothing more. PostgreSQL's
//! built-in `pg_*` roles, the bootstrap superuser and the admin are exempt;
//! a role the file declares holds its attributes on purpose.

pub(crate) mod diff;
pub(crate) mod domain;
pub(crate) mod observe;
pub(crate) mod state;

use crate::contract::DomainId;

/// Security posture: addresses under `postgres`.
pub(crate) const ID: DomainId = DomainId::new("security", "postgres");

/// Nothing to apply: every finding says how to fix it.
#[derive(Debug, Clone)]
pub(crate) enum Operation {}
