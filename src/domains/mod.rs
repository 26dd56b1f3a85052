//! The managed domains. Each implements `contract::Domain`: it owns its raw
//! section of `dbops.toml`, its resolution into a desired state, how live
//! state is read, a pure diff into changes of its own typed operations, and
//! apply. What it needs from another domain is a fact (`contract::facts`). No
//! domain imports another, the config parser, the plan's consumers or the
//! engine; the engine's registry is the one table that lists them.

pub mod backup;
pub(crate) mod bucket;
pub(crate) mod capacity;
pub mod dumps;
#[cfg(feature = "example-domain")]
pub(crate) mod example;
pub(crate) mod grants;
pub(crate) mod ownership;
pub(crate) mod pooler;
pub(crate) mod postgres;
pub(crate) mod security;
pub(crate) mod settings;
