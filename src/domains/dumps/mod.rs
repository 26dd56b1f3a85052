//! The dumps domain: logical backups with pg_dump, beside or instead of
//! WAL archiving. It owns `[dumps]`, the layout of a dump set (one per
//! database: the dump, the roles without passwords, and `manifest.json`,
//! written last), retention as age windows, `dbops dump` (streamed through
//! SHA-256 into a directory or a bucket, never a temporary copy), the
//! directory pruner, and the `dumps.health.*` findings drift reports. In a
//! bucket, retention is the bucket's own lifecycle rules (the dump writer
//! needs only `PutObject`); the rules this domain needs reach the bucket
//! domain as a fact. It never opens a connection while resolving or diffing.

pub(crate) mod desired;
pub(crate) mod domain;
pub(crate) mod drill;
pub(crate) mod health;
pub(crate) mod layout;
pub(crate) mod lifecycle;
pub mod manifest;
pub(crate) mod raw;
mod resolve;
pub(crate) mod retention;
pub(crate) mod run;
pub(crate) mod store;

use crate::contract::DomainId;

/// Dumps: addresses under `dumps`.
pub(crate) const ID: DomainId = DomainId::new("dumps", "dumps");

/// Nothing to apply: dumps are taken by `dbops dump`.
#[derive(Debug, Clone)]
pub(crate) enum Operation {}
