//! The privileges domain: `[[grants]]` scopes made exactly equal to the file,
//! including default privileges for objects created later. Owns its desired
//! and live state, per-database observe (one statement each), pure diff and
//! per-database apply.

pub mod apply;
pub mod desired;
pub mod diff;
pub mod live;
pub mod observe;
pub mod privilege;

pub use diff::Operation;
