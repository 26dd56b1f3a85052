//! The server-settings domain: postgresql.conf overrides applied with `ALTER
//! SYSTEM`, compared after unit normalization, restart-aware. Owns its raw
//! section, resolution, desired and live state, observe, pure diff, operations
//! and apply, and the PostgreSQL service whose restart settings wait for.

pub mod apply;
pub mod archiving;
pub mod desired;
pub mod diff;
pub(crate) mod domain;
pub mod live;
pub mod observe;
pub mod operation;
pub mod raw;
pub mod resolve;

pub use operation::Operation;

use crate::contract::DomainId;

/// Server settings: addresses under `postgres`.
pub(crate) const ID: DomainId = DomainId::new("settings", "postgres");

use crate::plan::Service;

/// PostgreSQL itself: `apply --allow-restart` restarts it with `[server] restart_command`.
pub const SERVICE: Service = Service {
    id: "postgresql",
    name: "PostgreSQL",
    restartable_by_dbops: true,
};
