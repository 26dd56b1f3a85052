//! The server-settings domain: postgresql.conf overrides applied with `ALTER
//! SYSTEM`, compared after unit normalization, restart-aware; and the
//! server's own `pg_hba.conf` (`hba`), reloaded with them. Owns its raw
//! section, resolution, desired and live state, observe, pure diff, operations
//! and apply, and the PostgreSQL service whose restart settings wait for.

pub(crate) mod apply;
pub(crate) mod archiving;
pub(crate) mod desired;
pub(crate) mod diff;
pub(crate) mod domain;
pub(crate) mod hba;
pub(crate) mod live;
pub(crate) mod observe;
pub(crate) mod operation;
pub(crate) mod raw;
pub(crate) mod resolve;

pub(crate) use operation::Operation;

use crate::contract::DomainId;

/// Server settings: addresses under `postgres`.
pub(crate) const ID: DomainId = DomainId::new("settings", "postgres");

use crate::plan::Service;

/// PostgreSQL itself: `apply --allow-restart` restarts it with `[server] restart_command`.
pub(crate) const SERVICE: Service = Service {
    id: "postgresql",
    name: "PostgreSQL",
    restartable_by_dbops: true,
};
