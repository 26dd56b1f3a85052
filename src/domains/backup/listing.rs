//! Reading the backup bucket the way each tool lays it out: whether one WAL
//! segment is there, the newest segment, the full backups with their times,
//! and restore-test evidence. Keys and timestamps only, except evidence
//! files, which are small and must be read to count. Every read is counted,
//! so a benchmark can hold the WAL check to at most three requests whatever
//! the history kept.
//!
//! WAL segment names sort by timeline and position, so the presence of a
//! known segment is one listing whose prefix is its name (WAL-G:
//! `wal_005/<segment>.<ext>`; pgBackRest:
//! `archive/<stanza>/<version>-<id>/<first 16>/<segment>-<sha1>.<ext>`, one
//! more listing to find the newest `<version>-<id>`).

use std::time::SystemTime;

use aws_sdk_s3::Client;

use super::desired::{BackupTool, DesiredBackup};
use super::dir_store::DirStore;
use crate::error::Result;
use crate::s3::client::{classify, failure_error, Failure};
use crate::s3::BucketSpec;

fn to_system_time(t: &aws_sdk_s3::primitives::DateTime) -> Option<SystemTime> {
    SystemTime::try_from(*t).ok()
}

/// `(key, LastModified)`.
pub(crate) type Object = (String, Option<SystemTime>);

pub(crate) struct Lister<'a> {
    store: Store<'a>,
    pub(crate) requests: usize,
}

/// Where the repository lies: a bucket, or a directory (a pgBackRest
/// `posix` repository, `[[backup.repositories]] path`).
enum Store<'a> {
    S3 { s3: Client, bucket: &'a BucketSpec },
    Dir(DirStore),
}

/// True for a WAL segment file name: 24 hexadecimal digits.
pub(crate) fn is_segment(name: &str) -> bool {
    name.len() == 24 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

impl<'a> Lister<'a> {
    pub(crate) fn new(s3: Client, bucket: &'a BucketSpec) -> Self {
        Self {
            store: Store::S3 { s3, bucket },
            requests: 0,
        }
    }

    /// A lister over a directory laid out as the bucket would be: each
    /// "request" is a read of the directory (listed once, then kept).
    pub(crate) fn directory(root: &std::path::Path) -> Self {
        Self {
            store: Store::Dir(DirStore::new(root)),
            requests: 0,
        }
    }

    /// One page: up to `max` keys under `prefix`, after `start_after`.
    pub(crate) async fn page(
        &mut self,
        prefix: &str,
        start_after: Option<&str>,
        max: i32,
    ) -> Result<Vec<Object>> {
        self.requests += 1;
        let (s3, bucket) = match &mut self.store {
            Store::Dir(dir) => return dir.page(prefix, start_after, max as usize),
            Store::S3 { s3, bucket } => (s3, *bucket),
        };
        let out = s3
            .list_objects_v2()
            .bucket(&bucket.name)
            .prefix(prefix)
            .set_start_after(start_after.map(str::to_string))
            .max_keys(max)
            .send()
            .await
            .map_err(|e| failure_error(bucket, "ListObjectsV2", None, classify(&e)))?;
        Ok(out
            .contents()
            .iter()
            .map(|o| {
                (
                    o.key().unwrap_or_default().to_string(),
                    o.last_modified().and_then(to_system_time),
                )
            })
            .collect())
    }

    /// Every key under `prefix`, page by page.
    pub(crate) async fn all(&mut self, prefix: &str) -> Result<Vec<Object>> {
        self.all_after(prefix, None).await
    }

    /// Every key under `prefix` after `start_after` (S3 orders keys by
    /// their bytes), page by page.
    pub(crate) async fn all_after(
        &mut self,
        prefix: &str,
        start_after: Option<&str>,
    ) -> Result<Vec<Object>> {
        let (s3, bucket) = match &mut self.store {
            Store::Dir(dir) => {
                self.requests += 1;
                return dir.page(prefix, start_after, usize::MAX);
            }
            Store::S3 { s3, bucket } => (s3.clone(), *bucket),
        };
        let mut objects = Vec::new();
        let mut token = None;
        loop {
            let out = s3
                .list_objects_v2()
                .bucket(&bucket.name)
                .prefix(prefix)
                .max_keys(1000)
                .set_start_after(start_after.map(str::to_string))
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| failure_error(bucket, "ListObjectsV2", None, classify(&e)))?;
            self.requests += 1;
            objects.extend(out.contents().iter().map(|o| {
                (
                    o.key().unwrap_or_default().to_string(),
                    o.last_modified().and_then(to_system_time),
                )
            }));
            match out.next_continuation_token() {
                Some(next) if out.is_truncated() == Some(true) => token = Some(next.to_string()),
                _ => return Ok(objects),
            }
        }
    }

    /// One delimiter listing: (objects, sub-prefixes), the first 1,000 of each.
    pub(crate) async fn level(&mut self, prefix: &str) -> Result<(Vec<Object>, Vec<String>)> {
        self.requests += 1;
        let (s3, bucket) = match &mut self.store {
            Store::Dir(dir) => return dir.level(prefix),
            Store::S3 { s3, bucket } => (s3, *bucket),
        };
        let out = s3
            .list_objects_v2()
            .bucket(&bucket.name)
            .prefix(prefix)
            .delimiter("/")
            .send()
            .await
            .map_err(|e| failure_error(bucket, "ListObjectsV2", None, classify(&e)))?;
        let objects = out
            .contents()
            .iter()
            .map(|o| {
                (
                    o.key().unwrap_or_default().to_string(),
                    o.last_modified().and_then(to_system_time),
                )
            })
            .collect();
        let prefixes = out
            .common_prefixes()
            .iter()
            .filter_map(|p| p.prefix().map(str::to_string))
            .collect();
        Ok((objects, prefixes))
    }

    /// The body of one small object, or `None` when there is no such key.
    pub(crate) async fn read_optional(&mut self, key: &str) -> Result<Option<Vec<u8>>> {
        self.requests += 1;
        let (s3, bucket) = match &mut self.store {
            Store::Dir(dir) => return dir.read(key, None).map(|r| r.map(|(bytes, _)| bytes)),
            Store::S3 { s3, bucket } => (s3, *bucket),
        };
        let out = match s3.get_object().bucket(&bucket.name).key(key).send().await {
            Ok(out) => out,
            Err(e) => {
                return match classify(&e) {
                    Failure::Missing(_) => Ok(None),
                    failure => Err(failure_error(bucket, "GetObject", None, failure)),
                };
            }
        };
        let bytes = out.body.collect().await.map_err(|e| {
            crate::error::Error::new(format!(
                "reading `{key}` from bucket `{}`: {e}",
                bucket.name
            ))
        })?;
        Ok(Some(bytes.into_bytes().to_vec()))
    }

    /// The body of one object of at most `cap` bytes, never more read: a
    /// ranged request for the first `cap + 1` bytes, whose answer says the
    /// object's size. `TooLarge` when it is larger.
    pub(crate) async fn read_capped(&mut self, key: &str, cap: u64) -> Result<Capped> {
        self.requests += 1;
        let (s3, bucket) = match &mut self.store {
            Store::Dir(dir) => {
                return match dir.read(key, Some(cap))? {
                    Some((_, size)) if size > cap => Ok(Capped::TooLarge(size)),
                    Some((bytes, _)) => Ok(Capped::Body(bytes)),
                    None => Err(crate::error::Error::new(format!(
                        "`{key}` is not in the repository directory"
                    ))),
                };
            }
            Store::S3 { s3, bucket } => (s3, *bucket),
        };
        let out = s3
            .get_object()
            .bucket(&bucket.name)
            .key(key)
            .range(format!("bytes=0-{cap}"))
            .send()
            .await;
        let out = out.map_err(|e| failure_error(bucket, "GetObject", None, classify(&e)))?;
        // `Content-Range: bytes 0-N/TOTAL`; without it, the whole object came.
        let total = out
            .content_range()
            .and_then(|r| r.rsplit('/').next())
            .and_then(|t| t.parse::<u64>().ok())
            .or_else(|| out.content_length().and_then(|l| u64::try_from(l).ok()));
        if let Some(total) = total.filter(|t| *t > cap) {
            return Ok(Capped::TooLarge(total));
        }
        let bytes = out.body.collect().await.map_err(|e| {
            crate::error::Error::new(format!(
                "reading `{key}` from bucket `{}`: {e}",
                bucket.name
            ))
        })?;
        let bytes = bytes.into_bytes().to_vec();
        if bytes.len() as u64 > cap {
            return Ok(Capped::TooLarge(bytes.len() as u64));
        }
        Ok(Capped::Body(bytes))
    }

    /// pgBackRest's newest archive directory, `archive/<stanza>/<version>-<id>/`.
    async fn pgbackrest_archive_id(&mut self, backup: &DesiredBackup) -> Result<Option<String>> {
        let (_, prefixes) = self.level(&backup.wal_prefix()).await?;
        Ok(prefixes.into_iter().max_by_key(|p| {
            let id = p.trim_end_matches('/').rsplit('/').next().unwrap_or("");
            let (version, n) = id.split_once('-').unwrap_or((id, "0"));
            (
                version.parse::<u32>().unwrap_or(0),
                n.parse::<u32>().unwrap_or(0),
            )
        }))
    }

    /// WAL-G's system identifier: `SystemIdentifier` of the newest stop
    /// sentinel (two requests); `None` without one.
    async fn walg_system(&mut self, backup: &DesiredBackup) -> Result<Option<String>> {
        let (objects, _) = self.level(&backup.base_prefix()).await?;
        let Some(newest) = objects
            .into_iter()
            .map(|(key, _)| key)
            .filter(|key| key.ends_with("_backup_stop_sentinel.json"))
            .max()
        else {
            return Ok(None);
        };
        Ok(self
            .read_optional(&newest)
            .await?
            .and_then(|bytes| sentinel_system(&bytes)))
    }

    /// Every archived WAL file name (segments, `.history`, `.partial`,
    /// `.backup`) under the archive being written, and for pgBackRest the
    /// repository's system identifier (`archive.info`'s `db-system-id`).
    /// The whole archive, or what follows segment `after` in it.
    pub(crate) async fn archive(
        &mut self,
        backup: &DesiredBackup,
        after: Option<&str>,
    ) -> Result<(Vec<String>, Option<String>)> {
        let (prefix, system) = match backup.tool {
            BackupTool::WalG => (Some(backup.wal_prefix()), self.walg_system(backup).await?),
            BackupTool::PgBackRest => {
                let info = self
                    .read_optional(&format!("{}archive.info", backup.wal_prefix()))
                    .await?;
                let system = info.and_then(|bytes| {
                    String::from_utf8_lossy(&bytes)
                        .lines()
                        .find_map(|l| l.trim().strip_prefix("db-system-id="))
                        .map(|v| v.trim().to_string())
                });
                (self.pgbackrest_archive_id(backup).await?, system)
            }
        };
        let Some(prefix) = prefix else {
            return Ok((Vec::new(), system));
        };
        // After a verified segment: only what was archived since (and the
        // timelines' history files, which sort after their segments).
        let start_after = after.map(|segment| match backup.tool {
            BackupTool::WalG => format!("{prefix}{segment}"),
            BackupTool::PgBackRest => format!("{prefix}{}/{segment}", &segment[..16]),
        });
        let names = self
            .all_after(&prefix, start_after.as_deref())
            .await?
            .into_iter()
            .filter_map(|(key, _)| key.rsplit('/').next().map(str::to_string))
            .collect();
        Ok((names, system))
    }

    /// The object holding WAL segment `segment`, if the bucket has it:
    /// one request (WAL-G) or two (pgBackRest).
    pub(crate) async fn segment(
        &mut self,
        backup: &DesiredBackup,
        segment: &str,
    ) -> Result<Option<Object>> {
        let prefix = match backup.tool {
            BackupTool::WalG => format!("{}{segment}", backup.wal_prefix()),
            BackupTool::PgBackRest => match self.pgbackrest_archive_id(backup).await? {
                Some(id) => format!("{id}{}/{segment}", &segment[..16.min(segment.len())]),
                None => return Ok(None),
            },
        };
        Ok(self.page(&prefix, None, 1).await?.into_iter().next())
    }

    /// The newest archived segment and its object: WAL-G's flat prefix is
    /// listed whole (restore-test only, once a month); pgBackRest's tree
    /// down its last branch.
    pub(crate) async fn newest_segment(
        &mut self,
        backup: &DesiredBackup,
    ) -> Result<Option<(String, Option<SystemTime>)>> {
        let objects = match backup.tool {
            BackupTool::WalG => self.all(&backup.wal_prefix()).await?,
            BackupTool::PgBackRest => {
                let Some(id) = self.pgbackrest_archive_id(backup).await? else {
                    return Ok(None);
                };
                let (_, branches) = self.level(&id).await?;
                match branches.into_iter().max() {
                    Some(last) => self.all(&last).await?,
                    None => return Ok(None),
                }
            }
        };
        Ok(objects
            .into_iter()
            .filter_map(|(key, time)| {
                let name = key.rsplit('/').next()?.get(..24)?.to_string();
                is_segment(&name).then_some((name, time))
            })
            .max_by(|a, b| a.0.cmp(&b.0)))
    }

    /// The full backups that completed, and when, from the tool's own
    /// record of them (pgBackRest's `backup.info`, WAL-G's stop sentinels);
    /// and the backups that were started and never completed, with the time
    /// anything was last written to them.
    pub(crate) async fn backups(&mut self, backup: &DesiredBackup) -> Result<Backups> {
        let base = backup.base_prefix();
        let (objects, folders) = self.level(&base).await?;
        let starts: Vec<(String, String)>;
        let (mut complete, known): (Vec<(String, SystemTime)>, Vec<String>) = match backup.tool {
            BackupTool::WalG => {
                let complete: Vec<(String, SystemTime)> = objects
                    .into_iter()
                    .filter_map(|(key, time)| {
                        let name = key
                            .rsplit('/')
                            .next()?
                            .strip_suffix("_backup_stop_sentinel.json")?
                            .to_string();
                        Some((name, time?))
                    })
                    .collect();
                let known = complete.iter().map(|(name, _)| name.clone()).collect();
                let full: Vec<(String, SystemTime)> = complete
                    .into_iter()
                    .filter(|(name, _)| !name.contains("_D_"))
                    .collect();
                // `base_000000010000000000000002`: the start segment.
                starts = full
                    .iter()
                    .filter_map(|(name, _)| {
                        let segment = name.strip_prefix("base_")?.get(..24)?;
                        Some((name.clone(), segment.to_string()))
                    })
                    .collect();
                (full, known)
            }
            BackupTool::PgBackRest => {
                let info = match self.read_optional(&format!("{base}backup.info")).await? {
                    Some(bytes) => parse_backup_info(&bytes),
                    None => BackupInfo::default(),
                };
                starts = info.starts;
                (info.full, info.labels)
            }
        };
        complete.sort_by_key(|(_, t)| *t);
        let mut incomplete = Vec::new();
        for folder in folders {
            let name = folder
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("");
            let is_backup = match backup.tool {
                BackupTool::WalG => name.starts_with("base_"),
                BackupTool::PgBackRest => {
                    pgbackrest_label_time(name.get(..15).unwrap_or("")).is_some()
                }
            };
            if !is_backup || known.iter().any(|k| k == name) {
                continue;
            }
            let written = self
                .all(&folder)
                .await?
                .into_iter()
                .filter_map(|(_, t)| t)
                .max();
            if let Some(written) = written {
                incomplete.push((name.to_string(), written));
            }
        }
        Ok(Backups {
            known,
            complete,
            incomplete,
            starts,
        })
    }
}

/// `SystemIdentifier` of a WAL-G stop sentinel (a JSON number or string).
fn sentinel_system(bytes: &[u8]) -> Option<String> {
    let document: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    match &document["SystemIdentifier"] {
        serde_json::Value::Number(n) => n.as_u64().map(|n| n.to_string()),
        serde_json::Value::String(s) if s.bytes().all(|b| b.is_ascii_digit()) => Some(s.clone()),
        _ => None,
    }
}

/// One object read with a size cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Capped {
    Body(Vec<u8>),
    /// Larger than the cap: its size; not read.
    TooLarge(u64),
}

/// What the repository holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Backups {
    /// Every backup the tool lists as complete (full or not): its catalogue.
    pub(crate) known: Vec<String>,
    /// Full backups that completed, and when, oldest first.
    pub(crate) complete: Vec<(String, SystemTime)>,
    /// Backups started and never completed, and when each was last written to.
    pub(crate) incomplete: Vec<(String, SystemTime)>,
    /// Each complete full backup's first WAL segment, by name.
    pub(crate) starts: Vec<(String, String)>,
}

/// pgBackRest's `backup.info`: every backup it lists, and the full ones
/// with their stop times.
#[derive(Debug, Default, PartialEq)]
struct BackupInfo {
    labels: Vec<String>,
    full: Vec<(String, SystemTime)>,
    /// Each full backup's first WAL segment (`backup-archive-start`).
    starts: Vec<(String, String)>,
}

/// The `[backup:current]` section of `backup.info`: `LABEL={json}` lines,
/// only for backups pgBackRest completed.
fn parse_backup_info(bytes: &[u8]) -> BackupInfo {
    let mut info = BackupInfo::default();
    let mut current = false;
    for line in String::from_utf8_lossy(bytes).lines() {
        let line = line.trim();
        if line.starts_with('[') {
            current = line == "[backup:current]";
            continue;
        }
        let Some((label, value)) = line.split_once('=').filter(|_| current) else {
            continue;
        };
        info.labels.push(label.to_string());
        let Ok(fields) = serde_json::from_str::<serde_json::Value>(value) else {
            continue;
        };
        let full = fields["backup-type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("full"));
        let stop = fields["backup-timestamp-stop"].as_u64();
        if let (true, Some(start)) = (full, fields["backup-archive-start"].as_str()) {
            info.starts.push((label.to_string(), start.to_string()));
        }
        if let (true, Some(stop)) = (full, stop) {
            info.full.push((
                label.to_string(),
                SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(stop),
            ));
        }
    }
    info
}

/// `20261127-020000` as a time (pgBackRest writes the host's local time;
/// read as UTC, it is off by at most the host's UTC offset).
fn pgbackrest_label_time(stamp: &str) -> Option<SystemTime> {
    let (date, time) = stamp.split_once('-')?;
    if date.len() != 8 || time.len() != 6 {
        return None;
    }
    humantime::parse_rfc3339(&format!(
        "{}-{}-{}T{}:{}:{}Z",
        &date[..4],
        &date[4..6],
        &date[6..],
        &time[..2],
        &time[2..4],
        &time[4..]
    ))
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_info_lists_only_completed_backups_with_their_stop_times() {
        let text = r#"[backrest]
backrest-format=5
backrest-version="2.45"

[backup:current]
20261127-020000F={"backrest-format":5,"backup-timestamp-start":1764208800,"backup-timestamp-stop":1764208806,"backup-type":"full"}
20261127-020000F_20261128-020000D={"backup-timestamp-start":1764295200,"backup-timestamp-stop":1764295203,"backup-type":"diff"}

[db]
db-id=1
"#;
        let info = parse_backup_info(text.as_bytes());
        assert_eq!(
            info.labels,
            vec!["20261127-020000F", "20261127-020000F_20261128-020000D"]
        );
        assert_eq!(
            info.full,
            vec![(
                "20261127-020000F".to_string(),
                SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_764_208_806)
            )]
        );
        assert_eq!(parse_backup_info(b"garbage"), BackupInfo::default());
    }

    #[test]
    fn a_walg_sentinel_names_its_cluster() {
        assert_eq!(
            sentinel_system(br#"{"LSN":33554472,"SystemIdentifier":7312345678901234567}"#)
                .as_deref(),
            Some("7312345678901234567")
        );
        assert_eq!(
            sentinel_system(br#"{"SystemIdentifier":"7312345678901234567"}"#).as_deref(),
            Some("7312345678901234567")
        );
        assert_eq!(sentinel_system(br#"{"LSN":1}"#), None);
        assert_eq!(sentinel_system(b"not json"), None);
    }
}
