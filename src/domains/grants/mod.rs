//! The privileges domain: `[[grants]]` scopes made exactly equal to the file,
//! including default privileges for objects created later. Owns its raw
//! section, resolution, desired and live state, per-database observe (one
//! statement each), pure diff, typed operations and per-database apply.

pub(crate) mod apply;
pub(crate) mod desired;
pub(crate) mod diff;
pub(crate) mod domain;
pub(crate) mod live;
pub(crate) mod observe;
pub(crate) mod operation;
pub(crate) mod privilege;
pub(crate) mod raw;
pub(crate) mod resolve;

pub(crate) use operation::Operation;

use crate::contract::DomainId;

/// Privileges inside databases: addresses under `postgres`.
pub(crate) const ID: DomainId = DomainId::new("grants", "postgres");
