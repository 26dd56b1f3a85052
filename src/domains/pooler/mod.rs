//! The pooler domain: pgBouncer's `pgbouncer.ini`, auth file (SCRAM verifiers
//! exactly as PostgreSQL stores them) and HBA file, its running configuration,
//! reloads, and the trust-boundary lints. Owns its raw section, resolution,
//! desired and live state, observe (files and `SHOW CONFIG`), pure diff,
//! operations and apply, and the pgBouncer service.

pub mod admin;
pub mod apply;
pub mod desired;
pub mod diff;
pub(crate) mod domain;
pub mod known;
pub mod lint;
pub mod live;
pub mod observe;
pub mod operation;
pub mod raw;
pub mod render;
pub mod resolve;
pub mod signal;

pub use operation::Operation;

use crate::contract::DomainId;

/// pgBouncer.
pub(crate) const ID: DomainId = DomainId::new("pooler", "pooler");

use crate::plan::Service;

/// pgBouncer: dbops reloads it but never restarts it.
pub const SERVICE: Service = Service {
    id: "pgbouncer",
    name: "pgBouncer",
    restartable_by_dbops: false,
};
