//! Moving ownership: each database's changes in one transaction on a session
//! to that database (an object's owner can only be changed from inside it),
//! right after the role transaction and before privileges, which depend on
//! who owns what. Events are emitted at commit.

use std::time::Duration;

use super::diff::Operation;
use crate::dsn::Dsn;
use crate::error::Result;
use crate::events::{EventName, EventSink};
use crate::pg::per_database::{self, Step};
use crate::pg::quote::ident;
use crate::plan::Planned;

impl Operation {
    pub(crate) fn sql(&self) -> String {
        format!(
            "ALTER {} {} OWNER TO {}",
            self.keyword.keyword(),
            self.target,
            ident(&self.owner)
        )
    }
}

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
            statements: vec![p.operation.sql()],
        })
        .collect();
    per_database::apply(
        admin,
        &steps,
        "ownership",
        EventName::OwnershipChanged,
        timeout,
        sink,
    )
    .await
}
