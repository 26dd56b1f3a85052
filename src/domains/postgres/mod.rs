//! The PostgreSQL domain: roles, memberships and databases. It owns its raw
//! section types, their resolution, desired and live state, how live state is
//! read (`observe`, one round trip), the pure `diff`, its operations and
//! `apply`. It never imports the config parser.

pub mod apply;
pub mod desired;
pub(crate) mod domain;
pub mod diff;
pub mod live;
pub mod observe;
pub mod operation;
pub mod raw;
pub mod resolve;
pub mod verify;

pub use operation::Operation;

use crate::contract::DomainId;

/// Roles, memberships and databases.
pub(crate) const ID: DomainId = DomainId::new("postgres", "postgres");
