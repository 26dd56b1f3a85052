//! The PostgreSQL domain: roles (and roles that must leave), memberships and databases. It owns its raw
//! section types, their resolution, desired and live state, how live state is
//! read (`observe`, one round trip), the pure `diff`, its operations and
//! `apply`. It never imports the config parser.

pub(crate) mod absent;
pub(crate) mod apply;
pub(crate) mod desired;
pub(crate) mod diff;
pub(crate) mod domain;
pub(crate) mod live;
pub(crate) mod observe;
pub(crate) mod operation;
pub(crate) mod raw;
pub(crate) mod resolve;
pub(crate) mod verify;

pub(crate) use operation::Operation;

use crate::contract::DomainId;

/// Roles, memberships and databases.
pub(crate) const ID: DomainId = DomainId::new("postgres", "postgres");
