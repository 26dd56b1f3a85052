//! The privileges domain: `[[grants]]` scopes made exactly equal to the file,
//! including default privileges for objects created later. Owns its raw
//! section, resolution, desired and live state, per-database observe (one
//! statement each), pure diff, typed operations and per-database apply.

pub mod apply;
pub mod desired;
pub mod diff;
pub(crate) mod domain;
pub mod live;
pub mod observe;
pub mod operation;
pub mod privilege;
pub mod raw;
pub mod resolve;

pub use operation::Operation;

use crate::contract::DomainId;

/// Privileges inside databases: addresses under `postgres`.
pub(crate) const ID: DomainId = DomainId::new("grants", "postgres");
