//! One restore test, start to finish: check what it needs, fetch the chosen
//! backup into a throwaway cluster, replay WAL to the target within the RTO,
//! run the declared checks, and upload `evidence.json` and `restore.log`
//! whatever happened (a failed test leaves evidence with `passed: false` and
//! the reason). The evidence files are the only thing it writes to the bucket.

use std::time::{Duration, Instant, SystemTime};

use aws_sdk_s3::primitives::ByteStream;

use super::catalog::{self, Catalog, Pick};
use super::target::Target;
use super::tool;
use super::window;
use crate::domains::backup::desired::{BackupTool, DesiredBackup, Place, Repository};
use crate::domains::backup::listing::Lister;
use crate::drill::cluster::{self, Cluster, RestoreLog};
use crate::drill::evidence::{
    ArchiveEnd, BackupUsed, Durations, Evidence, TargetWindow, DATA_LOSS_DEFINITION, FORMAT,
};
use crate::error::{Error, Result};
use crate::events::{Event, EventName, EventSink};
use crate::s3::client::{classify, client, failure_error};
use crate::s3::BucketSpec;

/// How long listing backups and reading versions may take, outside the RTO.
const PREPARE_TIMEOUT: Duration = Duration::from_secs(300);
/// Room beyond the backup's size: the WAL replay writes, and file-system slack.
const DISK_MARGIN: u64 = 256 * 1024 * 1024;

pub(crate) struct Request<'a> {
    pub(crate) backup: &'a DesiredBackup,
    pub(crate) bucket: &'a BucketSpec,
    /// The role the checks run as (the admin DSN's user: a superuser there).
    pub(crate) user: &'a str,
    pub(crate) target: Target,
    pub(crate) named: Option<&'a str>,
    /// `--pick` and the seed it draws with.
    pub(crate) pick: Option<(Pick, u64)>,
    /// `--target-time random`: `target` is drawn after the fetch, from the
    /// restored backup's end to the newest archived commit.
    pub(crate) random_time: bool,
    /// `--repository N`: a repository after the first.
    pub(crate) repository: Option<&'a Repository>,
    pub(crate) keep: bool,
    pub(crate) s3_timeout: Duration,
}

impl Request<'_> {
    /// pgBackRest's `--repo=N`: with copies declared, repository 1 is named
    /// too (unnamed, `info` lists every repository's backups and `restore
    /// --set` takes the set from the first that holds it).
    fn repo_flag(&self) -> Option<u32> {
        match self.repository {
            Some(r) => Some(r.number),
            None => (!self.backup.repositories.is_empty()).then_some(1),
        }
    }
}

pub(crate) struct Outcome {
    pub(crate) evidence: Evidence,
    /// Where `evidence.json` and `restore.log` were uploaded.
    pub(crate) prefix: String,
    /// Set when `--keep` left the server running.
    pub(crate) kept: Option<String>,
}

use crate::drill::outcome::{self, rfc3339, seconds};

pub(crate) async fn run(request: &Request<'_>, events: &dyn EventSink) -> Result<Outcome> {
    let backup = request.backup;
    let started_at = SystemTime::now();
    let started = Instant::now();
    let planned = backup.evidence_prefix(&rfc3339(started_at));
    events.emit(
        Event::message(
            EventName::RestoreTestStarted,
            format!(
                "restore test of the {} backup, target {}",
                tool_name(backup.tool),
                describe_target(request)
            ),
        )
        .details(serde_json::json!({
            "tool": tool_name(backup.tool),
            "target": describe_target(request),
            "repository": request.repository.map_or(1, |r| r.number),
            "evidence": planned,
        })),
    );
    let mut evidence = begin(request, started_at);
    let mut log = RestoreLog::default();
    log.line(&format!(
        "dbops {} restore-test: tool {}, target {}, repository {}",
        env!("CARGO_PKG_VERSION"),
        tool_name(backup.tool),
        describe_target(request),
        request.repository.map_or(1, |r| r.number)
    ));
    let mut cluster: Option<Cluster> = None;
    let result = attempt(request, &mut evidence, &mut log, &mut cluster, events).await;
    if let Some(c) = &cluster {
        log.block("server log", &c.server_log());
    }
    let kept = cluster.as_ref().filter(|c| c.keep).map(Cluster::kept_note);
    let key = backup.restore_test.evidence_key.as_ref();
    outcome::conclude(
        &mut evidence,
        result,
        started,
        key,
        "the restore did not bring back",
        &mut log,
    );
    let prefix = match upload(request, &planned, &evidence, log.text()).await {
        Ok(prefix) => prefix,
        Err(error) => {
            // The test ran, but its evidence could not be recorded: a failure.
            events.emit(outcome::not_recorded(&error));
            return Err(error);
        }
    };
    let backup_name = evidence.backup.as_ref().map(|b| b.name.clone());
    events.emit(outcome::finished(
        &evidence,
        &format!("{prefix}evidence.json"),
        serde_json::json!(backup_name),
    ));
    if let (true, true, Some(c), Some(name)) = (
        evidence.passed,
        backup.restore_test.annotate && backup.tool == BackupTool::PgBackRest,
        &cluster,
        &backup_name,
    ) {
        annotate(request, c, name, &evidence.started_at, &prefix).await?;
    }
    drop(cluster);
    Ok(Outcome {
        evidence,
        prefix,
        kept,
    })
}

/// `[restore_test] annotate`: the proven backup marked in pgBackRest's
/// own listing, after its evidence is recorded. A failure here is the
/// command's failure, saying that the drill itself passed.
async fn annotate(
    request: &Request<'_>,
    cluster: &Cluster,
    name: &str,
    started_at: &str,
    prefix: &str,
) -> Result<()> {
    let backup = request.backup;
    let invocation = tool::annotate(
        &cluster.layout,
        &backup.stanza,
        request.repo_flag(),
        name,
        &[
            ("dbops-restore-test", format!("passed {started_at}")),
            (
                "dbops-evidence",
                format!("s3://{}/{prefix}evidence.json", request.bucket.name),
            ),
        ],
    );
    let mut log = RestoreLog::default();
    cluster::run(
        &cluster.run_as,
        &invocation,
        "`pgbackrest annotate`",
        Instant::now() + PREPARE_TIMEOUT,
        &mut log,
    )
    .await
    .map(|_| ())
    .map_err(|error| {
        Error::new(format!(
            "the drill passed and its evidence is recorded under `{prefix}`, but marking backup `{name}` failed: {}",
            error.message()
        ))
        .hint("the mark is pgBackRest's listing only; drift judges the evidence. Set `[restore_test] annotate = false` to stop marking")
    })
}

/// The evidence of a test that has just started.
fn begin(request: &Request<'_>, started_at: SystemTime) -> Evidence {
    let backup = request.backup;
    Evidence {
        format: FORMAT,
        source: "physical".into(),
        dbops_version: env!("CARGO_PKG_VERSION").into(),
        tool: tool_name(backup.tool).into(),
        tool_version: None,
        postgres_version: None,
        started_at: rfc3339(started_at),
        finished_at: String::new(),
        target: describe_target(request),
        backup: None,
        sets: Vec::new(),
        archive: None,
        recovered_to: None,
        replayed_lsn: None,
        replayed_segment: None,
        data_loss_window_seconds: None,
        data_loss_definition: DATA_LOSS_DEFINITION.into(),
        durations: Durations::default(),
        rto_seconds: backup.rto.as_secs(),
        rpo_seconds: backup.rpo.as_secs(),
        rto_met: None,
        rpo_met: None,
        checks: Vec::new(),
        verify: Vec::new(),
        passed: false,
        failure: None,
        pick: None,
        seed: None,
        repository: request.repository.map(|r| r.number),
        target_window: None,
        page_checks: Vec::new(),
        signature: None,
    }
}

/// `random` until the drill has drawn its point.
fn describe_target(request: &Request<'_>) -> String {
    if request.random_time {
        "random".into()
    } else {
        request.target.describe()
    }
}

fn tool_name(tool: BackupTool) -> &'static str {
    match tool {
        BackupTool::PgBackRest => "pgbackrest",
        BackupTool::WalG => "wal-g",
    }
}

/// Uploads both files under `planned`, or `planned` with `-2`, `-3`... when
/// a run of the same second got there first: evidence is never overwritten.
async fn upload(
    request: &Request<'_>,
    planned: &str,
    evidence: &Evidence,
    log: &str,
) -> Result<String> {
    let s3 = client(request.bucket, request.s3_timeout).await;
    let mut lister = Lister::new(s3.clone(), request.bucket);
    let base = planned.trim_end_matches('/');
    let mut prefix = planned.to_string();
    for n in 2..=100 {
        if lister.page(&prefix, None, 1).await?.is_empty() {
            break;
        }
        prefix = format!("{base}-{n}/");
    }
    for (name, body, content_type) in [
        ("evidence.json", evidence.to_json(), "application/json"),
        ("restore.log", log.to_string(), "text/plain; charset=utf-8"),
    ] {
        let key = format!("{prefix}{name}");
        s3.put_object()
            .bucket(&request.bucket.name)
            .key(&key)
            .content_type(content_type)
            .body(ByteStream::from(body.into_bytes()))
            .send()
            .await
            .map_err(|e| {
                let error = failure_error(request.bucket, "PutObject", None, classify(&e));
                let message = format!("cannot record the evidence `{key}`: {}", error.message());
                error.hints().iter().fold(
                    Error::new(message).kind(crate::error::ErrorKind::Storage),
                    |e, h| e.hint(h.clone()),
                )
            })?;
    }
    Ok(prefix)
}

/// The steps; each fills in the evidence as it learns something.
async fn attempt(
    request: &Request<'_>,
    evidence: &mut Evidence,
    log: &mut RestoreLog,
    slot: &mut Option<Cluster>,
    events: &dyn EventSink,
) -> Result<()> {
    let backup = request.backup;
    let repository = request.repo_flag();
    let (cluster, port) = start_cluster(request, slot, log, events)?;
    let catalog = versions_and_catalog(cluster, backup, repository, evidence, log).await?;
    // A random point is drawn after the fetch: until then, any backup.
    let mut target = if request.random_time {
        Target::Latest
    } else {
        request.target
    };
    let chosen = choose_backup(request, &catalog, &target, evidence)?;
    log.line(&format!(
        "chose backup {} (ended {})",
        chosen.name,
        rfc3339(chosen.stop)
    ));
    let newest = archive_end(request, &catalog, evidence).await?;
    check_disk_space(cluster, &chosen)?;

    // The RTO runs from here: fetch and replay.
    let restore_start = Instant::now();
    let deadline = restore_start + backup.rto;
    let fetched = fetch(request, cluster, &chosen, &target, deadline, log).await;
    evidence.durations.fetch_seconds = Some(seconds(restore_start.elapsed()));
    if let Err(error) = fetched {
        if Instant::now() >= deadline {
            evidence.rto_met = Some(false);
        }
        return Err(error);
    }
    // The probe for a random point is the drill's, not a restore's: off the clock.
    let probe_start = Instant::now();
    let mut late = Vec::new();
    if request.random_time {
        target = draw_target(request, cluster, &chosen, newest.as_ref(), evidence, log).await?;
        if backup.tool == BackupTool::PgBackRest {
            if let Target::Time(at) = target {
                late = tool::late_target(at);
            }
        }
    }
    let probe = probe_start.elapsed();
    let deadline = deadline + probe;
    let controldata = cluster::run(
        &cluster.run_as,
        &cluster.controldata_invocation(),
        "`pg_controldata`",
        Instant::now() + PREPARE_TIMEOUT,
        log,
    )
    .await?;
    // What production preloads, as the restored files say (before dbops's
    // own settings are added): job-running libraries are taken out.
    let preload = cluster::run(
        &cluster.run_as,
        &cluster.setting_invocation("shared_preload_libraries"),
        "`postgres -C shared_preload_libraries`",
        Instant::now() + PREPARE_TIMEOUT,
        log,
    )
    .await?;
    let mut extra = late;
    if let Some((kept, removed)) =
        tool::without_job_libraries(preload.trim(), &backup.restore_test.keep_preload_libraries)
    {
        log.line(&format!(
            "not preloading {} on the throwaway server (they run jobs or connect elsewhere; `[restore_test] keep_preload_libraries` keeps one)",
            removed.join(", ")
        ));
        extra.push(("shared_preload_libraries".to_string(), kept));
    }
    prepare_data_directory(cluster, backup.tool, &target, port, &controldata, extra)?;
    check_major_version(
        &cluster.layout.data(),
        evidence.postgres_version.as_deref().unwrap_or_default(),
    )?;
    let replay_start = Instant::now();
    cluster.start(deadline, log).await?;
    let promoted = cluster.wait_promoted(request.user, deadline).await;
    let restore_time = restore_start.elapsed().saturating_sub(probe);
    evidence.durations.replay_seconds = Some(seconds(replay_start.elapsed()));
    evidence.durations.restore_seconds = Some(seconds(restore_time));
    evidence.rto_met = Some(restore_time <= backup.rto && promoted.is_ok());
    let pg = promoted?;
    log.line(&format!(
        "promoted after {:.1}s",
        restore_time.as_secs_f64()
    ));
    record_replay(&pg, request, &target, &chosen, newest.as_ref(), evidence).await?;

    let checks_start = Instant::now();
    for check in &backup.restore_test.checks {
        evidence
            .checks
            .push(crate::drill::check::run(cluster, request.user, check).await);
    }
    evidence.durations.checks_seconds = Some(seconds(checks_start.elapsed()));
    evidence.verify =
        crate::drill::verify::run(cluster, request.user, &backup.restore_test.verify, log).await;
    Ok(())
}

/// The backup `--pick`, `--backup` or the target chooses, recorded.
fn choose_backup(
    request: &Request<'_>,
    catalog: &Catalog,
    target: &Target,
    evidence: &mut Evidence,
) -> Result<catalog::Backup> {
    let chosen = match request.pick {
        Some((pick, seed)) => {
            evidence.pick = Some(pick.describe());
            evidence.seed = Some(seed);
            catalog::pick(catalog, target, pick, seed, SystemTime::now())?
        }
        None => catalog::choose(catalog, target, request.named)?,
    }
    .clone();
    evidence.backup = Some(BackupUsed {
        name: chosen.name.clone(),
        start_time: rfc3339(chosen.start),
        stop_time: rfc3339(chosen.stop),
        start_lsn: chosen.start_lsn.clone(),
        stop_lsn: chosen.stop_lsn.clone(),
        size_bytes: chosen.size_bytes,
    });
    Ok(chosen)
}

/// The throwaway cluster's work directory, with the tool's configuration.
fn start_cluster<'a>(
    request: &Request<'_>,
    slot: &'a mut Option<Cluster>,
    log: &mut RestoreLog,
    events: &dyn EventSink,
) -> Result<(&'a mut Cluster, u16)> {
    let backup = request.backup;
    let config = backup.tool_config.as_deref().ok_or_else(|| {
        Error::new(
            "restore-test needs the backup tool's configuration, rendered from `backup.bucket`",
        )
        .hint("declare `backup.bucket`")
    })?;
    let cluster = slot.insert(Cluster::for_drill(
        &backup.restore_test,
        None,
        request.keep,
        log,
        events,
    )?);
    let port = cluster.port;
    cluster.write(&tool::tool_config(&cluster.layout, backup.tool), config)?;
    Ok((cluster, port))
}

/// The binaries' and the tool's versions, and the tool's own list of backups.
async fn versions_and_catalog(
    cluster: &Cluster,
    backup: &DesiredBackup,
    repository: Option<u32>,
    evidence: &mut Evidence,
    log: &mut RestoreLog,
) -> Result<Catalog> {
    let prepare = Instant::now() + PREPARE_TIMEOUT;
    let as_user = &cluster.run_as;
    let version = cluster.version_invocation();
    let postgres = cluster::run(as_user, &version, "`postgres --version`", prepare, log).await?;
    evidence.postgres_version = Some(postgres.trim().to_string());
    let version = tool::version(backup.tool);
    let tool = cluster::run(as_user, &version, "the backup tool's version", prepare, log).await?;
    evidence.tool_version = Some(tool.trim().to_string());
    let list = tool::list(backup.tool, &cluster.layout, &backup.stanza, repository);
    let listing = cluster::run(as_user, &list, "listing the backups", prepare, log).await?;
    match backup.tool {
        BackupTool::PgBackRest => catalog::from_pgbackrest(&listing, &backup.stanza),
        BackupTool::WalG => catalog::from_walg(&listing),
    }
}

/// The archive's end, by the bucket: the newest segment and when it was written.
async fn archive_end(
    request: &Request<'_>,
    catalog: &Catalog,
    evidence: &mut Evidence,
) -> Result<Option<(String, Option<SystemTime>)>> {
    let view = request.repository.map(|r| r.view(request.backup));
    let backup = view.as_ref().unwrap_or(request.backup);
    let mut lister = match request.repository.map(|r| &r.place) {
        Some(Place::Directory(dir)) => Lister::directory(dir),
        Some(Place::Bucket { bucket, .. }) => {
            Lister::new(client(bucket, request.s3_timeout).await, bucket)
        }
        None => Lister::new(
            client(request.bucket, request.s3_timeout).await,
            request.bucket,
        ),
    };
    let newest = match &catalog.newest_segment {
        Some(name) => lister
            .segment(backup, name)
            .await?
            .map(|(_, time)| (name.clone(), time))
            .or(Some((name.clone(), None))),
        None => lister.newest_segment(backup).await?,
    };
    evidence.archive = Some(ArchiveEnd {
        newest_segment: newest.as_ref().map(|(n, _)| n.clone()),
        archived_at: newest.as_ref().and_then(|(_, t)| t.map(rfc3339)),
    });
    Ok(newest)
}

fn check_disk_space(cluster: &Cluster, chosen: &catalog::Backup) -> Result<()> {
    let work = &cluster.layout.work;
    let free = cluster::free_space(work)?;
    let needed = chosen.size_bytes + chosen.size_bytes / 10 + DISK_MARGIN;
    if free < needed {
        return Err(Error::new(format!(
            "not enough disk space in `{}`: backup `{}` restores to {} MiB, and {} MiB are needed with room for WAL; {} MiB are free",
            work.parent().unwrap_or(work).display(),
            chosen.name,
            chosen.size_bytes / (1024 * 1024),
            needed / (1024 * 1024),
            free / (1024 * 1024)
        ))
        .hint("set `[restore_test] work_dir` to a file system with room"));
    }
    Ok(())
}

/// Fetches the chosen backup into a fresh data directory the server's user owns.
async fn fetch(
    request: &Request<'_>,
    cluster: &Cluster,
    chosen: &catalog::Backup,
    target: &Target,
    deadline: Instant,
    log: &mut RestoreLog,
) -> Result<String> {
    let backup = request.backup;
    let layout = &cluster.layout;
    std::fs::create_dir_all(layout.data())
        .map_err(|e| Error::new(format!("cannot create the data directory: {e}")))?;
    std::fs::set_permissions(
        layout.data(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .map_err(|e| Error::new(format!("cannot secure the data directory: {e}")))?;
    cluster.run_as.own(&layout.data())?;
    cluster::run(
        &cluster.run_as,
        &tool::fetch(
            backup.tool,
            layout,
            &backup.stanza,
            (chosen, request.repo_flag()),
            target,
        ),
        "fetching the backup",
        deadline,
        log,
    )
    .await
}

/// `--target-time random`: the newest archived commit read from the WAL,
/// and a whole second drawn between the restored backup's end and it.
async fn draw_target(
    request: &Request<'_>,
    cluster: &Cluster,
    chosen: &catalog::Backup,
    newest: Option<&(String, Option<SystemTime>)>,
    evidence: &mut Evidence,
    log: &mut RestoreLog,
) -> Result<Target> {
    let backup = request.backup;
    let (segment, _) = newest.ok_or_else(|| {
        Error::new("`--target-time random` needs archived WAL after the backup, and the archive holds none")
    })?;
    let commit = window::newest_commit(
        cluster,
        (backup.tool, &backup.stanza, request.repo_flag()),
        segment,
        Instant::now() + PREPARE_TIMEOUT,
        log,
    )
    .await?;
    let seed = request.pick.map_or(0, |(_, seed)| seed);
    let at = window::draw(chosen.stop, commit, seed)?;
    evidence.target_window = Some(TargetWindow {
        from: humantime::format_rfc3339_micros(chosen.stop).to_string(),
        to: humantime::format_rfc3339_micros(commit).to_string(),
    });
    let target = Target::Time(at);
    evidence.target = target.describe();
    log.line(&format!(
        "drew target {} from {} to {} (seed {seed})",
        target.describe(),
        rfc3339(chosen.stop),
        humantime::format_rfc3339_micros(commit)
    ));
    Ok(target)
}

/// Where replay stopped, and the data-loss window it means.
async fn record_replay(
    pg: &tokio_postgres::Client,
    request: &Request<'_>,
    target: &Target,
    chosen: &catalog::Backup,
    newest: Option<&(String, Option<SystemTime>)>,
    evidence: &mut Evidence,
) -> Result<()> {
    let row = pg
        .query_one(
            "SELECT to_char(pg_last_xact_replay_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
                    extract(epoch FROM pg_last_xact_replay_timestamp())::float8, \
                    pg_last_wal_replay_lsn()::text, \
                    pg_walfile_name(pg_last_wal_replay_lsn())",
            &[],
        )
        .await
        .map_err(|e| Error::new(format!("cannot read the restored server's replay position: {e}")))?;
    evidence.recovered_to = row.get(0);
    let recovered_epoch: Option<f64> = row.get(1);
    evidence.replayed_lsn = row.get(2);
    evidence.replayed_segment = row.get(3);
    let window = data_loss_window(
        target,
        recovered_epoch,
        chosen.stop,
        evidence.replayed_segment.as_deref(),
        newest.map(|(n, t)| (n.as_str(), *t)),
    );
    evidence.data_loss_window_seconds = window;
    evidence.rpo_met = window.map(|w| w <= request.backup.rpo.as_secs_f64());
    // `latest` promotes wherever the archive stops answering: short of the
    // newest archived segment, a segment in between is missing.
    if let (Target::Latest, Some((newest, _)), Some(replayed)) =
        (target, newest, evidence.replayed_segment.as_deref())
    {
        if replayed.get(8..) < newest.get(8..) {
            return Err(Error::new(format!(
                "replay stopped in segment `{replayed}`, short of the newest archived segment `{newest}`: the archive lacks a segment after it, so no later point is reachable from backup `{}`",
                chosen.name
            ))
            .hint("`dbops drift --deep` names the gap (`backup.health.wal_chain`); take a new full backup to start an unbroken chain"));
        }
    }
    Ok(())
}

/// WAL-G's recovery settings, the throwaway settings, and the files the
/// server needs that a backup of a packaged install may lack.
fn prepare_data_directory(
    cluster: &Cluster,
    tool: BackupTool,
    target: &Target,
    port: u16,
    controldata: &str,
    extra: Vec<(String, String)>,
) -> Result<()> {
    let layout = &cluster.layout;
    let data = layout.data();
    let major = std::fs::read_to_string(data.join("PG_VERSION"))
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .unwrap_or(0);
    let conf = data.join("postgresql.conf");
    if !conf.exists() {
        cluster.write(
            &conf,
            "# dbops restore-test: the backup held no postgresql.conf\n",
        )?;
    }
    let mut settings = tool::recovery(tool, layout, target);
    settings.extend(tool::control_parameters(controldata));
    settings.extend(tool::throwaway(layout, port, major));
    settings.extend(extra);
    cluster.append(
        &data.join("postgresql.auto.conf"),
        &tool::auto_conf(&settings),
    )?;
    if tool == BackupTool::WalG {
        cluster.write(&data.join("recovery.signal"), "")?;
    }
    cluster.write(&layout.hba(), tool::HBA)?;
    cluster.write(&layout.ident(), "")?;
    Ok(())
}

/// The restored data directory's major version against the binaries'.
fn check_major_version(data: &std::path::Path, postgres_version: &str) -> Result<()> {
    let restored = std::fs::read_to_string(data.join("PG_VERSION")).map_err(|e| {
        Error::new(format!(
            "the fetched backup has no readable `PG_VERSION`: {e}"
        ))
    })?;
    let restored = restored.trim();
    // `postgres (PostgreSQL) 15.10 (Debian 15.10-1.pgdg120+1)`: the word
    // after `(PostgreSQL)`, up to its first dot (or letters, as in `17beta1`).
    let binaries: String = postgres_version
        .split_whitespace()
        .skip_while(|w| *w != "(PostgreSQL)")
        .nth(1)
        .unwrap_or_default()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    if restored != binaries.as_str() {
        return Err(Error::new(format!(
            "the backup is of PostgreSQL {restored}, but the binaries are {binaries} (`{postgres_version}`)"
        ))
        .hint(format!("set `[restore_test] pg_bindir` to PostgreSQL {restored}'s bin directory")));
    }
    Ok(())
}

/// See [`DATA_LOSS_DEFINITION`]. Pure.
pub(crate) fn data_loss_window(
    target: &Target,
    recovered_epoch: Option<f64>,
    backup_stop: SystemTime,
    replayed_segment: Option<&str>,
    newest: Option<(&str, Option<SystemTime>)>,
) -> Option<f64> {
    match target {
        Target::Immediate => None,
        Target::Time(_) => Some(0.0),
        Target::Latest => {
            let Some((newest_name, archived_at)) = newest else {
                return Some(0.0);
            };
            // Timelines aside, replay reached the newest segment's position.
            let reached = replayed_segment.is_some_and(|s| s.get(8..) >= newest_name.get(8..));
            if reached {
                return Some(0.0);
            }
            let stop = backup_stop
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs_f64();
            let recovered = recovered_epoch.unwrap_or(0.0).max(stop);
            let archived = archived_at?
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs_f64();
            Some((archived - recovered).max(0.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_major_version_is_compared_with_the_backups() {
        let dir = std::env::temp_dir().join(format!("dbops-pgversion-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("PG_VERSION"), "15\n").unwrap();
        assert!(check_major_version(
            &dir,
            "postgres (PostgreSQL) 15.10 (Debian 15.10-1.pgdg120+1)"
        )
        .is_ok());
        assert!(check_major_version(&dir, "postgres (PostgreSQL) 15.4").is_ok());
        let error = check_major_version(&dir, "postgres (PostgreSQL) 16beta1").unwrap_err();
        assert_eq!(
            error.message(),
            "the backup is of PostgreSQL 15, but the binaries are 16 (`postgres (PostgreSQL) 16beta1`)"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn at(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(s)
    }

    #[test]
    fn the_data_loss_window_is_zero_when_replay_reached_the_archive_end() {
        let newest = Some(("000000010000000000000007", Some(at(1_000))));
        // Replayed into the newest segment (on a new timeline after promotion too).
        assert_eq!(
            data_loss_window(
                &Target::Latest,
                Some(500.0),
                at(100),
                Some("000000020000000000000007"),
                newest
            ),
            Some(0.0)
        );
        // An idle server: the last commit long before the archive end, nothing lost.
        assert_eq!(
            data_loss_window(
                &Target::Latest,
                Some(10.0),
                at(100),
                Some("000000010000000000000007"),
                newest
            ),
            Some(0.0)
        );
        // Replay stopped two segments short: from the newest recovered commit to the archive end.
        assert_eq!(
            data_loss_window(
                &Target::Latest,
                Some(700.0),
                at(100),
                Some("000000010000000000000005"),
                newest
            ),
            Some(300.0)
        );
        // No commit replayed after the backup: counted from the backup's end.
        assert_eq!(
            data_loss_window(
                &Target::Latest,
                None,
                at(900),
                Some("000000010000000000000005"),
                newest
            ),
            Some(100.0)
        );
        assert_eq!(
            data_loss_window(&Target::Time(at(5)), None, at(1), None, newest),
            Some(0.0)
        );
        assert_eq!(
            data_loss_window(&Target::Immediate, None, at(1), None, newest),
            None
        );
    }
}
