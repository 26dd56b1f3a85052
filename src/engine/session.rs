//! A session: the loaded file, its resolved desired state, the admin
//! connection, and the facts this run knows (published while resolving, by
//! earlier plans and by apply). Observing and planning go through the
//! registry; nothing here knows a domain by name.

use std::path::Path;
use std::time::{Duration, Instant};

use tokio_postgres::Client;

use super::registry::{self, DesiredState, LiveState};
use super::scope::Scope;
use super::Plan;
use crate::config::{self, Loaded};
use crate::contract::facts::AdminConnection;
use crate::contract::{Facts, Health, Observe};
use crate::diagnostics::{Resolver, Warning};
use crate::dsn::Dsn;
use crate::error::{Error, Errors, Result};
use crate::events::{Event, EventName, EventSink, Level};
use crate::pg::connect::{connect, Access};
use crate::pg::databases::{Databases, Opened};

/// Durations of the pipeline's phases.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Timings {
    pub(crate) load: Duration,
    pub(crate) connect: Duration,
    pub(crate) observe: Duration,
    pub(crate) diff: Duration,
}

impl Timings {
    /// Where a read of live state spent its time; a `debug` event, JSON log only.
    pub(crate) fn event(&self, statements: usize) -> Event {
        let ms = |d: Duration| (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0;
        Event::message(EventName::ObserveTimings, "phase timings")
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
    pub(crate) loaded: Loaded,
    pub(crate) desired: DesiredState,
    pub(crate) warnings: Vec<Warning>,
    /// What the domains published while resolving.
    pub(crate) facts: Facts,
    /// `[notify]`: whom to tell how the run ended.
    pub(crate) notify: Option<crate::notify::Notify>,
    /// How long loading and resolving took.
    pub(crate) took: Duration,
}

impl Resolved {
    /// Every file the file's domains would write, with the values each
    /// carries: for the grammar round-trip tests.
    pub fn rendered_files(&self) -> Vec<crate::managed_files::RenderedFile> {
        registry::rendered(&self.desired)
    }

    /// The admin connection the file declares.
    pub(crate) fn admin(&self) -> Result<&AdminConnection> {
        self.facts
            .get::<AdminConnection>()
            .ok_or_else(|| Error::internal("the file resolved without an admin connection"))
    }
}

/// Loads and resolves the file as `environment` (the one `--environment`
/// names; `None` for a file without environments), reporting every problem
/// at once.
pub fn resolve(file: &Path, environment: Option<&str>) -> Result<Resolved, Errors> {
    let started = Instant::now();
    let loaded = config::load(file, environment)?;
    resolve_loaded(loaded, started)
}

/// Resolves a file already loaded as one environment.
pub(crate) fn resolve_loaded(loaded: Loaded, started: Instant) -> Result<Resolved, Errors> {
    let environment = loaded.source.environment.clone();
    let mut resolver = Resolver::new(&loaded.source);
    // Every secret reference that does not resolve, whatever its section
    // (even one whose section stops early), each naming its key.
    if let Some(root) = loaded.source.root() {
        for found in config::references::references(root) {
            let path: Vec<&str> = found.path.iter().map(String::as_str).collect();
            let key = resolver.key(&path);
            if let Err(error) = key.secret(&found.reference) {
                resolver.error(error);
            }
        }
    }
    let resolved = registry::resolve(&loaded.raw, &mut resolver);
    let notify = crate::notify::resolve(loaded.raw.notify.as_ref(), &mut resolver);
    let (resolution_errors, warnings) = resolver.finish();
    let mut errors = loaded.shape_errors.clone();
    errors.extend(resolution_errors);
    match resolved {
        Some((desired, facts)) if errors.is_empty() => Ok(Resolved {
            loaded,
            desired,
            warnings,
            facts,
            notify,
            took: started.elapsed(),
        }),
        _ => Err(Errors::new(config::in_environment(
            errors,
            environment.as_deref(),
        ))),
    }
}

/// A server in recovery (a hot standby) is refused before anything is read:
/// its roles, settings and files follow its primary, and every write would
/// fail half-way (or, for `ALTER SYSTEM`, land on the standby alone).
async fn refuse_standby(client: &Client) -> Result<()> {
    let row = client
        .query_one("SELECT pg_is_in_recovery()", &[])
        .await
        .map_err(|e| {
            crate::pg::connect::server_error("cannot ask the server whether it is a standby", &e)
        })?;
    if row.get::<_, bool>(0) {
        return Err(Error::config(
            "the admin DSN reaches a server in recovery (a hot standby, `pg_is_in_recovery()` is true); dbops converges a primary and changed nothing",
        )
        .key("postgres.admin")
        .hint("point the admin DSN (`[postgres] admin`, usually `DATABASE_ROOT_URL`) at the primary; a standby follows it"));
    }
    Ok(())
}

pub(crate) struct Session {
    pub(crate) loaded: Loaded,
    pub(crate) desired: DesiredState,
    pub(crate) warnings: Vec<Warning>,
    pub(crate) client: Client,
    /// Sessions to the cluster's other databases, opened while observing.
    opened: Opened,
    admin: Dsn,
    access: Access,
    timeout: Duration,
    /// Time spent loading the file, connecting, observing and diffing.
    pub(crate) timings: Timings,
    /// What this run knows: facts published while resolving, by the last
    /// plan and by apply (verifiers proven or sent are compared byte for
    /// byte later instead of derived again).
    pub(crate) facts: Facts,
    /// What `--target` left in.
    pub(crate) scope: Scope,
    /// `drift --deep`.
    pub(crate) deep: bool,
}

impl Session {
    /// Connects with a file already resolved (a command that needs
    /// `[notify]` even when the server cannot be reached resolves first).
    pub(crate) async fn connect(
        mut resolved: Resolved,
        access: Access,
        timeout: Duration,
        scope: Scope,
    ) -> Result<Self, Errors> {
        let started = Instant::now();
        let left_out = registry::restrict(&mut resolved.desired, &scope);
        if let Some(message) = scope.warning(&left_out) {
            resolved.warnings.push(Warning {
                key: None,
                location: None,
                message,
            });
        }
        let admin = resolved.admin()?.dsn.clone();
        let load = resolved.took;
        let client = connect(&admin, access, timeout).await?;
        refuse_standby(&client).await?;
        Ok(Self {
            loaded: resolved.loaded,
            desired: resolved.desired,
            warnings: resolved.warnings,
            client,
            opened: Opened::default(),
            admin,
            access,
            timeout,
            timings: Timings {
                load,
                connect: started.elapsed(),
                ..Timings::default()
            },
            facts: resolved.facts,
            scope,
            deep: false,
        })
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    pub(crate) fn admin(&self) -> &Dsn {
        &self.admin
    }

    /// Opens a new admin session, for instance after a server restart.
    pub(crate) async fn reconnect(&mut self) -> Result<()> {
        self.opened = Opened::default();
        self.client = connect(&self.admin, self.access, self.timeout).await?;
        Ok(())
    }

    /// Observes and plans, recording how long each took in `timings`.
    pub(crate) async fn observe_and_plan(&mut self) -> Result<(LiveState, Plan), Errors> {
        let started = Instant::now();
        let live = self.observe().await?;
        self.timings.observe = started.elapsed();
        let started = Instant::now();
        let plan = self.plan(&live)?;
        self.timings.diff = started.elapsed();
        Ok((live, plan))
    }

    /// Reads every domain in scope: files, servers, buckets. Passwords are
    /// checked against their stored verifiers here, on every core.
    pub(crate) async fn observe(&self) -> Result<LiveState> {
        registry::observe(&self.desired, &self.context()).await
    }

    fn context(&self) -> Observe<'_> {
        Observe {
            client: &self.client,
            deep: self.deep,
            timeout: self.timeout,
            facts: &self.facts,
            databases: Databases {
                client: &self.client,
                admin: &self.admin,
                access: self.access,
                timeout: self.timeout,
                opened: &self.opened,
            },
        }
    }

    /// The plan from the desired state to `live` (pure); what the domains
    /// publish about it is remembered for the rest of the run.
    pub(crate) fn plan(&mut self, live: &LiveState) -> Result<Plan, Errors> {
        let mut facts = self.facts.clone();
        let plan = registry::diff(&self.desired, live, &mut facts)?;
        self.facts = facts;
        Ok(plan)
    }

    /// Remembers what apply published (the verifiers it sent).
    pub(crate) fn learn(&mut self, facts: Facts) {
        self.facts.extend(facts);
    }

    /// Health findings for `drift`, domain by domain.
    pub(crate) async fn health(&self, sink: &dyn EventSink) -> Result<Health> {
        registry::health(&self.desired, &self.context(), sink).await
    }

    /// Observes again until nothing is left to change, for up to `patience`:
    /// a configuration reload is asynchronous, so settings may take a moment.
    pub(crate) async fn settle(&mut self, patience: Duration) -> Result<(LiveState, Plan), Errors> {
        let deadline = Instant::now() + patience;
        loop {
            let live = self.observe().await?;
            let plan = self.plan(&live)?;
            if plan.is_empty() || Instant::now() >= deadline {
                return Ok((live, plan));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
