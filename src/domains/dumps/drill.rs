//! `dbops restore-test --source dumps`: the newest complete set of each
//! database `[dumps]` declares, restored into a throwaway server (initdb),
//! checked, and recorded. Each set's files are copied into the work
//! directory first (parallel `pg_restore` needs a seekable file) through
//! SHA-256 and compared with its manifest: a mismatch is a failed test,
//! with evidence. Then the roles (`roles.sql`, no passwords), then
//! `pg_restore --create` per database, then `[[restore_test.checks]]`.
//!
//! The RTO runs from the first byte copied to the last object restored.
//! The data-loss window is from the snapshot of the oldest set restored
//! (when its pg_dump started: the dump holds nothing committed later) to
//! the start of the drill. Evidence goes under `dump-tests/` of the dumps'
//! own destination, never where the physical drills' evidence lies, so
//! one kind of drill never stands in for the other. It never connects to
//! the production server and writes nothing else to the destination.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use tokio::io::AsyncWriteExt;

use super::desired::DesiredDumps;
use super::manifest::{Manifest, ManifestFile};
use super::store::{copy_hashed, unix, Store};
use crate::drill::cluster::{self, Cluster, RestoreLog};
use crate::drill::evidence::{DumpSetUsed, Durations, Evidence, FORMAT};
use crate::drill::layout::{auto_conf, base_settings, Invocation, HBA};
use crate::drill::settings::RestoreTest;
use crate::error::{Error, Result};
use crate::events::{Event, EventName, EventSink};

/// How long finding the sets and preparing the server may take, outside the RTO.
const PREPARE_TIMEOUT: Duration = Duration::from_secs(300);
/// Room beyond the dumps' size on the work directory's file system.
const DISK_MARGIN: u64 = 256 * 1024 * 1024;

/// Written into every dump drill's evidence, so a reader needs no manual.
pub(crate) const DATA_LOSS_DEFINITION: &str = "committed work a restore from these dumps would not bring back if the server were lost when the drill began: from the snapshot of the oldest set restored (when its pg_dump started) to the drill's start";

pub(crate) struct Request<'a> {
    pub(crate) dumps: &'a DesiredDumps,
    pub(crate) settings: &'a RestoreTest,
    /// The throwaway server's superuser (the admin DSN's user), which the
    /// checks run as.
    pub(crate) user: &'a str,
    pub(crate) keep: bool,
    pub(crate) timeout: Duration,
}

pub(crate) struct Outcome {
    pub(crate) evidence: Evidence,
    /// Where `evidence.json` went: a path or an `s3://` URI.
    pub(crate) uri: String,
    /// Set when `--keep` left the server running.
    pub(crate) kept: Option<String>,
}

/// One set chosen, with its manifest.
struct Chosen {
    location: String,
    manifest: Manifest,
}

use crate::drill::outcome::{self, rfc3339, seconds};

pub(crate) async fn run(request: &Request<'_>, events: &dyn EventSink) -> Result<Outcome> {
    let started_at = SystemTime::now();
    let started = Instant::now();
    let store = Store::open(&request.dumps.destination, request.timeout).await;
    events.emit(
        Event::message(
            EventName::RestoreTestStarted,
            format!(
                "restore test of the newest dumps in {}",
                request.dumps.destination.describe()
            ),
        )
        .details(serde_json::json!({
            "source": "dumps",
            "databases": request.dumps.databases,
            "evidence": store.evidence_root(),
        })),
    );
    let mut evidence = begin(request, started_at);
    let mut log = RestoreLog::default();
    log.line(&format!(
        "dbops {} restore-test from dumps in {}",
        env!("CARGO_PKG_VERSION"),
        request.dumps.destination.describe()
    ));
    let mut slot: Option<Cluster> = None;
    let result = attempt(request, &store, &mut evidence, &mut log, &mut slot, events).await;
    if let Some(c) = &slot {
        log.block("server log", &c.server_log());
    }
    let kept = slot.as_ref().filter(|c| c.keep).map(Cluster::kept_note);
    drop(slot);
    outcome::conclude(
        &mut evidence,
        result,
        started,
        request.settings.evidence_key.as_ref(),
        "the newest dumps restored leave behind",
        &mut log,
    );
    let location = match record(&store, &evidence, log.text()).await {
        Ok(location) => location,
        Err(error) => {
            events.emit(outcome::not_recorded(&error));
            return Err(error);
        }
    };
    let uri = store.uri(&location, "evidence.json");
    let sets: Vec<&str> = evidence.sets.iter().map(|s| s.location.as_str()).collect();
    events.emit(outcome::finished(&evidence, &uri, serde_json::json!(sets)));
    Ok(Outcome {
        evidence,
        uri,
        kept,
    })
}

fn begin(request: &Request<'_>, started_at: SystemTime) -> Evidence {
    Evidence {
        format: FORMAT,
        source: "dumps".into(),
        dbops_version: env!("CARGO_PKG_VERSION").into(),
        tool: "pg_restore".into(),
        tool_version: None,
        postgres_version: None,
        started_at: rfc3339(started_at),
        finished_at: String::new(),
        target: "newest dumps".into(),
        backup: None,
        sets: Vec::new(),
        archive: None,
        recovered_to: None,
        replayed_lsn: None,
        replayed_segment: None,
        data_loss_window_seconds: None,
        data_loss_definition: DATA_LOSS_DEFINITION.into(),
        durations: Durations::default(),
        rto_seconds: request.dumps.rto.as_secs(),
        rpo_seconds: request.dumps.rpo.as_secs(),
        rto_met: None,
        rpo_met: None,
        checks: Vec::new(),
        verify: Vec::new(),
        passed: false,
        failure: None,
        pick: None,
        seed: None,
        repository: None,
        target_window: None,
        page_checks: Vec::new(),
        signature: None,
    }
}

/// `evidence.json` and `restore.log` into a new evidence folder.
async fn record(store: &Store, evidence: &Evidence, log: &str) -> Result<String> {
    let stamp = evidence.started_at.replace([':', '-'], "");
    let date = &evidence.started_at[..10];
    let time = stamp.get(9..15).unwrap_or("000000");
    let location = store.evidence_location(date, time).await?;
    let failed = |e: Error| {
        let message = format!(
            "cannot record the evidence in `{location}`: {}",
            e.message()
        );
        e.hints().iter().fold(
            Error::new(message).kind(crate::error::ErrorKind::Storage),
            |error, hint| error.hint(hint.clone()),
        )
    };
    store
        .write_small(&location, "evidence.json", evidence.to_json().as_bytes())
        .await
        .map_err(failed)?;
    store
        .write_small(&location, "restore.log", log.as_bytes())
        .await
        .map_err(failed)?;
    Ok(location)
}

/// The steps; each fills in the evidence as it learns something.
async fn attempt(
    request: &Request<'_>,
    store: &Store,
    evidence: &mut Evidence,
    log: &mut RestoreLog,
    slot: &mut Option<Cluster>,
    events: &dyn EventSink,
) -> Result<()> {
    let chosen = choose(request.dumps, store, log).await?;
    for set in &chosen {
        let m = &set.manifest;
        evidence.sets.push(DumpSetUsed {
            database: m.database.clone(),
            location: set.location.clone(),
            started_at: m.started_at.clone(),
            finished_at: m.finished_at.clone(),
            bytes: m.bytes,
            sha256: m.sha256.clone(),
            system_identifier: m.system_identifier.clone(),
        });
    }
    record_window(request, evidence);

    let cluster = slot.insert(Cluster::for_drill(
        request.settings,
        request.dumps.bindir.as_deref(),
        request.keep,
        log,
        events,
    )?);
    let prepare = Instant::now() + PREPARE_TIMEOUT;
    let version = Invocation::new(&bin(cluster, "postgres")).arg("--version");
    let postgres = cluster::run(
        &cluster.run_as,
        &version,
        "`postgres --version`",
        prepare,
        log,
    )
    .await?;
    evidence.postgres_version = Some(postgres.trim().to_string());
    let version = Invocation::new(&bin(cluster, "pg_restore")).arg("--version");
    let tool = cluster::run(
        &cluster.run_as,
        &version,
        "`pg_restore --version`",
        prepare,
        log,
    )
    .await?;
    evidence.tool_version = Some(tool.trim().to_string());
    let total: u64 = chosen.iter().map(|s| s.manifest.bytes).sum();
    let free = cluster::free_space(&cluster.layout.work)?;
    if free < total + DISK_MARGIN {
        return Err(Error::new(format!(
            "not enough disk space in `{}`: the dumps are {} MiB and {} MiB more are kept free for the restore; {} MiB are free",
            cluster.layout.work.display(),
            total >> 20,
            DISK_MARGIN >> 20,
            free >> 20
        ))
        .hint("set `[restore_test] work_dir` to a file system with room"));
    }
    initdb(cluster, request.user, prepare, log).await?;

    // The RTO runs from here: copy, verify, restore.
    let restore_start = Instant::now();
    let deadline = restore_start + request.dumps.rto;
    let copied = copy_sets(store, cluster, &chosen, deadline, log).await;
    evidence.durations.fetch_seconds = Some(seconds(restore_start.elapsed()));
    let copied = match copied {
        Ok(copied) => copied,
        Err(error) => {
            if Instant::now() >= deadline {
                evidence.rto_met = Some(false);
            }
            return Err(error);
        }
    };
    let replay_start = Instant::now();
    cluster.start(deadline, log).await?;
    let restored = async {
        let pg = cluster.wait_promoted(request.user, deadline).await?;
        restore(cluster, &pg, request.user, &copied, deadline, log).await
    }
    .await;
    let restore_time = restore_start.elapsed();
    evidence.durations.replay_seconds = Some(seconds(replay_start.elapsed()));
    evidence.durations.restore_seconds = Some(seconds(restore_time));
    evidence.rto_met = Some(restore_time <= request.dumps.rto && restored.is_ok());
    restored?;
    log.line(&format!(
        "restored after {:.1}s",
        restore_time.as_secs_f64()
    ));

    let checks_start = Instant::now();
    for check in &request.settings.checks {
        evidence
            .checks
            .push(crate::drill::check::run(cluster, request.user, check).await);
    }
    evidence.durations.checks_seconds = Some(seconds(checks_start.elapsed()));
    evidence.verify =
        crate::drill::verify::run(cluster, request.user, &request.settings.verify, log).await;
    Ok(())
}

/// The newest complete set of each declared database.
async fn choose(dumps: &DesiredDumps, store: &Store, log: &mut RestoreLog) -> Result<Vec<Chosen>> {
    let now = unix(SystemTime::now());
    let since = super::health::listing_since(dumps, now);
    let mut chosen = Vec::new();
    for database in &dumps.databases {
        let sets = store.list(database, since).await?;
        let Some(newest) = sets.iter().rev().find(|s| s.complete) else {
            return Err(Error::new(format!(
                "there is no complete dump set of `{database}` in {}",
                dumps.destination.describe()
            ))
            .hint(
                "run `dbops dump` first; a set is complete once its `manifest.json` is written",
            ));
        };
        let manifest = store.manifest(&newest.location).await?;
        if manifest.database != *database || manifest.files.is_empty() {
            return Err(Error::new(format!(
                "the manifest of `{}` is not a dump of `{database}`",
                newest.location
            )));
        }
        log.line(&format!(
            "chose `{}` (dumped {} to {})",
            newest.location, manifest.started_at, manifest.finished_at
        ));
        chosen.push(Chosen {
            location: newest.location.clone(),
            manifest,
        });
    }
    Ok(chosen)
}

/// From the oldest restored snapshot to the drill's start; against the RPO.
fn record_window(request: &Request<'_>, evidence: &mut Evidence) {
    let drill = humantime::parse_rfc3339_weak(evidence.started_at.trim_end_matches('Z')).ok();
    let oldest = evidence
        .sets
        .iter()
        .filter_map(|s| humantime::parse_rfc3339_weak(s.started_at.trim_end_matches('Z')).ok())
        .min();
    if let (Some(drill), Some(oldest)) = (drill, oldest) {
        let window = drill.duration_since(oldest).unwrap_or_default();
        evidence.recovered_to = Some(rfc3339(oldest));
        evidence.data_loss_window_seconds = Some(window.as_secs() as f64);
        evidence.rpo_met = Some(window <= request.dumps.rpo);
    }
}

fn bin(cluster: &Cluster, program: &str) -> String {
    cluster.bindir.join(program).display().to_string()
}

/// An empty cluster whose superuser is `user`, set up as a throwaway.
async fn initdb(
    cluster: &Cluster,
    user: &str,
    deadline: Instant,
    log: &mut RestoreLog,
) -> Result<()> {
    let layout = &cluster.layout;
    let initdb = Invocation::new(&bin(cluster, "initdb"))
        .arg("--pgdata")
        .arg(layout.data().display().to_string())
        .arg("--username")
        .arg(user)
        .arg("--auth=trust")
        .arg("--encoding=UTF8")
        .arg("--no-sync")
        .arg("--no-instructions");
    cluster::run(&cluster.run_as, &initdb, "`initdb`", deadline, log).await?;
    let mut settings = base_settings(layout, cluster.port);
    // Nothing of production's runs here: no preloaded job scheduler (the
    // cluster is new), no archiving, no replication (the base settings).
    settings.push(("max_logical_replication_workers".into(), "0".into()));
    cluster.append(
        &layout.data().join("postgresql.auto.conf"),
        &auto_conf(&settings),
    )?;
    cluster.write(&layout.hba(), HBA)?;
    cluster.write(&layout.ident(), "")?;
    Ok(())
}

/// One set, copied into the work directory and verified.
struct Copied {
    database: String,
    /// The custom-format file, or the directory-format folder.
    dump: PathBuf,
    roles: PathBuf,
    roles_sha256: String,
}

/// Copies every set's files into `WORK/restore/N/` through SHA-256 and
/// compares each with its manifest.
async fn copy_sets(
    store: &Store,
    cluster: &Cluster,
    chosen: &[Chosen],
    deadline: Instant,
    log: &mut RestoreLog,
) -> Result<Vec<Copied>> {
    let root = cluster.layout.work.join("restore");
    make_dir(cluster, &root)?;
    let mut out = Vec::new();
    for (index, set) in chosen.iter().enumerate() {
        let m = &set.manifest;
        let dir = root.join(index.to_string());
        make_dir(cluster, &dir)?;
        let directory_format = m.format == "directory";
        let dump = dir.join(if directory_format { "dump.dir" } else { "dump" });
        if directory_format {
            make_dir(cluster, &dump)?;
        }
        for file in &m.files {
            // `DB.dir/toc.dat` lands as `dump.dir/toc.dat`; a name that
            // would leave the folder is refused.
            let target = if directory_format {
                let inner = file.name.rsplit('/').next().unwrap_or_default();
                if inner.is_empty() || inner == ".." || inner == "." {
                    return Err(Error::new(format!(
                        "the manifest of `{}` names a file `{}` that is not in the set",
                        set.location, file.name
                    )));
                }
                dump.join(inner)
            } else {
                dump.clone()
            };
            let left = deadline.saturating_duration_since(Instant::now());
            tokio::time::timeout(
                left,
                copy_verified(store, cluster, &set.location, file, &target),
            )
            .await
            .map_err(|_| {
                Error::new(format!(
                    "copying `{}` of `{}` did not finish within the RTO",
                    file.name, set.location
                ))
            })??;
        }
        if !directory_format && m.files[0].sha256 != m.sha256 {
            return Err(mismatch(
                &set.location,
                &m.files[0].name,
                &m.files[0].sha256,
                &m.sha256,
            ));
        }
        let roles = dir.join("roles.sql");
        copy_verified(store, cluster, &set.location, &m.roles, &roles).await?;
        log.line(&format!(
            "copied `{}` ({} bytes); SHA-256 matches the manifest",
            set.location, m.bytes
        ));
        out.push(Copied {
            database: m.database.clone(),
            dump,
            roles,
            roles_sha256: m.roles.sha256.clone(),
        });
    }
    Ok(out)
}

fn mismatch(location: &str, name: &str, got: &str, want: &str) -> Error {
    Error::new(format!(
        "`{name}` of `{location}` does not match its manifest: its SHA-256 is {got}, the manifest says {want}"
    ))
    .hint("the dump was changed or damaged after it was written; restore an older set by hand and find what wrote to the destination")
}

fn make_dir(cluster: &Cluster, dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::new(format!("cannot create `{}`: {e}", dir.display())))?;
    cluster.run_as.own(dir)
}

/// One file of a set into `target` (0600, the server's user), hashed as
/// it goes; its size and SHA-256 must be the manifest's.
async fn copy_verified(
    store: &Store,
    cluster: &Cluster,
    location: &str,
    file: &ManifestFile,
    target: &Path,
) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut reader = store.open_read(location, &file.name).await?;
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(target)
        .map(tokio::fs::File::from_std)
        .map_err(|e| Error::new(format!("cannot create `{}`: {e}", target.display())))?;
    let written =
        |e: std::io::Error| Error::new(format!("cannot write `{}`: {e}", target.display()));
    let (bytes, digest) = copy_hashed(
        &mut reader,
        &mut out,
        |e| Error::new(format!("cannot read `{}` of `{location}`: {e}", file.name)),
        written,
    )
    .await?;
    out.flush().await.map_err(written)?;
    drop(out);
    cluster.run_as.own(target)?;
    if digest != file.sha256 {
        return Err(mismatch(location, &file.name, &digest, &file.sha256));
    }
    if bytes != file.bytes {
        return Err(Error::new(format!(
            "`{}` of `{location}` is {bytes} bytes, the manifest says {}",
            file.name, file.bytes
        )));
    }
    Ok(())
}

/// A libpq connection string to the throwaway server's socket.
fn conninfo(cluster: &Cluster, user: &str, database: &str) -> String {
    let quote = |v: &str| format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"));
    format!(
        "host={} port={} user={} dbname={}",
        quote(&cluster.layout.socket().display().to_string()),
        cluster.port,
        quote(user),
        quote(database)
    )
}

/// The roles (each distinct `roles.sql` once), then each database.
async fn restore(
    cluster: &Cluster,
    pg: &tokio_postgres::Client,
    user: &str,
    copied: &[Copied],
    deadline: Instant,
    log: &mut RestoreLog,
) -> Result<()> {
    let mut applied = std::collections::BTreeSet::new();
    for set in copied {
        if !applied.insert(set.roles_sha256.clone()) {
            continue;
        }
        // pg_dumpall writes `CREATE ROLE` then `ALTER ROLE` for every role,
        // so the superuser's own `CREATE` fails and the rest goes on.
        let psql = Invocation::new(&bin(cluster, "psql"))
            .arg("--no-psqlrc")
            .arg("--quiet")
            .arg("--set=ON_ERROR_STOP=0")
            .arg("--file")
            .arg(set.roles.display().to_string())
            .arg(conninfo(cluster, user, "postgres"));
        let (_, stderr) =
            cluster::run_both(&cluster.run_as, &psql, "restoring the roles", deadline, log).await?;
        // PostgreSQL names the role unquoted inside its own quotes.
        let exists = format!("role \"{user}\" already exists");
        if let Some(error) = stderr
            .lines()
            .find(|l| l.contains("ERROR:") && !l.contains(&exists))
        {
            return Err(Error::new(format!(
                "restoring the roles failed: {}",
                error.trim()
            )));
        }
    }
    let jobs = std::thread::available_parallelism()
        .map(|n| n.get().min(4))
        .unwrap_or(1);
    for set in copied {
        let exists = pg
            .query_opt(
                "SELECT 1 FROM pg_database WHERE datname = $1",
                &[&set.database],
            )
            .await
            .map_err(|e| Error::new(crate::pg::connect::describe(&e)))?
            .is_some();
        // A new database is created as it was dumped (owner, encoding,
        // locale, its settings and grants); `postgres` exists already.
        let mut restore = Invocation::new(&bin(cluster, "pg_restore"))
            .arg("--no-password")
            .arg(format!("--jobs={jobs}"));
        restore = if exists {
            restore.arg(format!(
                "--dbname={}",
                conninfo(cluster, user, &set.database)
            ))
        } else {
            restore
                .arg("--create")
                .arg(format!("--dbname={}", conninfo(cluster, user, "postgres")))
        };
        let restore = restore.arg(set.dump.display().to_string());
        cluster::run(
            &cluster.run_as,
            &restore,
            &format!("restoring `{}`", set.database),
            deadline,
            log,
        )
        .await?;
    }
    Ok(())
}
