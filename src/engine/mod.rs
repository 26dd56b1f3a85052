//! The engine: the shared pipeline every command runs. `session` loads the
//! file, resolves it through the `registry` (the one list of domains),
//! connects, observes and plans; `apply` walks a plan in order, dispatching
//! each run of a domain's changes and emitting events as they happen;
//! `restart` restarts PostgreSQL when allowed. It never prints: commands do.

pub(crate) mod apply;
pub(crate) mod registry;
pub(crate) mod restart;
pub(crate) mod scope;
pub mod session;
mod table;

pub(crate) use registry::{LiveState, Operation};
pub(crate) use session::Session;

/// The plan commands work with: changes carry the registry's operations.
pub(crate) type Plan = crate::plan::Plan<Operation>;
