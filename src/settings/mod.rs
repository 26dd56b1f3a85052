//! The server-settings domain: postgresql.conf overrides applied with `ALTER
//! SYSTEM`, compared after unit normalization, restart-aware, and the archive
//! settings derived from `[backup]`. Owns its desired and live state, observe,
//! pure diff and apply.

pub mod apply;
pub mod archive;
pub mod desired;
pub mod diff;
pub mod live;
pub mod observe;
pub mod operation;
pub mod value;

pub use operation::Operation;
