//! PostgreSQL plumbing shared by the domains that talk to a server: opening
//! sessions (`connect`), quoting (`quote`), the apply lock (`lock`), SCRAM
//! verifiers (`scram`), TLS (`tls`), per-database transactions
//! (`per_database`), setting values and their units (`setting_value`) and
//! names (`names`). It is not a domain: it plans nothing and knows no
//! desired state.

pub mod connect;
pub mod lock;
pub mod names;
pub mod per_database;
pub mod quote;
pub mod scram;
pub mod setting_value;
pub mod tls;
