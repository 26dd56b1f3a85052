//! The pooler domain: pgBouncer's `pgbouncer.ini`, auth file (SCRAM verifiers
//! exactly as PostgreSQL stores them) and HBA file, its running configuration,
//! reloads, and the trust-boundary lints. Owns its raw section, resolution,
//! desired and live state, observe (files and `SHOW CONFIG`), pure diff,
//! operations and apply, and the pgBouncer service.

pub(crate) mod admin;
pub(crate) mod apply;
pub(crate) mod desired;
pub(crate) mod diff;
pub(crate) mod domain;
pub(crate) mod known;
pub(crate) mod lint;
pub(crate) mod live;
pub(crate) mod observe;
pub(crate) mod operation;
pub(crate) mod raw;
pub(crate) mod render;
pub(crate) mod resolve;
pub(crate) mod signal;

pub(crate) use operation::Operation;

use crate::contract::DomainId;

/// pgBouncer.
pub(crate) const ID: DomainId = DomainId::new("pooler", "pooler");

use crate::plan::Service;

/// pgBouncer: dbops reloads it but never restarts it.
pub(crate) const SERVICE: Service = Service {
    id: "pgbouncer",
    name: "pgBouncer",
    restartable_by_dbops: false,
};
