//! A session: the loaded file, its resolved desired state, the admin
//! connection, and what this run already knows. Observing and planning go
//! through the registry; nothing here knows a domain by name.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use tokio_postgres::Client;

use super::registry::{self, DesiredState, LiveState};
use super::scope::Scope;
use super::Plan;
use crate::config::{self, Loaded};
use crate::diagnostics::{Resolver, Warning};
use crate::error::{Errors, Result};
use crate::events::{Event, Level};
use crate::pg::connect::{connect, Access};

/// Durations of the pipeline's phases.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    pub load: Duration,
    pub connect: Duration,
    pub observe: Duration,
    pub diff: Duration,
}

impl Timings {
    /// Where a read of live state spent its time; a `debug` event, JSON log only.
    pub fn event(&self, statements: usize) -> Event {
        let ms = |d: Duration| (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0;
        Event::message("observe.timings", "phase timings")
            .level(Level::Debug)
            .details(serde_json::json!({
                "load_ms": ms(self.load),
                "connect_ms": ms(self.connect),
                "observe_ms": ms(self.observe),
                "diff_ms": ms(self.diff),
                "statements": statements,
            }))
    }
}

/// The file loaded and resolved, before any connection.
pub struct Resolved {
    pub loaded: Loaded,
    pub desired: DesiredState,
    pub warnings: Vec<Warning>,
}

/// Loads and resolves the file, reporting every problem at once.
pub fn resolve(file: &Path) -> Result<Resolved, Errors> {
    let loaded = config::load(file)?;
    let mut resolver = Resolver::new(&loaded.source);
    let desired = registry::resolve(&loaded.raw, &mut resolver);
    let (resolution_errors, warnings) = resolver.finish();
    let mut errors = loaded.shape_errors.clone();
    errors.extend(resolution_errors);
    match desired {
        Some(desired) if errors.is_empty() => Ok(Resolved {
            loaded,
            desired,
            warnings,
        }),
        _ => Err(Errors::new(errors)),
    }
}

pub struct Session {
    pub loaded: Loaded,
    pub desired: DesiredState,
    pub warnings: Vec<Warning>,
    pub client: Client,
    access: Access,
    timeout: Duration,
    /// Time spent loading the file, connecting, observing and diffing.
    pub timings: Timings,
    /// Verifiers this run sent or verified, by role: compared byte for byte later.
    pub known_verifiers: BTreeMap<String, String>,
    /// What `--target` left in.
    pub scope: Scope,
}

impl Session {
    pub async fn open(
        file: &Path,
        access: Access,
        timeout: Duration,
        scope: Scope,
    ) -> Result<Self, Errors> {
        let started = Instant::now();
        let Resolved {
            loaded,
            mut desired,
            mut warnings,
        } = resolve(file)?;
        scope.restrict(&mut desired);
        if let Some(message) = scope.warning() {
            warnings.push(Warning {
                key: None,
                location: None,
                message,
            });
        }
        let load = started.elapsed();
        let client = connect(&desired.postgres.admin, access, timeout).await?;
        Ok(Self {
            loaded,
            desired,
            warnings,
            client,
            access,
            timeout,
            timings: Timings {
                load,
                connect: started.elapsed() - load,
                ..Timings::default()
            },
            known_verifiers: BTreeMap::new(),
            scope,
        })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Opens a new admin session, for instance after a server restart.
    pub async fn reconnect(&mut self) -> Result<()> {
        self.client = connect(&self.desired.postgres.admin, self.access, self.timeout).await?;
        Ok(())
    }

    /// Observes and plans, recording how long each took in `timings`.
    pub async fn observe_and_plan(&mut self) -> Result<(LiveState, Plan), Errors> {
        let started = Instant::now();
        let live = self.observe().await?;
        self.timings.observe = started.elapsed();
        let started = Instant::now();
        let plan = self.plan(&live).await?;
        self.timings.diff = started.elapsed();
        Ok((live, plan))
    }

    pub async fn observe(&self) -> Result<LiveState> {
        registry::observe(&self.desired, &self.client, self.access, self.timeout).await
    }

    /// The plan from the desired state to `live`: every password verified
    /// (once per run: what matched is remembered), then the pure diff.
    pub async fn plan(&mut self, live: &LiveState) -> Result<Plan, Errors> {
        let verified = registry::verify(&self.desired, live, &self.known_verifiers).await?;
        let mut plan = registry::diff(&self.desired, live, &verified)?;
        self.scope.filter(&mut plan);
        self.known_verifiers.extend(verified.matches);
        Ok(plan)
    }

    /// Backup health findings, for `drift`.
    pub async fn health(&self) -> Result<registry::Health> {
        registry::health(&self.desired, &self.client, self.timeout).await
    }

    /// Observes again until nothing is left to change, for up to `patience`:
    /// a configuration reload is asynchronous, so settings may take a moment.
    pub async fn settle(&mut self, patience: Duration) -> Result<(LiveState, Plan), Errors> {
        let deadline = Instant::now() + patience;
        loop {
            let live = self.observe().await?;
            let plan = self.plan(&live).await?;
            if plan.is_empty() || Instant::now() >= deadline {
                return Ok((live, plan));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
