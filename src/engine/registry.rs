//! The registry: the one place that lists the domains. It resolves each
//! domain's section of the raw file into its desired state, observes each
//! domain's live state, concatenates each domain's diff into one plan (in the
//! order apply runs it), and dispatches each run of a domain's changes to that
//! domain's apply. Adding a domain means one module under `domains/`, its
//! section in `config/raw.rs`, and entries here (see docs/architecture.md).
//!
//! Apply order keeps the deployment usable at every step: databases and roles
//! first (one transaction), then the pooler's files right after, so its auth
//! file holds the verifiers PostgreSQL now has; then privileges, settings, the
//! bucket and the backup tool's files.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Serialize;
use tokio_postgres::Client;

use crate::config::raw::RawConfig;
use crate::diagnostics::Resolver;
use crate::domains::backup::desired::DesiredBackup;
use crate::s3::BucketSpec;
use crate::domains::bucket::live::LiveBucket;
use crate::managed_files::{self, LiveFile};
use crate::domains::grants::desired::DesiredGrants;
use crate::domains::grants::live::LiveGrants;
use crate::domains::ownership::desired::{DatabaseOwnership, DesiredOwnership};
use crate::domains::ownership::live::LiveOwnership;
use crate::domains::pooler::desired::DesiredPooler;
use crate::domains::pooler::diff::LivePooler;
use crate::domains::postgres::desired::DesiredPostgres;
use crate::domains::postgres::live::{LivePostgres, StoredPassword};
use crate::domains::postgres::verify::Verified;
use crate::domains::settings::desired::{DesiredSettings, Origin};
use crate::domains::settings::live::LiveSettings;
use crate::domains::{backup, bucket, grants, ownership, pooler, postgres, settings};
use crate::error::{Error, Errors, Result};
use crate::events::EventSink;
use crate::pg::connect::Access;
use crate::plan::{Address, Finding, Plan, Planned};
use crate::util::digest::sha256_hex;
use crate::util::durations::short;

/// Everything the file declares, resolved: one field per domain.
#[derive(Debug, Clone)]
pub struct DesiredState {
    pub postgres: DesiredPostgres,
    /// Derived from `[databases]` and the DSN roles.
    pub ownership: DesiredOwnership,
    pub grants: DesiredGrants,
    pub settings: DesiredSettings,
    pub buckets: Vec<BucketSpec>,
    pub backup: Option<DesiredBackup>,
    pub pooler: Option<DesiredPooler>,
    #[cfg(feature = "example-domain")]
    pub example_domain: Option<crate::domains::example::Desired>,
}

/// Resolves every section, recording every problem in `r`; `None` when any
/// section could not be resolved.
pub fn resolve(raw: &RawConfig, r: &mut Resolver<'_>) -> Option<DesiredState> {
    let mut postgres = postgres::resolve::resolve(&raw.postgres, &raw.roles, &raw.databases, r);
    let (grants, governed) = grants::resolve::resolve(&raw.grants, postgres.as_ref(), r);
    if let Some(postgres) = postgres.as_mut() {
        for (role, database) in governed {
            if let Some(database) = postgres.databases.get_mut(&database) {
                database.connect.remove(&role);
            }
        }
    }
    let mut settings = settings::resolve::resolve(raw.server.as_ref(), r);
    let mut buckets = Vec::new();
    for (name, bucket) in &raw.bucket {
        if let Some(resolved) = r.check(bucket::resolve::resolve(name, bucket, r)) {
            buckets.push(resolved);
        }
    }
    let backup = match &raw.backup {
        Some(raw_backup) => {
            let resolved =
                backup::resolve::resolve(raw_backup, raw.restore_test.as_ref(), &buckets, r);
            let resolved = r.check(resolved);
            if let Some(backup) = &resolved {
                settings::resolve::derive(
                    &mut settings,
                    backup::archive::derive(backup),
                    Origin::Derived("[backup]"),
                );
                archive_lints(backup, &settings, r);
            }
            resolved
        }
        None => {
            if raw.restore_test.is_some() {
                r.error(
                    r.key(&["restore_test"])
                        .error("restores a backup, but no `[backup]` is declared")
                        .hint("declare `[backup]` with its tool and bucket"),
                );
            }
            None
        }
    };
    let pooler = match (&raw.pooler, &postgres) {
        (Some(raw_pooler), Some(postgres)) => {
            let resolved = pooler::resolve::resolve(raw_pooler, postgres, r);
            r.check(resolved)
        }
        _ => None,
    };
    #[cfg(feature = "example-domain")]
    let example_domain = match &raw.example_domain {
        Some(raw) => {
            let resolved = crate::domains::example::resolve::resolve(raw, r);
            r.check(resolved)
        }
        None => None,
    };
    if r.has_errors() {
        return None;
    }
    let postgres = postgres?;
    let ownership = DesiredOwnership {
        databases: postgres
            .databases
            .iter()
            .map(|(name, database)| {
                let moves = DatabaseOwnership {
                    reassign_from: database.reassign_owned_from.clone(),
                    owner: database.owner.clone(),
                };
                (name.clone(), moves)
            })
            .collect(),
        dsn_roles: postgres
            .roles
            .values()
            .filter(|r| r.dsn.is_some())
            .map(|r| (r.name.clone(), r.attributes.bypass_rls))
            .collect(),
    };
    Some(DesiredState {
        postgres,
        ownership,
        grants,
        settings,
        buckets,
        backup: if raw.backup.is_some() {
            Some(backup?)
        } else {
            None
        },
        pooler: if raw.pooler.is_some() {
            Some(pooler?)
        } else {
            None
        },
        #[cfg(feature = "example-domain")]
        example_domain,
    })
}

/// Settings that would defeat the declared backup.
fn archive_lints(backup: &DesiredBackup, settings: &DesiredSettings, r: &mut Resolver<'_>) {
    let effective: BTreeMap<String, String> = settings
        .settings
        .iter()
        .map(|(k, v)| (k.clone(), v.value.clone()))
        .collect();
    for lint in backup::archive::lint(&short(backup.rpo), backup.rpo, &effective) {
        let key = match settings.settings.get(lint.setting).map(|s| s.origin) {
            Some(Origin::File) => r.key(&["server", "settings", lint.setting]),
            _ => r.key(&["backup"]),
        };
        if lint.error {
            r.error(
                key.error(lint.message)
                    .hint("fix the setting, or remove `[backup]` if this server is not backed up"),
            );
        } else {
            r.warn(key.warning(lint.message));
        }
    }
}

/// What the file declares, domain by domain, for `validate`.
pub fn summary(desired: &DesiredState) -> Vec<(&'static str, usize)> {
    vec![
        ("roles", desired.postgres.roles.len()),
        ("databases", desired.postgres.databases.len()),
        ("grants", desired.grants.grants.len()),
        ("settings", desired.settings.settings.len()),
        ("buckets", desired.buckets.len()),
        ("backup tools", usize::from(desired.backup.is_some())),
        ("poolers", usize::from(desired.pooler.is_some())),
        #[cfg(feature = "example-domain")]
        (
            "example files",
            usize::from(desired.example_domain.is_some()),
        ),
    ]
}

/// The work apply does, one variant per domain.
#[derive(Debug, Clone)]
pub enum Operation {
    Postgres(postgres::Operation),
    Pooler(pooler::Operation),
    Ownership(ownership::Operation),
    Grants(grants::Operation),
    Settings(settings::Operation),
    Bucket(bucket::Operation),
    Backup(managed_files::Write),
    #[cfg(feature = "example-domain")]
    Example(crate::domains::example::Operation),
}

/// The live state of every domain.
#[derive(Debug, Clone, Serialize)]
pub struct LiveState {
    pub postgres: LivePostgres,
    pub ownership: LiveOwnership,
    pub grants: LiveGrants,
    /// `None` when the file declares no settings (the domain is not read).
    pub settings: Option<LiveSettings>,
    pub buckets: BTreeMap<String, LiveBucket>,
    /// The backup tool's files, by path.
    pub backup_files: BTreeMap<String, LiveFile>,
    /// `None` when no pooler is declared.
    pub pooler: Option<LivePooler>,
    #[cfg(feature = "example-domain")]
    pub example_domain: Option<crate::domains::example::Live>,
}

impl LiveState {
    /// A digest of everything observed, for saved plans; reveals no verifier.
    pub fn fingerprint(&self) -> String {
        let document = serde_json::json!({
            "postgres": self.postgres.fingerprint(),
            "ownership": self.ownership,
            "grants": self.grants,
            "settings": self.settings,
            "buckets": self.buckets,
            "backup_files": self.backup_files,
            "pooler": self.pooler,
        });
        sha256_hex(document.to_string().as_bytes())
    }

    /// Statements sent to observe, for the round-trip budget.
    pub fn statements(&self) -> usize {
        self.postgres.statements
            + self.grants.statements
            + self.settings.as_ref().map_or(0, |s| s.statements)
    }
}

/// Observes every domain the file declares.
pub async fn observe(
    desired: &DesiredState,
    client: &Client,
    access: Access,
    timeout: Duration,
) -> Result<LiveState> {
    let grant_roles = desired.grants.roles();
    // Both statements go out on the admin session together (pipelined).
    let (live_postgres, live_settings) = tokio::join!(
        postgres::observe::observe(client, &desired.postgres, &grant_roles, timeout),
        async {
            if desired.settings.is_empty() {
                Ok(None)
            } else {
                settings::observe::observe(client, &desired.settings)
                    .await
                    .map(Some)
            }
        }
    );
    let live_grants =
        grants::observe::observe(&desired.postgres.admin, &desired.grants, access, timeout).await?;
    let live_ownership =
        ownership::observe::observe(&desired.postgres.admin, &desired.ownership, access, timeout)
            .await?;
    let mut buckets = BTreeMap::new();
    for bucket in &desired.buckets {
        buckets.insert(
            bucket.name.clone(),
            bucket::observe::observe(bucket, timeout).await?,
        );
    }
    let mut backup_files = BTreeMap::new();
    for file in desired.backup.iter().flat_map(|b| b.files.iter()) {
        backup_files.insert(file.path.display().to_string(), managed_files::observe(&file.path)?);
    }
    let live_pooler = match &desired.pooler {
        None => None,
        Some(pooler) => {
            let mut live = LivePooler::default();
            for path in pooler::diff::paths(pooler) {
                live.files
                    .insert(path.display().to_string(), managed_files::observe(path)?);
            }
            if let Some(client) = pooler::admin::connect(pooler, timeout).await? {
                live.running = Some(pooler::admin::show_config(&client).await?);
            }
            live.reached_at = format!("{}:{}", pooler.host, pooler.listen_port);
            for (name, role) in &desired.postgres.roles {
                if let (Some(dsn), Some(_)) = (&role.dsn, &role.password) {
                    live.logins.insert(
                        name.clone(),
                        crate::pg::connect::try_login(dsn, timeout).await,
                    );
                }
            }
            Some(live)
        }
    };
    #[cfg(feature = "example-domain")]
    let example_domain = match &desired.example_domain {
        Some(desired) => Some(crate::domains::example::observe(desired)?),
        None => None,
    };
    Ok(LiveState {
        ownership: live_ownership,
        #[cfg(feature = "example-domain")]
        example_domain,
        postgres: live_postgres?,
        grants: live_grants,
        settings: live_settings?,
        buckets,
        backup_files,
        pooler: live_pooler,
    })
}

/// Checks of live state too costly for the pure diff, done before it: every
/// desired password against its stored verifier, on every core.
pub async fn verify(
    desired: &DesiredState,
    live: &LiveState,
    known: &BTreeMap<String, String>,
) -> Result<Verified> {
    postgres::verify::verify(&desired.postgres, &live.postgres, known).await
}

/// The plan from the desired state to `live`, in apply order. Pure: no I/O.
pub fn diff(
    desired: &DesiredState,
    live: &LiveState,
    verified: &Verified,
) -> Result<Plan<Operation>, Errors> {
    let mut plan = Plan::default();
    let mut errors = Vec::new();

    let postgres_diff = postgres::diff::diff(&desired.postgres, &live.postgres, verified);
    let rotating: BTreeSet<String> = match &postgres_diff {
        Ok(diff) => diff
            .changes
            .iter()
            .filter_map(|p| p.operation.sets_password())
            .map(str::to_string)
            .collect(),
        Err(_) => BTreeSet::new(),
    };
    match postgres_diff {
        Ok(diff) => plan.append(diff, Operation::Postgres),
        Err(e) => errors.extend(e.into_vec()),
    }

    if let (Some(pooler), Some(live_pooler)) = (&desired.pooler, &live.pooler) {
        let stored: BTreeMap<String, String> = live
            .postgres
            .roles
            .iter()
            .filter_map(|(name, role)| match &role.password {
                StoredPassword::Scram(verifier) => Some((name.clone(), verifier.clone())),
                _ => None,
            })
            .collect();
        match pooler::diff::diff(pooler, live_pooler, &stored, &rotating) {
            Ok(diff) => plan.append(diff, Operation::Pooler),
            Err(e) => errors.extend(e.into_vec()),
        }
    }

    let ownership_diff = ownership::diff::diff(&desired.ownership, &live.ownership);
    plan.append(ownership_diff, Operation::Ownership);

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
    let database_owner_changes: BTreeMap<String, (String, String)> = desired
        .postgres
        .databases
        .values()
        .filter_map(|d| {
            let owner = d.owner.as_ref()?;
            let live_database = live.postgres.databases.get(&d.name)?;
            (&live_database.owner != owner)
                .then(|| (d.name.clone(), (live_database.owner.clone(), owner.clone())))
        })
        .collect();
    let reassigned: BTreeMap<String, (BTreeSet<String>, String)> = desired
        .postgres
        .databases
        .values()
        .filter(|d| !d.reassign_owned_from.is_empty())
        .filter_map(|d| {
            let owner = d.owner.clone()?;
            Some((d.name.clone(), (d.reassign_owned_from.clone(), owner)))
        })
        .collect();
    let context = grants::diff::Context {
        role_exists: &role_exists,
        created_databases: &created,
        database_owner_changes: &database_owner_changes,
        reassigned: &reassigned,
    };
    match grants::diff::diff(&desired.grants, &live.grants, &context) {
        Ok(diff) => plan.append(diff, Operation::Grants),
        Err(e) => errors.extend(e.into_vec()),
    }

    if let Some(live_settings) = &live.settings {
        match settings::diff::diff(&desired.settings, live_settings) {
            Ok(diff) => plan.append(diff, Operation::Settings),
            Err(e) => errors.extend(e.into_vec()),
        }
    }
    for bucket in &desired.buckets {
        let empty = LiveBucket::default();
        let live_bucket = live.buckets.get(&bucket.name).unwrap_or(&empty);
        match bucket::diff::diff(bucket, live_bucket) {
            Ok(diff) => plan.append(diff, Operation::Bucket),
            Err(e) => errors.push(e),
        }
    }
    for file in desired.backup.iter().flat_map(|b| b.files.iter()) {
        let missing = LiveFile::missing();
        let on_disk = live
            .backup_files
            .get(&file.path.display().to_string())
            .unwrap_or(&missing);
        match managed_files::diff::diff(file, on_disk) {
            Ok(Some(planned)) => plan.push(planned.map(Operation::Backup)),
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    #[cfg(feature = "example-domain")]
    if let (Some(desired), Some(live)) = (&desired.example_domain, &live.example_domain) {
        plan.append(
            crate::domains::example::diff::diff(desired, live),
            Operation::Example,
        );
    }
    if errors.is_empty() {
        Ok(plan)
    } else {
        Err(Errors::new(errors))
    }
}

/// Which domain a change belongs to, for grouping runs of changes into steps.
pub fn domain(operation: &Operation) -> &'static str {
    match operation {
        Operation::Postgres(_) => "postgres",
        Operation::Pooler(_) => "pooler",
        Operation::Ownership(_) => "ownership",
        Operation::Grants(_) => "grants",
        Operation::Settings(_) => "settings",
        Operation::Bucket(_) => "bucket",
        Operation::Backup(_) => "backup",
        #[cfg(feature = "example-domain")]
        Operation::Example(_) => "example_domain",
    }
}

/// What a step of apply needs.
pub struct ApplyContext<'a> {
    pub client: &'a mut Client,
    pub desired: &'a DesiredState,
    pub timeout: Duration,
    /// Verifiers the role transaction sent, by role.
    pub sent: BTreeMap<String, String>,
}

/// Applies one run of changes of one domain, in order.
pub async fn apply_step(
    step: &[&Planned<Operation>],
    context: &mut ApplyContext<'_>,
    sink: &dyn EventSink,
) -> Result<()> {
    let Some(first) = step.first() else {
        return Ok(());
    };
    macro_rules! narrow {
        ($variant:ident) => {
            step.iter()
                .map(|p| match &p.operation {
                    Operation::$variant(operation) => Ok(Planned {
                        change: p.change.clone(),
                        operation: operation.clone(),
                    }),
                    _ => Err(Error::internal("a step mixes domains")),
                })
                .collect::<Result<Vec<_>>>()?
        };
    }
    let timeout = context.timeout;
    match &first.operation {
        Operation::Postgres(_) => {
            let owned = narrow!(Postgres);
            let refs: Vec<_> = owned.iter().collect();
            let sent = postgres::apply::apply(context.client, &refs, sink).await?;
            context.sent.extend(sent);
        }
        Operation::Pooler(_) => {
            let owned = narrow!(Pooler);
            let refs: Vec<_> = owned.iter().collect();
            let pooler = context
                .desired
                .pooler
                .as_ref()
                .ok_or_else(|| Error::internal("pooler changes without `[pooler]`"))?;
            pooler::apply::apply(pooler, &refs, &context.sent, timeout, sink).await?;
        }
        Operation::Ownership(_) => {
            let owned = narrow!(Ownership);
            let refs: Vec<_> = owned.iter().collect();
            ownership::apply::apply(&context.desired.postgres.admin, &refs, timeout, sink).await?;
        }
        Operation::Grants(_) => {
            let owned = narrow!(Grants);
            let refs: Vec<_> = owned.iter().collect();
            grants::apply::apply(&context.desired.postgres.admin, &refs, timeout, sink).await?;
        }
        Operation::Settings(_) => {
            let owned = narrow!(Settings);
            let refs: Vec<_> = owned.iter().collect();
            settings::apply::apply(context.client, &refs, sink).await?;
        }
        Operation::Bucket(_) => {
            let owned = narrow!(Bucket);
            let refs: Vec<_> = owned.iter().collect();
            bucket::apply::apply(&context.desired.buckets, &refs, timeout, sink).await?;
        }
        Operation::Backup(_) => {
            let owned = narrow!(Backup);
            for planned in &owned {
                managed_files::apply::write(&planned.operation.file)?;
                sink.emit(crate::events::Event::new(
                    "file.written",
                    &planned.change.address,
                ));
            }
        }
        #[cfg(feature = "example-domain")]
        Operation::Example(_) => {
            let owned = narrow!(Example);
            let refs: Vec<_> = owned.iter().collect();
            crate::domains::example::apply(&refs, sink)?;
        }
    }
    Ok(())
}

/// What a failed apply leaves inconsistent between domains, in words.
pub fn inconsistencies(
    applied: &BTreeSet<Address>,
    plan: &Plan<Operation>,
    sent: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut out = Vec::new();
    let auth_file_pending = plan.changes.iter().any(|p| {
        matches!(
            p.operation,
            Operation::Pooler(pooler::Operation::WriteAuthFile { .. })
        ) && !applied.contains(&p.change.address)
    });
    if auth_file_pending && !sent.is_empty() {
        let roles: Vec<String> = sent.keys().map(|r| format!("`{r}`")).collect();
        out.push(format!(
            "PostgreSQL has the new password for {}; pgBouncer's auth file was not rewritten, so logins through the pooler fail until the next apply",
            roles.join(", ")
        ));
    }
    out
}

/// A targeted run (`--target`) leaves out the domains no target can name.
pub fn drop_untargetable(desired: &mut DesiredState) {
    #[cfg(feature = "example-domain")]
    {
        desired.example_domain = None;
    }
    let _ = desired;
}

/// Backup health, for `drift`: the findings, and what reading them cost.
#[derive(Debug, Default)]
pub struct Health {
    pub findings: Vec<Finding>,
    /// S3 requests for the WAL check, and in all.
    pub wal_requests: usize,
    pub requests: usize,
}

/// Backup health findings, for `drift`: empty when no backup bucket is declared.
pub async fn health(desired: &DesiredState, pg: &Client, timeout: Duration) -> Result<Health> {
    let Some(backup) = &desired.backup else {
        return Ok(Health::default());
    };
    let Some(bucket) = backup
        .bucket
        .as_ref()
        .and_then(|name| desired.buckets.iter().find(|b| &b.name == name))
    else {
        return Ok(Health::default());
    };
    let archiver = backup::health::observe_server(pg).await?;
    let now = std::time::SystemTime::now();
    let observed = backup::health::observe(backup, bucket, Some(archiver), timeout, now).await?;
    Ok(Health {
        findings: backup::health::check(backup, &observed, now),
        wal_requests: observed.wal_requests,
        requests: observed.requests,
    })
}
