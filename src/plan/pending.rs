//! Services and what waits for them: a setting already written that a
//! service reads only when it restarts is not a change to make again, but
//! live state that is not yet what the file says. Each item names its
//! service, so people are told to restart the right one.

use serde::Serialize;

use super::address::Address;
use super::change::Value;

/// A process whose restart or reload puts settings in force. Domains define
/// their services; the plan only carries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub(crate) struct Service {
    /// Stable id for machines: `postgresql`, `pgbouncer`.
    pub(crate) id: &'static str,
    /// Name for people: `PostgreSQL`, `pgBouncer`.
    #[serde(skip)]
    pub(crate) name: &'static str,
    /// Whether `apply --allow-restart` can restart it (`[server] restart_command`).
    #[serde(skip)]
    pub(crate) restartable_by_dbops: bool,
}

/// Written, but in force only after the service restarts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub(crate) struct Pending {
    pub(crate) address: Address,
    /// In force now.
    pub(crate) current: Value,
    /// In force after the restart.
    pub(crate) pending: Value,
    /// The service whose restart is awaited (`postgresql`, `pgbouncer`).
    #[serde(rename = "service", serialize_with = "service_id")]
    #[schemars(with = "String")]
    pub(crate) service: Service,
    /// Whether the file declares this value. An undeclared one was changed by
    /// hand and waits for the same restart: a restart puts it in force too.
    pub(crate) declared: bool,
}

fn service_id<S: serde::Serializer>(service: &Service, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(service.id)
}
