//! The ownership domain: who owns the objects inside each managed database,
//! as far as the row-level-security model cares. It moves ownership away from
//! roles a database's `reassign_owned_from` lists (to the database's declared
//! owner, object by object, shown in the plan), and it finds the holes the
//! application's own roles open: a table with row-level security enabled but
//! not forced whose owner the application logs in as (owners bypass RLS), and
//! objects the application's roles own. It reads one statement per managed
//! database; it never imports the config parser.

pub(crate) mod apply;
pub(crate) mod desired;
pub(crate) mod diff;
pub(crate) mod domain;
pub(crate) mod live;
pub(crate) mod observe;

pub(crate) use diff::Operation;

use crate::contract::DomainId;

/// Ownership inside databases: addresses under `postgres`.
pub(crate) const ID: DomainId = DomainId::new("ownership", "postgres");
