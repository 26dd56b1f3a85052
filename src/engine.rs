//! The shared pipeline every command runs: load the file, connect, observe each
//! domain, diff each domain into one [`Plan`]. Domains own their observe, diff
//! and apply; this module only sequences them. Never prints.

use std::path::Path;
use std::time::{Duration, Instant};

use tokio_postgres::Client;

use crate::config::{self, Loaded};
use crate::error::Result;
use crate::plan::Plan;
use crate::postgres::connect::{connect, Access};
use crate::postgres::live::LivePostgres;
use crate::postgres::observe::{observe as observe_postgres, Reach};
use crate::postgres::{apply as postgres_apply, diff as postgres_diff};

pub use crate::events::{Event, Timings};

/// The live state of every domain.
#[derive(Debug, Clone)]
pub struct LiveState {
    pub postgres: LivePostgres,
}

impl LiveState {
    /// A digest of everything observed, for saved plans.
    pub fn fingerprint(&self) -> String {
        self.postgres.fingerprint()
    }

    /// Statements sent to observe, for the round-trip budget.
    pub fn statements(&self) -> usize {
        self.postgres.statements
    }
}

pub struct Session {
    pub loaded: Loaded,
    pub client: Client,
    timeout: Duration,
    /// Time spent loading the file and connecting.
    pub timings: Timings,
}

impl Session {
    pub async fn open(file: &Path, access: Access, timeout: Duration) -> Result<Self> {
        let started = Instant::now();
        let loaded = config::load(file)?;
        let load = started.elapsed();
        let client = connect(&loaded.desired.admin, access, timeout).await?;
        Ok(Self {
            loaded,
            client,
            timeout,
            timings: Timings {
                load,
                connect: started.elapsed() - load,
                ..Timings::default()
            },
        })
    }

    /// Observes and plans, recording how long each took in `timings`.
    pub async fn observe_and_plan(&mut self) -> Result<(LiveState, Plan)> {
        let started = Instant::now();
        let live = self.observe().await?;
        self.timings.observe = started.elapsed();
        let started = Instant::now();
        let plan = self.plan(&live)?;
        self.timings.diff = started.elapsed();
        Ok((live, plan))
    }

    pub async fn observe(&self) -> Result<LiveState> {
        let desired = &self.loaded.desired;
        let reach = Reach {
            admin: &desired.admin,
            timeout: self.timeout,
        };
        let postgres = observe_postgres(&self.client, &desired.postgres, &reach).await?;
        Ok(LiveState { postgres })
    }

    /// The plan from the desired state to `live`. Pure: no I/O.
    pub fn plan(&self, live: &LiveState) -> Result<Plan> {
        let desired = &self.loaded.desired;
        let changes = postgres_diff::diff(&desired.postgres, &live.postgres)?;
        Ok(Plan {
            changes,
            notes: Vec::new(),
        })
    }

    pub async fn apply(&mut self, plan: &Plan) -> Result<Vec<Event>> {
        let desired = &self.loaded.desired;
        postgres_apply::apply(&mut self.client, &desired.postgres, &plan.changes).await
    }
}
