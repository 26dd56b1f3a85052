//! PostgreSQL plumbing shared by the domains that talk to a server: opening
//! sessions (`connect`), sharing them per database (`databases`), quoting
//! (`quote`), the apply lock (`lock`), SCRAM verifiers (`scram`), TLS
//! (`tls`), per-database transactions (`per_database`), setting values and
//! their units (`setting_value`) and names (`names`). It is not a domain: it plans nothing and knows no
//! desired state.

pub(crate) mod blockers;
pub(crate) mod connect;
pub(crate) mod databases;
pub(crate) mod lock;
pub(crate) mod names;
pub(crate) mod per_database;
pub(crate) mod quote;
pub mod scram;
pub(crate) mod setting_value;
pub(crate) mod tls;
