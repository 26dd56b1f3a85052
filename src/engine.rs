//! The shared pipeline every command runs: load the file, connect, observe each
//! domain, diff each domain into one [`Plan`], apply each domain in order.
//! Domains own their observe, diff and apply; this module only sequences them
//! and never prints.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio_postgres::Client;

use crate::backup::health::Finding;
use crate::bucket::live::LiveBucket;
use crate::config::{self, Loaded};
use crate::error::Result;
use crate::grants::live::LiveGrants;
use crate::managed_file::{self, DesiredFile, LiveFile};
use crate::plan::Plan;
use crate::pooler::desired::DesiredPooler;
use crate::pooler::plan::LivePooler;
use crate::postgres::connect::{connect, Access};
use crate::postgres::live::LivePostgres;
use crate::postgres::live::StoredPassword;
use crate::postgres::observe::Reach;
use crate::settings::live::LiveSettings;
use crate::{bucket, grants, pooler, postgres, settings};

pub use crate::events::{Event, Timings};

/// Each pooler user's verifier as PostgreSQL stores it; a placeholder for those
/// this apply rotates. The auth file cannot be rendered without `pg_authid`.
fn pooler_verifiers(
    pooler: &DesiredPooler,
    live: &LivePostgres,
    rotating: &BTreeSet<String>,
) -> Result<BTreeMap<String, Option<String>>> {
    let mut out = BTreeMap::new();
    for user in &pooler.users {
        let stored = match live.roles.get(user).map(|r| &r.password) {
            Some(StoredPassword::Scram(verifier)) => Some(verifier.clone()),
            _ => None,
        };
        let verifier = if rotating.contains(user) {
            Some(stored.unwrap_or_else(|| pooler::plan::PLACEHOLDER.to_string()))
        } else {
            stored
        };
        if verifier.is_none() {
            return Err(crate::error::Error::new(format!(
                "the pooler's auth file needs the SCRAM verifier of `{user}`, which `pg_authid` does not show"
            ))
            .hint("the admin DSN must be a superuser's, so dbops can read `pg_authid`"));
        }
        out.insert(user.clone(), verifier);
    }
    Ok(out)
}

/// The live state of every domain.
#[derive(Debug, Clone, Serialize)]
pub struct LiveState {
    pub postgres: LivePostgres,
    pub grants: LiveGrants,
    /// `None` when the file declares no settings (the domain is not read).
    pub settings: Option<LiveSettings>,
    pub buckets: BTreeMap<String, LiveBucket>,
    /// Managed files by address.
    pub files: BTreeMap<String, LiveFile>,
    /// `None` when no pooler is declared.
    pub pooler: Option<LivePooler>,
}

impl LiveState {
    /// A digest of everything observed, for saved plans.
    pub fn fingerprint(&self) -> String {
        let document = serde_json::json!({
            "postgres": self.postgres.fingerprint(),
            "grants": self.grants,
            "settings": self.settings,
            "buckets": self.buckets,
            "files": self.files,
            "pooler": self.pooler,
        });
        crate::config::hex(&Sha256::digest(document.to_string().as_bytes()))
    }

    /// Statements sent to observe, for the round-trip budget.
    pub fn statements(&self) -> usize {
        self.postgres.statements
            + self.grants.statements
            + self.settings.as_ref().map_or(0, |s| s.statements)
    }
}

pub struct Session {
    pub loaded: Loaded,
    pub client: Client,
    access: Access,
    timeout: Duration,
    /// Time spent loading the file, connecting, observing and diffing.
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
            access,
            timeout,
            timings: Timings {
                load,
                connect: started.elapsed() - load,
                ..Timings::default()
            },
        })
    }

    /// Opens a new admin session, for instance after a server restart.
    pub async fn reconnect(&mut self) -> Result<()> {
        self.client = connect(&self.loaded.desired.admin, self.access, self.timeout).await?;
        Ok(())
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
        let grant_roles = desired.grants.roles();
        // Both statements go out on the admin session together (pipelined).
        let (postgres, settings) = tokio::join!(
            postgres::observe::observe(&self.client, &desired.postgres, &grant_roles, &reach),
            async {
                if desired.settings.is_empty() {
                    Ok(None)
                } else {
                    settings::observe::observe(&self.client, &desired.settings)
                        .await
                        .map(Some)
                }
            }
        );
        let grants =
            grants::observe::observe(&desired.admin, &desired.grants, self.access, self.timeout)
                .await?;
        let mut buckets = BTreeMap::new();
        for bucket in &desired.buckets {
            buckets.insert(
                bucket.name.clone(),
                bucket::observe::observe(bucket, self.timeout).await?,
            );
        }
        let mut files = BTreeMap::new();
        for file in self.files() {
            files.insert(file.address.clone(), managed_file::observe(&file.path)?);
        }
        let mut live_pooler = None;
        if let Some(pooler) = &desired.pooler {
            for path in pooler::plan::paths(pooler) {
                files.insert(
                    pooler::plan::file_address(path),
                    managed_file::observe(path)?,
                );
            }
            let running = match pooler::admin::connect(pooler, self.timeout).await {
                Some(client) => Some(pooler::admin::show_config(&client).await?),
                None => None,
            };
            live_pooler = Some(LivePooler { running });
        }
        Ok(LiveState {
            postgres: postgres?,
            grants,
            settings: settings?,
            buckets,
            files,
            pooler: live_pooler,
        })
    }

    /// Every file dbops renders.
    fn files(&self) -> Vec<&DesiredFile> {
        let desired = &self.loaded.desired;
        desired.backup.iter().flat_map(|b| b.files.iter()).collect()
    }

    /// Backup health findings, for `drift`: empty when no backup bucket is declared.
    pub async fn health(&self) -> Result<Vec<Finding>> {
        let desired = &self.loaded.desired;
        let Some(backup) = &desired.backup else {
            return Ok(Vec::new());
        };
        let Some(bucket) = backup
            .bucket
            .as_ref()
            .and_then(|name| desired.buckets.iter().find(|b| &b.name == name))
        else {
            return Ok(Vec::new());
        };
        let observed = crate::backup::health::observe(backup, bucket, self.timeout).await?;
        Ok(crate::backup::health::check(
            backup,
            &observed,
            std::time::SystemTime::now(),
        ))
    }

    /// The plan from the desired state to `live`. Pure: no I/O.
    pub fn plan(&self, live: &LiveState) -> Result<Plan> {
        let desired = &self.loaded.desired;
        let mut plan = Plan {
            changes: postgres::diff::diff(&desired.postgres, &live.postgres)?,
            ..Plan::default()
        };

        let created: BTreeSet<String> = desired
            .postgres
            .databases
            .keys()
            .filter(|name| !live.postgres.databases.contains_key(*name))
            .cloned()
            .collect();
        let role_exists = |role: &str| {
            desired.postgres.roles.contains_key(role) || live.postgres.roles.contains_key(role)
        };
        let context = grants::diff::Context {
            role_exists: &role_exists,
            created_databases: &created,
        };
        plan.changes
            .extend(grants::diff::diff(&desired.grants, &live.grants, &context)?);

        if let Some(live_settings) = &live.settings {
            let settings = settings::diff::diff(&desired.settings, live_settings)?;
            plan.changes.extend(settings.changes);
            plan.pending.extend(settings.pending);
            plan.notes.extend(settings.notes);
        }
        for bucket in &desired.buckets {
            let empty = LiveBucket::default();
            let live_bucket = live.buckets.get(&bucket.name).unwrap_or(&empty);
            let diff = bucket::diff::diff(bucket, live_bucket)?;
            plan.changes.extend(diff.changes);
            plan.notes.extend(diff.notes);
        }
        for file in self.files() {
            if let Some(change) = live
                .files
                .get(&file.address)
                .and_then(|l| managed_file::diff(file, l))
            {
                plan.changes.push(change);
            }
        }
        if let (Some(pooler), Some(live_pooler)) = (&desired.pooler, &live.pooler) {
            let rotating: BTreeSet<String> = pooler
                .users
                .iter()
                .filter(|user| {
                    let address = postgres::diff::role_address(user);
                    plan.changes.iter().any(|c| {
                        c.address == address
                            && c.attributes
                                .iter()
                                .any(|a| a.sensitive && a.name == "password")
                    })
                })
                .cloned()
                .collect();
            let verifiers = pooler_verifiers(pooler, &live.postgres, &rotating)?;
            let auth = live
                .files
                .get(&pooler::plan::file_address(&pooler.auth_path));
            let files = pooler::plan::files(pooler, &verifiers, auth);
            let diff = pooler::plan::diff(pooler, &files, &live.files, live_pooler, &rotating);
            plan.changes.extend(diff.changes);
            plan.pending.extend(diff.pending);
        }
        Ok(plan)
    }

    /// Applies every domain in order: databases and roles, privileges, settings.
    pub async fn apply(&mut self, plan: &Plan) -> Result<Vec<Event>> {
        let desired = &self.loaded.desired;
        let mut events =
            postgres::apply::apply(&mut self.client, &desired.postgres, &plan.changes).await?;
        events.extend(grants::apply::apply(&desired.admin, &plan.changes, self.timeout).await?);
        events.extend(settings::apply::apply(&self.client, &plan.changes).await?);
        events.extend(bucket::apply::apply(&desired.buckets, &plan.changes, self.timeout).await?);
        let files: Vec<DesiredFile> = self.files().into_iter().cloned().collect();
        events.extend(managed_file::apply(&files, &plan.changes)?);
        if let Some(pooler) = &desired.pooler {
            let pooler_files: Vec<String> = pooler::plan::paths(pooler)
                .into_iter()
                .map(pooler::plan::file_address)
                .collect();
            let touches_pooler = plan.changes.iter().any(|c| {
                pooler_files.contains(&c.address)
                    || matches!(c.operation, crate::plan::Operation::Pooler(_))
            });
            if touches_pooler {
                // Render the auth file from the verifiers PostgreSQL holds now,
                // after this apply set any new password.
                let reach = Reach {
                    admin: &desired.admin,
                    timeout: self.timeout,
                };
                let roles = desired.grants.roles();
                let live_postgres =
                    postgres::observe::observe(&self.client, &desired.postgres, &roles, &reach)
                        .await?;
                let verifiers = pooler_verifiers(pooler, &live_postgres, &BTreeSet::new())?;
                let auth = managed_file::observe(&pooler.auth_path)?;
                let files = pooler::plan::files(pooler, &verifiers, Some(&auth));
                events.extend(managed_file::apply(&files, &plan.changes)?);
                events.push(pooler::apply::reload(pooler, self.timeout).await?);
            }
        }
        Ok(events)
    }

    /// Observes again until nothing is left to change, for up to `patience`:
    /// a configuration reload is asynchronous, so settings may take a moment.
    pub async fn settle(&self, patience: Duration) -> Result<(LiveState, Plan)> {
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
