//! PostgreSQL plumbing shared by the domains that talk to a server: opening
//! sessions (`connect`), quoting (`quote`), the apply lock (`lock`), SCRAM
//! verifiers (`scram`), TLS (`tls`) and per-database transactions
//! (`per_database`). It is not a domain: it plans nothing and knows no
//! desired state.

pub mod connect;
pub mod lock;
pub mod per_database;
pub mod quote;
pub mod scram;
pub mod tls;
