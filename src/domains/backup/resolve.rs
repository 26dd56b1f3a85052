//! `[backup]` resolved: the tool, retention, health thresholds, the rendered
//! sidecar files, and the cross-checks against the bucket it names.

use std::path::PathBuf;
use std::time::Duration;

use super::archive::default_archive_command;
use super::desired::{BackupTool, DesiredBackup};
use super::lint::lint;
use super::raw::{Compression, RawBackup};
use super::render;
use crate::diagnostics::{Key, Resolver};
use crate::domains::bucket::desired::DesiredBucket;
use crate::domains::files::grammar::{self, FieldError, Rendered};
use crate::domains::files::DesiredFile;
use crate::error::Result;
use crate::plan::Address;
use crate::util::durations;
use crate::util::owner::resolve_owner;

fn duration(key: &Key<'_>, text: Option<&str>, default: Duration) -> Result<Duration> {
    match text {
        None => Ok(default),
        Some(text) => durations::parse(text, false)
            .map_err(|why| key.error(why).hint("write e.g. `26h`, `35d` or `10m`")),
    }
}

pub fn resolve(
    raw: &RawBackup,
    buckets: &[DesiredBucket],
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
    let full_backups = raw.full_backups.unwrap_or(7);
    if full_backups == 0 {
        return Err(key("full_backups").error("must keep at least one full backup"));
    }
    let mut backup = DesiredBackup {
        tool,
        rpo,
        bucket: bucket.map(|b| b.name.clone()),
        prefix: raw
            .prefix
            .clone()
            .unwrap_or_default()
            .trim_matches('/')
            .to_string(),
        stanza,
        archive_command,
        full_backups,
        full_backup_interval: duration(
            &key("full_backup_interval"),
            raw.full_backup_interval.as_deref(),
            Duration::from_secs(86_400),
        )?,
        wal_days: raw.wal_days,
        max_wal_age: duration(&key("max_wal_age"), raw.max_wal_age.as_deref(), rpo * 2)?,
        max_base_backup_age: duration(
            &key("max_base_backup_age"),
            raw.max_base_backup_age.as_deref(),
            Duration::from_secs(26 * 3600),
        )?,
        restore_test_max_age: match &raw.restore_test_max_age {
            None => None,
            Some(text) => Some(duration(
                &key("restore_test_max_age"),
                Some(text),
                Duration::ZERO,
            )?),
        },
        files: Vec::new(),
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
        address: Address::new("backup")
            .word("file")
            .file(std::path::Path::new(path)),
        path: PathBuf::from(path),
        content: rendered.content,
        mode: 0o600,
        owner: owner.clone(),
        redaction,
        carried: rendered.entries,
    };
    let endpoint = |bucket: &DesiredBucket| -> Option<(String, Vec<String>)> {
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
        (BackupTool::WalG, Some(path), None) => {
            let bucket = bucket.ok_or_else(|| needs_bucket("env_file"))?;
            let endpoint = endpoint(bucket);
            let content = rendered(render::walg_env(&render::WalG {
                bucket,
                endpoint: endpoint.as_ref().map(|(e, k)| (e.as_str(), k.clone())),
                ca_file: raw.ca_file.as_deref(),
                prefix: &backup.prefix,
                compression: raw.compression.unwrap_or(Compression::Lz4).as_str(),
            }))?;
            backup
                .files
                .push(file(path, content, render::WALG_REDACTION));
        }
        (BackupTool::PgBackRest, None, Some(path)) => {
            let bucket = bucket.ok_or_else(|| needs_bucket("config_file"))?;
            let endpoint = endpoint(bucket);
            let content = rendered(render::pgbackrest_conf(&render::PgBackRest {
                bucket,
                endpoint: endpoint.as_ref().map(|(e, k)| (e.as_str(), k.clone())),
                ca_file: raw.ca_file.as_deref(),
                prefix: &backup.prefix,
                stanza: &backup.stanza,
                full_backups: backup.full_backups,
                pg_data: raw.pg_data.as_deref().unwrap_or("/var/lib/postgresql/data"),
            }))?;
            backup
                .files
                .push(file(path, content, render::PGBACKREST_REDACTION));
        }
        (_, None, None) => {}
        (BackupTool::WalG, _, Some(_)) => {
            return Err(key("config_file").error("is for pgBackRest; WAL-G takes `env_file`"))
        }
        (BackupTool::PgBackRest, Some(_), _) => {
            return Err(key("env_file").error("is for WAL-G; pgBackRest takes `config_file`"))
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
