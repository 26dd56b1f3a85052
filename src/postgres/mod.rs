//! The PostgreSQL domain: roles, memberships and databases. It owns its desired
//! and live state, how live state is read (`observe`, one round trip), the pure
//! `diff`, and `apply`. Connections and the apply lock live here too.

pub mod apply;
pub mod connect;
pub mod desired;
pub mod diff;
pub mod live;
pub mod lock;
pub mod observe;
pub mod operation;
pub mod quote;
pub mod scram;

pub use operation::Operation;
