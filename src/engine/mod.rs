//! The engine: the shared pipeline every command runs. `session` loads the
//! file, resolves it through the `registry` (the one list of domains),
//! connects, observes and plans; `apply` walks a plan in order, dispatching
//! each run of a domain's changes and emitting events as they happen;
//! `restart` restarts PostgreSQL when allowed. It never prints: commands do.

pub mod apply;
pub mod registry;
pub mod restart;
pub mod scope;
pub mod session;
mod table;

pub(crate) use registry::Operation;
pub use session::{Session, Timings};

/// The plan commands work with: changes carry the registry's operations.
pub(crate) type Plan = crate::plan::Plan<Operation>;
