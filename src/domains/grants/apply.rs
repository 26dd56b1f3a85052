//! Applying grants: each database's statements in one transaction on a session
//! to that database (privileges on schemas and their objects can only be
//! changed from inside it). Events are emitted when a database's transaction
//! commits.

use std::time::Duration;

use super::operation::Operation;
use crate::dsn::Dsn;
use crate::error::Result;
use crate::events::{EventName, EventSink};
use crate::pg::per_database::{self, Step};
use crate::plan::Planned;

/// Applies consecutive grant changes, one transaction per database in order.
pub(crate) async fn apply(
    admin: &Dsn,
    changes: &[&Planned<Operation>],
    timeout: Duration,
    sink: &dyn EventSink,
) -> Result<()> {
    let steps: Vec<Step> = changes
        .iter()
        .map(|p| Step {
            database: &p.operation.database,
            address: &p.change.address,
            statements: p.operation.statements.iter().map(|s| s.sql()).collect(),
        })
        .collect();
    per_database::apply(
        admin,
        &steps,
        "privilege",
        EventName::GrantChanged,
        timeout,
        sink,
    )
    .await
}
