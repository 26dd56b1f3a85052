//! `[backup]`: retention, thresholds, rendered sidecar files and their cross-checks.

use super::*;

pub(super) fn resolve_backup(
    raw: &RawBackup,
    buckets: &[DesiredBucket],
    source: &SourceFile,
    warnings: &mut Vec<String>,
) -> Result<DesiredBackup> {
    let tool = raw.tool.unwrap_or(BackupTool::WalG);
    let rpo = duration(&Some(raw.rpo.clone()), Duration::ZERO, "rpo", source)?;
    let bucket = match &raw.bucket {
        None => None,
        Some(name) => Some(buckets.iter().find(|b| &b.name == name).ok_or_else(|| {
            Error::new(format!(
                "key `backup.bucket`: `{name}` has no `[bucket.{name}]` table"
            ))
            .at(source.locate(&["backup", "bucket"]))
            .hint(format!(
                "declare `[bucket.{name}]` with its endpoint and credentials"
            ))
        })?),
    };
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
        stanza: raw.stanza.clone().unwrap_or_else(|| "main".to_string()),
        full_backups: raw.full_backups.unwrap_or(7).max(1),
        full_backup_interval: duration(
            &raw.full_backup_interval,
            Duration::from_secs(86_400),
            "full_backup_interval",
            source,
        )?,
        wal_days: raw.wal_days,
        max_wal_age: duration(&raw.max_wal_age, rpo * 2, "max_wal_age", source)?,
        max_base_backup_age: duration(
            &raw.max_base_backup_age,
            Duration::from_secs(26 * 3600),
            "max_base_backup_age",
            source,
        )?,
        restore_test_max_age: match &raw.restore_test_max_age {
            None => None,
            some => Some(duration(
                some,
                Duration::ZERO,
                "restore_test_max_age",
                source,
            )?),
        },
        files: Vec::new(),
    };
    let owner = match &raw.file_owner {
        None => None,
        Some(text) => {
            let (uid, gid) = resolve_owner(text).map_err(|why| {
                Error::new(format!("key `backup.file_owner`: {why}"))
                    .at(source.locate(&["backup", "file_owner"]))
            })?;
            Some((uid, gid, text.clone()))
        }
    };
    let needs_bucket = |key: &str| {
        Error::new(format!(
            "key `backup.{key}`: rendering it needs `backup.bucket`, a declared `[bucket.NAME]`"
        ))
        .at(source.locate(&["backup", key]))
    };
    let file = |path: &str, content: String| DesiredFile {
        address: format!("backup.file.{}", file_segment(path)),
        path: PathBuf::from(path),
        content,
        mode: 0o600,
        owner: owner.clone(),
        redaction: Redaction::Keys(SECRET_KEYS.iter().map(|k| k.to_string()).collect()),
    };
    match (tool, &raw.env_file, &raw.config_file) {
        (BackupTool::WalG, Some(path), None) => {
            let bucket = bucket.ok_or_else(|| needs_bucket("env_file"))?;
            let content = render::walg_env(&render::WalG {
                bucket,
                endpoint: raw.tool_endpoint.as_deref().or(bucket.endpoint.as_deref()),
                ca_file: raw.ca_file.as_deref(),
                prefix: &backup.prefix,
                compression: raw.compression.as_deref().unwrap_or("lz4"),
            });
            backup.files.push(file(path, content));
        }
        (BackupTool::PgBackRest, None, Some(path)) => {
            let bucket = bucket.ok_or_else(|| needs_bucket("config_file"))?;
            let content = render::pgbackrest_conf(&render::PgBackRest {
                bucket,
                endpoint: raw.tool_endpoint.as_deref().or(bucket.endpoint.as_deref()),
                ca_file: raw.ca_file.as_deref(),
                prefix: &backup.prefix,
                stanza: &backup.stanza,
                full_backups: backup.full_backups,
                pg_data: raw.pg_data.as_deref().unwrap_or("/var/lib/postgresql/data"),
            });
            backup.files.push(file(path, content));
        }
        (_, None, None) => {}
        (BackupTool::WalG, _, Some(_)) => {
            return Err(Error::new(
                "key `backup.config_file` is for pgBackRest; WAL-G takes `env_file`",
            )
            .at(source.locate(&["backup", "config_file"])))
        }
        (BackupTool::PgBackRest, Some(_), _) => {
            return Err(Error::new(
                "key `backup.env_file` is for WAL-G; pgBackRest takes `config_file`",
            )
            .at(source.locate(&["backup", "env_file"])))
        }
    }
    if let Some(bucket) = bucket {
        for lint in backup_lint(&backup, bucket) {
            let at = source.locate(&["bucket", &bucket.name]);
            if lint.error {
                return Err(Error::new(lint.message)
                    .at(at)
                    .hint("fix the lifecycle rule or the retention"));
            }
            let prefix = at.map(|l| format!("{l}: ")).unwrap_or_default();
            warnings.push(format!("{prefix}{}", lint.message));
        }
    }
    Ok(backup)
}
