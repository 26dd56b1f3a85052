//! The pooler domain: pgBouncer's `pgbouncer.ini`, auth file (SCRAM verifiers
//! exactly as PostgreSQL stores them) and HBA file, its running configuration,
//! reloads, and the trust-boundary lints. Owns its desired and live state,
//! observe (files and `SHOW CONFIG`), pure plan and apply.

pub mod admin;
pub mod apply;
pub mod desired;
pub mod known;
pub mod lint;
pub mod plan;
pub mod render;

pub use plan::Operation;
