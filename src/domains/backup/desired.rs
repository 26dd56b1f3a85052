//! The backup declaration, resolved: the tool, where it writes in the bucket
//! (its layout), retention, health thresholds, and the files dbops renders for
//! the backup sidecar.

use std::path::PathBuf;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

pub(crate) use crate::drill::settings::RestoreTest;
use crate::managed_files::DesiredFile;
use crate::s3::BucketSpec;

/// What the backups keep: a grandfather-father-son series of full backups
/// and a window of point-in-time recovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Retention {
    /// One full backup per day for this many days.
    pub(crate) daily: u32,
    /// One per 7 days for this many weeks.
    pub(crate) weekly: u32,
    /// One per 30 days for this many months.
    pub(crate) monthly: u32,
    /// Point-in-time recovery reaches back this many days.
    pub(crate) wal_days: u32,
}

impl Retention {
    /// The age of the oldest full backup the policy keeps, in days.
    pub(crate) fn span_days(&self) -> u32 {
        self.daily
            .max(self.weekly.saturating_mul(7))
            .max(self.monthly.saturating_mul(30))
    }

    /// How far back full backups are kept: the policy's span, or further when
    /// `wal_days` reaches further (a point in time needs a backup before it).
    pub(crate) fn keep_days(&self) -> u32 {
        self.span_days().max(self.wal_days)
    }

    /// How often the sidecar must take a full backup for the policy to hold:
    /// the shortest series' period.
    pub(crate) fn interval_days(&self) -> u32 {
        if self.daily > 0 {
            1
        } else if self.weekly > 0 {
            7
        } else {
            30
        }
    }

    /// The series as (period in days, count), shortest period first.
    pub(crate) fn series(&self) -> Vec<(u32, u32)> {
        [(1, self.daily), (7, self.weekly), (30, self.monthly)]
            .into_iter()
            .filter(|(_, count)| *count > 0)
            .collect()
    }
}

/// The backup tool the sidecar runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub(crate) enum BackupTool {
    #[serde(rename = "wal-g")]
    WalG,
    #[serde(rename = "pgbackrest")]
    PgBackRest,
}

#[derive(Debug, Clone)]
pub(crate) struct DesiredBackup {
    pub(crate) tool: BackupTool,
    pub(crate) rpo: Duration,
    /// The declared `[bucket.NAME]` the backups go to, if any.
    pub(crate) bucket: Option<BucketSpec>,
    /// Key prefix, without leading or trailing slashes ("" for the bucket root).
    pub(crate) prefix: String,
    pub(crate) stanza: String,
    /// The `archive_command` PostgreSQL runs.
    pub(crate) archive_command: String,
    pub(crate) retention: Retention,
    /// From fetching a backup to a promoted server, at most.
    pub(crate) rto: Duration,
    pub(crate) max_wal_age: Duration,
    pub(crate) max_base_backup_age: Duration,
    pub(crate) restore_test_max_age: Option<Duration>,
    pub(crate) restore_test_grace: Duration,
    /// A backup not complete and not written to for this long is dead.
    pub(crate) incomplete_backup_grace: Duration,
    /// `wal_chain_state`: the chain's watermark file.
    pub(crate) wal_chain_state: Option<PathBuf>,
    /// `[restore_test]`; the defaults when it is not declared.
    pub(crate) restore_test: RestoreTest,
    pub(crate) files: Vec<DesiredFile>,
    /// `[[backup.repositories]]`: repositories 2, 3... (pgBackRest).
    pub(crate) repositories: Vec<Repository>,
    /// The rendered tool configuration (pgbackrest.conf or the WAL-G env
    /// file), whether or not a path is declared for it: restore-test writes
    /// it into its own work directory.
    pub(crate) tool_config: Option<String>,
}

/// A pgBackRest repository after the first: `repoN-*`.
#[derive(Debug, Clone)]
pub(crate) struct Repository {
    /// pgBackRest's repository number: 2, 3...
    pub(crate) number: u32,
    pub(crate) place: Place,
}

#[derive(Debug, Clone)]
pub(crate) enum Place {
    /// A declared bucket, a prefix in it (no slashes at either end), and
    /// how pgBackRest reaches it.
    Bucket {
        bucket: Box<BucketSpec>,
        prefix: String,
        tool_endpoint: Option<String>,
        ca_file: Option<String>,
    },
    /// A directory (`repoN-type=posix`).
    Directory(PathBuf),
}

impl Repository {
    /// `s3://BUCKET/PREFIX` or the directory: how messages name it.
    pub(crate) fn describe(&self) -> String {
        match &self.place {
            Place::Bucket { bucket, prefix, .. } if prefix.is_empty() => {
                format!("s3://{}", bucket.name)
            }
            Place::Bucket { bucket, prefix, .. } => format!("s3://{}/{prefix}", bucket.name),
            Place::Directory(path) => path.display().to_string(),
        }
    }

    /// The backup declaration as this repository holds it: its own bucket
    /// and prefix (a directory is read from its root), everything else
    /// shared. The listing and health read it like repository 1.
    pub(crate) fn view(&self, backup: &DesiredBackup) -> DesiredBackup {
        let mut view = backup.clone();
        view.repositories = Vec::new();
        match &self.place {
            Place::Bucket { bucket, prefix, .. } => {
                view.bucket = Some(bucket.as_ref().clone());
                view.prefix = prefix.clone();
            }
            Place::Directory(_) => {
                view.bucket = None;
                view.prefix = String::new();
            }
        }
        view
    }
}

impl DesiredBackup {
    fn join(&self, rest: &str) -> String {
        if self.prefix.is_empty() {
            rest.to_string()
        } else {
            format!("{}/{rest}", self.prefix)
        }
    }

    /// Where archived WAL lives.
    pub(crate) fn wal_prefix(&self) -> String {
        match self.tool {
            BackupTool::WalG => self.join("wal_005/"),
            BackupTool::PgBackRest => self.join(&format!("archive/{}/", self.stanza)),
        }
    }

    /// Where base (full) backups live.
    pub(crate) fn base_prefix(&self) -> String {
        match self.tool {
            BackupTool::WalG => self.join("basebackups_005/"),
            BackupTool::PgBackRest => self.join(&format!("backup/{}/", self.stanza)),
        }
    }

    pub(crate) fn restore_tests_prefix(&self) -> String {
        self.join("restore-tests/")
    }

    /// The date folder and run folder of one restore test's evidence:
    /// `PREFIX/restore-tests/YYYY-MM-DD/HHMMSSZ/`.
    pub(crate) fn evidence_prefix(&self, rfc3339: &str) -> String {
        let (date, time) = rfc3339.split_at(10);
        let time: String = time.chars().filter(char::is_ascii_digit).take(6).collect();
        format!("{}{date}/{time}Z/", self.restore_tests_prefix())
    }
}

#[cfg(test)]
impl DesiredBackup {
    /// WAL-G into `prod/`, 7 daily full backups: for unit tests.
    pub(crate) fn example() -> Self {
        DesiredBackup {
            tool: BackupTool::WalG,
            rpo: Duration::from_secs(300),
            bucket: None,
            prefix: "prod".into(),
            stanza: "main".into(),
            archive_command: "wal-g wal-push %p".into(),
            retention: Retention {
                daily: 7,
                weekly: 4,
                monthly: 0,
                wal_days: 30,
            },
            rto: Duration::from_secs(3600),
            max_wal_age: Duration::from_secs(600),
            max_base_backup_age: Duration::from_secs(26 * 3600),
            restore_test_max_age: None,
            restore_test_grace: Duration::from_secs(7 * 86_400),
            incomplete_backup_grace: Duration::from_secs(3600),
            wal_chain_state: None,
            restore_test: RestoreTest::default(),
            files: vec![],
            repositories: vec![],
            tool_config: None,
        }
    }
}
