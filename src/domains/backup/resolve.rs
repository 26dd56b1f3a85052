//! `[backup]` resolved: the tool, retention, health thresholds, the rendered
//! sidecar files, and the cross-checks against the bucket it names.

use std::path::PathBuf;
use std::time::Duration;

use super::archive::default_archive_command;
use super::desired::{BackupTool, DesiredBackup, Place, Repository, Retention};
use super::lint::lint;
use super::raw::{Compression, RawBackup};
use super::render;
use crate::contract::facts::DeclaredBuckets;
use crate::diagnostics::{Key, Resolver, UnknownParams};
use crate::drill::settings::{restore_test, RawRestoreTest};
use crate::dsn::Dsn;
use crate::error::Result;
use crate::managed_files::grammar::{self, FieldError, Rendered};
use crate::managed_files::{DesiredFile, Redaction};
use crate::s3::BucketSpec;
use crate::util::durations;
use crate::util::owner::resolve_owner;

fn duration(key: &Key<'_>, text: Option<&str>, default: Duration) -> Result<Duration> {
    match text {
        None => Ok(default),
        Some(text) => durations::parse(text, false)
            .map_err(|why| key.error(why).hint("write e.g. `26h`, `35d` or `10m`")),
    }
}

/// `[backup.retention]`, or the deprecated `full_backups` x
/// `full_backup_interval` and `wal_days` mapped onto it with a warning.
fn retention(raw: &RawBackup, r: &mut Resolver<'_>) -> Result<Retention> {
    let deprecated = [
        ("full_backups", raw.full_backups.is_some()),
        ("full_backup_interval", raw.full_backup_interval.is_some()),
        ("wal_days", raw.wal_days.is_some()),
    ];
    if let Some(retention) = &raw.retention {
        if let Some((name, _)) = deprecated.iter().find(|(_, set)| *set) {
            return Err(r
                .key(&["backup", name])
                .error("cannot be combined with `[backup.retention]`")
                .hint("delete it; `[backup.retention]` says it all"));
        }
        let policy = Retention {
            daily: retention.daily.unwrap_or(7),
            weekly: retention.weekly.unwrap_or(4),
            monthly: retention.monthly.unwrap_or(0),
            wal_days: retention.wal_days.unwrap_or(30),
        };
        if policy.span_days() == 0 {
            return Err(r
                .key(&["backup", "retention"])
                .error("keeps no full backup: `daily`, `weekly` and `monthly` are all 0")
                .hint("keep at least one series, e.g. `daily = 7`"));
        }
        return Ok(policy);
    }
    let count = raw.full_backups.unwrap_or(7);
    if count == 0 {
        return Err(r
            .key(&["backup", "full_backups"])
            .error("must keep at least one full backup"));
    }
    let interval = duration(
        &r.key(&["backup", "full_backup_interval"]),
        raw.full_backup_interval.as_deref(),
        Duration::from_secs(86_400),
    )?;
    let days = interval.as_secs().div_ceil(86_400).max(1) as u32;
    let mut policy = Retention {
        daily: 0,
        weekly: 0,
        monthly: 0,
        wal_days: 0,
    };
    match days {
        7 => policy.weekly = count,
        30 => policy.monthly = count,
        _ => policy.daily = count.saturating_mul(days),
    }
    policy.wal_days = raw.wal_days.unwrap_or(policy.span_days());
    for (name, set) in deprecated {
        if set {
            r.warn(r.key(&["backup", name]).warning(format!(
                "`backup.{name}` is deprecated; write `[backup.retention]` with `daily = {}`, `weekly = {}`, `monthly = {}` and `wal_days = {}`",
                policy.daily, policy.weekly, policy.monthly, policy.wal_days
            )));
        }
    }
    Ok(policy)
}

/// `wal_chain_state`: an absolute path without control characters.
fn check_state_path(raw: &RawBackup, r: &Resolver<'_>) -> Result<Option<PathBuf>> {
    let Some(path) = &raw.wal_chain_state else {
        return Ok(None);
    };
    let key = r.key(&["backup", "wal_chain_state"]);
    if path.chars().any(char::is_control) {
        return Err(key.error("holds a control character"));
    }
    if !std::path::Path::new(path).is_absolute() {
        return Err(key
            .error(format!("`{path}` is not an absolute path"))
            .hint("a scheduled drift starts in a directory of its scheduler's choosing; write e.g. `/var/lib/dbops/wal-chain.json`"));
    }
    Ok(Some(PathBuf::from(path)))
}

/// `[[backup.repositories]]`: pgBackRest only, each a declared bucket or
/// an absolute directory, each in a place of its own.
fn check_repositories(
    raw: &RawBackup,
    tool: BackupTool,
    buckets: &[BucketSpec],
    r: &Resolver<'_>,
) -> Result<Vec<Repository>> {
    let Some(list) = &raw.repositories else {
        return Ok(Vec::new());
    };
    if tool == BackupTool::WalG && !list.is_empty() {
        return Err(r
            .key(&["backup", "repositories"])
            .error("WAL-G writes to one storage per env file (`WALG_S3_PREFIX`): it cannot keep a second copy")
            .hint("use `tool = \"pgbackrest\"` (its `repo2`...), or copy the bucket with the storage's own replication and watch that copy with a second dbops.toml"));
    }
    if list.len() > 255 {
        return Err(r
            .key(&["backup", "repositories"])
            .error("pgBackRest numbers repositories 1 to 256: at most 255 here"));
    }
    let mut out: Vec<Repository> = Vec::new();
    let mut places = vec![(
        raw.bucket.clone().unwrap_or_default(),
        raw.prefix
            .clone()
            .unwrap_or_default()
            .trim_matches('/')
            .to_string(),
    )];
    for (index, repo) in list.iter().enumerate() {
        let i = index.to_string();
        let key = |name: &str| r.key(&["backup", "repositories", &i, name]);
        let place = match (&repo.bucket, &repo.path) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(r
                    .key(&["backup", "repositories", &i])
                    .error("names a `bucket` or a `path`, exactly one")
                    .hint("write `bucket = \"NAME\"` for a declared `[bucket.NAME]`, or `path = \"/srv/pgbackrest\"` for a directory"))
            }
            (Some(name), None) => {
                let bucket = buckets.iter().find(|b| &b.name == name).ok_or_else(|| {
                    key("bucket")
                        .error(format!("`{name}` has no `[bucket.{name}]` table"))
                        .hint(format!(
                            "declare `[bucket.{name}]` with its endpoint and credentials"
                        ))
                })?;
                Place::Bucket {
                    bucket: Box::new(bucket.clone()),
                    prefix: repo
                        .prefix
                        .clone()
                        .unwrap_or_default()
                        .trim_matches('/')
                        .to_string(),
                    tool_endpoint: repo.tool_endpoint.clone(),
                    ca_file: repo.ca_file.clone(),
                }
            }
            (None, Some(path)) => {
                for (name, set) in [
                    ("prefix", repo.prefix.is_some()),
                    ("tool_endpoint", repo.tool_endpoint.is_some()),
                    ("ca_file", repo.ca_file.is_some()),
                ] {
                    if set {
                        return Err(key(name)
                            .error("is for a repository in a bucket; this one is a `path`"));
                    }
                }
                if path.chars().any(char::is_control) {
                    return Err(key("path").error("holds a control character"));
                }
                let dir = std::path::Path::new(path);
                if !dir.is_absolute() || path.trim_end_matches('/').is_empty() {
                    return Err(key("path")
                        .error(format!("`{path}` is not an absolute directory below `/`"))
                        .hint("write e.g. `/srv/pgbackrest`"));
                }
                Place::Directory(PathBuf::from(path.trim_end_matches('/')))
            }
        };
        let here = match &place {
            Place::Bucket { bucket, prefix, .. } => (bucket.name.clone(), prefix.clone()),
            Place::Directory(dir) => (String::new(), dir.display().to_string()),
        };
        if let Some(n) = places.iter().position(|p| *p == here) {
            return Err(r
                .key(&["backup", "repositories", &i])
                .error(format!(
                    "is where repository {} already is: two repositories in one place are one copy",
                    n + 1
                ))
                .hint("give each repository its own bucket, prefix or directory"));
        }
        places.push(here);
        out.push(Repository {
            number: index as u32 + 2,
            place,
        });
    }
    Ok(out)
}

/// Resolves `[backup]` (and `[restore_test]`), each rule a `check_*`
/// reporting into `r`, so `validate` lists every problem; `None` after any.
pub(crate) fn resolve(
    raw: &RawBackup,
    raw_test: Option<&RawRestoreTest>,
    buckets: &DeclaredBuckets,
    r: &mut Resolver<'_>,
) -> Option<DesiredBackup> {
    let tool = raw.tool.unwrap_or(BackupTool::WalG);
    // A table declared with a bad value has its own error: not "missing" too.
    let bucket = match &raw.bucket {
        Some(name) if buckets.invalid.contains(name) => None,
        _ => r.check(check_bucket(raw, &buckets.valid, r)),
    };
    let times = r.check(check_times(raw, raw_test, r));
    let policy = retention(raw, r);
    let retention = r.check(policy);
    let restore_test = r.check(restore_test(raw_test, r));
    let connection = r.check(check_connection(raw, r));
    let owner = r.check(check_file_owner(raw, r));
    let files = match &bucket {
        Some(bucket) => r.check(check_file_keys(tool, raw, bucket.is_some(), r)),
        None => None,
    };
    let wal_chain_state = r.check(check_state_path(raw, r));
    let repositories = r.check(check_repositories(raw, tool, &buckets.valid, r));
    if tool == BackupTool::WalG && raw_test.and_then(|t| t.annotate) == Some(true) {
        r.error(
            r.key(&["restore_test", "annotate"])
                .error("marks the backup with `pgbackrest annotate`; WAL-G has no annotation of a backup")
                .hint("leave it out: the evidence in the bucket is the record of the drill"),
        );
    }
    let stanza = raw.stanza.clone().unwrap_or_else(|| "main".to_string());
    let times = times?;
    let mut backup = DesiredBackup {
        tool,
        rpo: times.rpo,
        bucket: bucket?.cloned(),
        prefix: raw
            .prefix
            .clone()
            .unwrap_or_default()
            .trim_matches('/')
            .to_string(),
        archive_command: raw.archive_command.clone().unwrap_or_else(|| {
            let config = match tool {
                BackupTool::PgBackRest => raw.config_file.as_deref(),
                BackupTool::WalG => raw.env_file.as_deref(),
            };
            default_archive_command(tool, &stanza, config)
        }),
        stanza,
        retention: retention?,
        rto: times.rto,
        max_wal_age: times.max_wal_age,
        max_base_backup_age: times.max_base_backup_age,
        restore_test_max_age: times.restore_test_max_age,
        restore_test_grace: times.restore_test_grace,
        incomplete_backup_grace: times.incomplete_backup_grace,
        wal_chain_state: wal_chain_state?,
        restore_test: restore_test?,
        files: Vec::new(),
        repositories: repositories?,
        tool_config: None,
    };
    files?;
    let owner = owner?;
    let rendered = render_tool_config(raw, &backup, connection?.as_ref(), r);
    if let Some((content, redaction, path)) = r.check(rendered)? {
        backup.tool_config = Some(content.content.clone());
        if let Some(path) = path {
            backup
                .files
                .push(managed_file(&path, content, redaction, owner));
        }
    }
    report_lints(&backup, r);
    Some(backup)
}

/// The declared `[bucket.NAME]` the backups go to.
fn check_bucket<'a>(
    raw: &RawBackup,
    buckets: &'a [BucketSpec],
    r: &Resolver<'_>,
) -> Result<Option<&'a BucketSpec>> {
    let Some(name) = &raw.bucket else {
        return Ok(None);
    };
    buckets
        .iter()
        .find(|b| &b.name == name)
        .map(Some)
        .ok_or_else(|| {
            r.key(&["backup", "bucket"])
                .error(format!("`{name}` has no `[bucket.{name}]` table"))
                .hint(format!(
                    "declare `[bucket.{name}]` with its endpoint and credentials"
                ))
        })
}

/// The RPO, RTO and health thresholds.
struct Times {
    rpo: Duration,
    rto: Duration,
    max_wal_age: Duration,
    max_base_backup_age: Duration,
    restore_test_max_age: Option<Duration>,
    restore_test_grace: Duration,
    incomplete_backup_grace: Duration,
}

fn check_times(
    raw: &RawBackup,
    raw_test: Option<&RawRestoreTest>,
    r: &Resolver<'_>,
) -> Result<Times> {
    let key = |name: &str| r.key(&["backup", name]);
    let rpo = duration(&key("rpo"), Some(&raw.rpo), Duration::ZERO)?;
    Ok(Times {
        rpo,
        rto: duration(&key("rto"), raw.rto.as_deref(), Duration::from_secs(3600))?,
        max_wal_age: duration(&key("max_wal_age"), raw.max_wal_age.as_deref(), rpo * 2)?,
        max_base_backup_age: duration(
            &key("max_base_backup_age"),
            raw.max_base_backup_age.as_deref(),
            Duration::from_secs(26 * 3600),
        )?,
        restore_test_max_age: match (&raw.restore_test_max_age, raw_test) {
            (None, None) => None,
            (None, Some(_)) => Some(Duration::from_secs(35 * 86_400)),
            (Some(text), _) => Some(duration(
                &key("restore_test_max_age"),
                Some(text),
                Duration::ZERO,
            )?),
        },
        restore_test_grace: duration(
            &key("restore_test_grace"),
            raw.restore_test_grace.as_deref(),
            Duration::from_secs(7 * 86_400),
        )?,
        incomplete_backup_grace: duration(
            &key("incomplete_backup_grace"),
            raw.incomplete_backup_grace.as_deref(),
            Duration::from_secs(3600),
        )?,
    })
}

/// The sidecar's own connection, when declared.
fn check_connection(raw: &RawBackup, r: &Resolver<'_>) -> Result<Option<Dsn>> {
    raw.connection
        .as_ref()
        .map(|reference| {
            r.key(&["backup", "connection"])
                .dsn(reference, UnknownParams::Refused)
                .map(|(dsn, _)| dsn)
        })
        .transpose()
}

fn check_file_owner(raw: &RawBackup, r: &Resolver<'_>) -> Result<Option<(u32, u32, String)>> {
    let Some(text) = &raw.file_owner else {
        return Ok(None);
    };
    let (uid, gid) =
        resolve_owner(text).map_err(|why| r.key(&["backup", "file_owner"]).error(why))?;
    Ok(Some((uid, gid, text.clone())))
}

/// Each tool takes its own kind of file, and rendering one needs the bucket.
fn check_file_keys(
    tool: BackupTool,
    raw: &RawBackup,
    has_bucket: bool,
    r: &Resolver<'_>,
) -> Result<()> {
    let key = |name: &str| r.key(&["backup", name]);
    let needs_bucket = |name: &str| {
        key(name).error("rendering it needs `backup.bucket`, a declared `[bucket.NAME]`")
    };
    match (tool, &raw.env_file, &raw.config_file) {
        (BackupTool::WalG, _, Some(_)) => {
            Err(key("config_file").error("is for pgBackRest; WAL-G takes `env_file`"))
        }
        (BackupTool::PgBackRest, Some(_), _) => {
            Err(key("env_file").error("is for WAL-G; pgBackRest takes `config_file`"))
        }
        (_, Some(_), _) if !has_bucket => Err(needs_bucket("env_file")),
        (_, _, Some(_)) if !has_bucket => Err(needs_bucket("config_file")),
        _ => Ok(()),
    }
}

/// The tool's configuration, rendered from the bucket; a value no file can
/// carry is refused here, naming its key. `None` without a bucket.
fn render_tool_config(
    raw: &RawBackup,
    backup: &DesiredBackup,
    connection: Option<&Dsn>,
    r: &Resolver<'_>,
) -> Result<Option<(Rendered, Redaction, Option<String>)>> {
    let Some(bucket) = &backup.bucket else {
        return Ok(None);
    };
    let endpoint = match (&raw.tool_endpoint, &bucket.endpoint) {
        (Some(e), _) => Some((e.as_str(), grammar::path(&["backup", "tool_endpoint"]))),
        (None, Some(e)) => Some((
            e.as_str(),
            grammar::path(&["bucket", &bucket.name, "endpoint"]),
        )),
        (None, None) => None,
    };
    let sidecar = connection.map(|dsn| render::Sidecar {
        dsn,
        key: grammar::path(&["backup", "connection"]),
    });
    let (result, redaction, path) = match backup.tool {
        BackupTool::WalG => (
            render::walg_env(&render::WalG {
                bucket,
                endpoint,
                ca_file: raw.ca_file.as_deref(),
                prefix: &backup.prefix,
                compression: raw.compression.unwrap_or(Compression::Lz4).as_str(),
                retain_days: backup.retention.keep_days(),
                sidecar: sidecar.as_ref(),
            }),
            render::WALG_REDACTION,
            &raw.env_file,
        ),
        BackupTool::PgBackRest => (
            render::pgbackrest_conf(&render::PgBackRest {
                bucket,
                endpoint,
                ca_file: raw.ca_file.as_deref(),
                prefix: &backup.prefix,
                stanza: &backup.stanza,
                retention: &backup.retention,
                pg_data: raw.pg_data.as_deref().unwrap_or("/var/lib/postgresql/data"),
                sidecar: sidecar.as_ref(),
                repositories: &backup.repositories,
            }),
            render::PGBACKREST_REDACTION,
            &raw.config_file,
        ),
    };
    let rendered = result.map_err(|errors: Vec<FieldError>| {
        let first = &errors[0];
        let path: Vec<&str> = first.path.iter().map(String::as_str).collect();
        r.key(&path).error(first.message.clone())
    })?;
    Ok(Some((rendered, redaction, path.clone())))
}

fn managed_file(
    path: &str,
    rendered: Rendered,
    redaction: Redaction,
    owner: Option<(u32, u32, String)>,
) -> DesiredFile {
    DesiredFile {
        address: super::ID
            .address()
            .word("file")
            .file(std::path::Path::new(path)),
        path: PathBuf::from(path),
        content: rendered.content,
        mode: 0o600,
        owner,
        redaction,
        carried: rendered.entries,
    }
}

/// The bucket's lifecycle and properties checked against the backups.
fn report_lints(backup: &DesiredBackup, r: &mut Resolver<'_>) {
    let copies = backup
        .repositories
        .iter()
        .filter_map(|repo| match &repo.place {
            Place::Bucket { bucket, .. } => Some((repo.view(backup), bucket.as_ref().clone())),
            Place::Directory(_) => None,
        });
    let first = backup.bucket.clone().map(|b| (backup.clone(), b));
    for (view, bucket) in first.into_iter().chain(copies) {
        report_bucket_lints(&view, &bucket, r);
    }
}

fn report_bucket_lints(backup: &DesiredBackup, bucket: &BucketSpec, r: &mut Resolver<'_>) {
    let bucket_key = r.key(&["bucket", &bucket.name]);
    for found in lint(backup, bucket) {
        if found.error {
            r.error(
                bucket_key
                    .error(found.message)
                    .hint("fix the lifecycle rule or the retention"),
            );
        } else {
            r.warn(bucket_key.warning(found.message));
        }
    }
}
