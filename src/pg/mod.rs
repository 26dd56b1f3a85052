//! PostgreSQL plumbing shared by the domains that talk to a server: opening
//! sessions (`connect`), quoting (`quote`), the apply lock (`lock`) and SCRAM
//! verifiers (`scram`). It is not a domain: it plans nothing and knows no
//! desired state.

pub mod connect;
pub mod lock;
pub mod quote;
pub mod scram;
pub mod tls;
