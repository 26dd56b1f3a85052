//! `[backup]` resolved: the tool, retention, health thresholds, the rendered
//! sidecar files, and the cross-checks against the bucket it names.

use std::path::PathBuf;
use std::time::Duration;

use super::archive::default_archive_command;
use super::desired::{BackupTool, Check, DesiredBackup, Expectation, RestoreTest, Retention};
use super::lint::lint;
use super::raw::{Compression, RawBackup, RawRestoreTest};
use super::render;
use crate::diagnostics::{Key, Resolver};
use crate::error::Result;
use crate::managed_files::grammar::{self, FieldError, Rendered};
use crate::managed_files::DesiredFile;
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

fn restore_test(raw: Option<&RawRestoreTest>, r: &Resolver<'_>) -> Result<RestoreTest> {
    let Some(raw) = raw else {
        return Ok(RestoreTest {
            os_user: "postgres".into(),
            ..RestoreTest::default()
        });
    };
    let mut checks = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for (i, check) in raw.checks.iter().enumerate() {
        let index = i.to_string();
        let key = |name: &str| r.key(&["restore_test", "checks", &index, name]);
        if !names.insert(check.name.clone()) {
            return Err(key("name").error(format!(
                "check `{}` is declared twice; evidence names each check once",
                check.name
            )));
        }
        if check.sql.trim().is_empty() {
            return Err(key("sql").error("is empty"));
        }
        let expect = match (check.min_rows, &check.equals) {
            (Some(n), None) => Expectation::MinRows(n),
            (None, Some(value)) => Expectation::Equals(value.clone()),
            (None, None) => {
                return Err(key("name")
                    .error(format!("check `{}` has no expectation", check.name))
                    .hint("add `min_rows = N` or `equals = \"VALUE\"`"))
            }
            (Some(_), Some(_)) => {
                return Err(key("equals")
                    .error(format!(
                        "check `{}` has both `min_rows` and `equals`",
                        check.name
                    ))
                    .hint("keep one expectation per check"))
            }
        };
        checks.push(Check {
            name: check.name.clone(),
            database: check.database.clone(),
            sql: check.sql.clone(),
            expect,
        });
    }
    if let Some(dir) = &raw.work_dir {
        // It goes into `unix_socket_directories`, a comma-separated list, and
        // into postgresql.auto.conf, which has no escape for a line break.
        if dir.chars().any(|c| c.is_control() || c == ',') {
            return Err(r
                .key(&["restore_test", "work_dir"])
                .error("holds a comma or a control character, which PostgreSQL's `unix_socket_directories` cannot carry")
                .hint("choose a plain directory path"));
        }
    }
    if raw.port == Some(0) {
        return Err(r
            .key(&["restore_test", "port"])
            .error("must be between 1 and 65535")
            .hint("leave it out to use a free port"));
    }
    Ok(RestoreTest {
        pg_bindir: raw.pg_bindir.as_ref().map(PathBuf::from),
        os_user: raw.os_user.clone().unwrap_or_else(|| "postgres".into()),
        work_dir: raw.work_dir.as_ref().map(PathBuf::from),
        port: raw.port,
        checks,
    })
}

pub(crate) fn resolve(
    raw: &RawBackup,
    raw_test: Option<&RawRestoreTest>,
    buckets: &[BucketSpec],
    r: &mut Resolver<'_>,
) -> Result<DesiredBackup> {
    let key = |name: &str| r.key(&["backup", name]);
    let tool = raw.tool.unwrap_or(BackupTool::WalG);
    let rpo = duration(&key("rpo"), Some(&raw.rpo), Duration::ZERO)?;
    let bucket = match &raw.bucket {
        None => None,
        Some(name) => Some(buckets.iter().find(|b| &b.name == name).ok_or_else(|| {
            key("bucket")
                .error(format!("`{name}` has no `[bucket.{name}]` table"))
                .hint(format!(
                    "declare `[bucket.{name}]` with its endpoint and credentials"
                ))
        })?),
    };
    let stanza = raw.stanza.clone().unwrap_or_else(|| "main".to_string());
    let archive_command = raw
        .archive_command
        .clone()
        .unwrap_or_else(|| default_archive_command(tool, &stanza));
    let retention = retention(raw, r)?;
    let key = |name: &str| r.key(&["backup", name]);
    let restore_test = restore_test(raw_test, r)?;
    let connection = match &raw.connection {
        None => None,
        Some(reference) => Some(key("connection").dsn(reference)?),
    };
    let mut backup = DesiredBackup {
        tool,
        rpo,
        bucket: bucket.cloned(),
        prefix: raw
            .prefix
            .clone()
            .unwrap_or_default()
            .trim_matches('/')
            .to_string(),
        stanza,
        archive_command,
        retention,
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
        restore_test,
        files: Vec::new(),
        tool_config: None,
    };
    let owner = match &raw.file_owner {
        None => None,
        Some(text) => {
            let (uid, gid) = resolve_owner(text).map_err(|why| key("file_owner").error(why))?;
            Some((uid, gid, text.clone()))
        }
    };
    let needs_bucket = |name: &str| {
        key(name).error("rendering it needs `backup.bucket`, a declared `[bucket.NAME]`")
    };
    let file = |path: &str, rendered: Rendered, redaction| DesiredFile {
        address: super::ID
            .address()
            .word("file")
            .file(std::path::Path::new(path)),
        path: PathBuf::from(path),
        content: rendered.content,
        mode: 0o600,
        owner: owner.clone(),
        redaction,
        carried: rendered.entries,
    };
    let endpoint = |bucket: &BucketSpec| -> Option<(String, Vec<String>)> {
        match (&raw.tool_endpoint, &bucket.endpoint) {
            (Some(e), _) => Some((e.clone(), grammar::path(&["backup", "tool_endpoint"]))),
            (None, Some(e)) => Some((
                e.clone(),
                grammar::path(&["bucket", &bucket.name, "endpoint"]),
            )),
            (None, None) => None,
        }
    };
    // A value no file can carry is refused here, naming its key.
    let rendered = |result: std::result::Result<Rendered, Vec<FieldError>>| -> Result<Rendered> {
        result.map_err(|errors| {
            let first = &errors[0];
            let path: Vec<&str> = first.path.iter().map(String::as_str).collect();
            r.key(&path).error(first.message.clone())
        })
    };
    match (tool, &raw.env_file, &raw.config_file) {
        (BackupTool::WalG, _, Some(_)) => {
            return Err(key("config_file").error("is for pgBackRest; WAL-G takes `env_file`"))
        }
        (BackupTool::PgBackRest, Some(_), _) => {
            return Err(key("env_file").error("is for WAL-G; pgBackRest takes `config_file`"))
        }
        (_, Some(_), _) if bucket.is_none() => return Err(needs_bucket("env_file")),
        (_, _, Some(_)) if bucket.is_none() => return Err(needs_bucket("config_file")),
        _ => {}
    }
    let sidecar = connection.as_ref().map(|dsn| render::Sidecar {
        dsn,
        key: grammar::path(&["backup", "connection"]),
    });
    if let Some(bucket) = bucket {
        let endpoint = endpoint(bucket);
        let (content, redaction, path) = match tool {
            BackupTool::WalG => (
                rendered(render::walg_env(&render::WalG {
                    bucket,
                    endpoint: endpoint.as_ref().map(|(e, k)| (e.as_str(), k.clone())),
                    ca_file: raw.ca_file.as_deref(),
                    prefix: &backup.prefix,
                    compression: raw.compression.unwrap_or(Compression::Lz4).as_str(),
                    retain_days: backup.retention.keep_days(),
                    sidecar: sidecar.as_ref(),
                }))?,
                render::WALG_REDACTION,
                &raw.env_file,
            ),
            BackupTool::PgBackRest => (
                rendered(render::pgbackrest_conf(&render::PgBackRest {
                    bucket,
                    endpoint: endpoint.as_ref().map(|(e, k)| (e.as_str(), k.clone())),
                    ca_file: raw.ca_file.as_deref(),
                    prefix: &backup.prefix,
                    stanza: &backup.stanza,
                    retention: &backup.retention,
                    pg_data: raw.pg_data.as_deref().unwrap_or("/var/lib/postgresql/data"),
                    sidecar: sidecar.as_ref(),
                }))?,
                render::PGBACKREST_REDACTION,
                &raw.config_file,
            ),
        };
        backup.tool_config = Some(content.content.clone());
        if let Some(path) = path {
            backup.files.push(file(path, content, redaction));
        }
    }
    if let Some(bucket) = bucket {
        let bucket_key = r.key(&["bucket", &bucket.name]);
        for found in lint(&backup, bucket) {
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
    Ok(backup)
}
