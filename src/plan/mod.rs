//! The plan: the ordered list of changes between the desired and the live
//! state, shared by every domain, every renderer and every command.

mod change;

pub use change::{
    address_segment, Action, AttributeChange, Change, Operation, Pending, Service, Value,
};

use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub changes: Vec<Change>,
    /// Settings already written that take effect at the next restart.
    pub pending: Vec<Pending>,
    /// Backup health checks that failed (`drift` only).
    pub health: Vec<crate::backup::health::Finding>,
    /// Things worth knowing that change nothing (unmanaged objects, lints).
    pub notes: Vec<String>,
}

/// Counts per action, as the JSON form and the closing line show them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
}

impl Plan {
    /// No change to make (settings waiting for a restart are not changes).
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Addresses of pending settings that wait for `service` to restart.
    pub fn pending_for(&self, service: Service) -> Vec<&str> {
        self.pending
            .iter()
            .filter(|p| Service::of(&p.address) == Some(service))
            .map(|p| p.address.as_str())
            .collect()
    }

    /// Live state is what the file says: no change to make, no restart pending.
    pub fn in_sync(&self) -> bool {
        self.changes.is_empty() && self.pending.is_empty() && self.health.is_empty()
    }

    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for change in &self.changes {
            match change.action {
                Action::Create => summary.create += 1,
                Action::Update => summary.update += 1,
                Action::Delete => summary.delete += 1,
            }
        }
        summary
    }
}
