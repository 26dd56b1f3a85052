//! The backup declaration, resolved: the tool, where it writes in the bucket
//! (its layout), retention, health thresholds, and the files dbops renders for
//! the backup sidecar.

use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::domains::files::DesiredFile;

/// The backup tool the sidecar runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum BackupTool {
    #[serde(rename = "wal-g")]
    WalG,
    #[serde(rename = "pgbackrest")]
    PgBackRest,
}

#[derive(Debug, Clone)]
pub struct DesiredBackup {
    pub tool: BackupTool,
    pub rpo: Duration,
    /// The declared `[bucket.NAME]` the backups go to, if any.
    pub bucket: Option<String>,
    /// Key prefix, without leading or trailing slashes ("" for the bucket root).
    pub prefix: String,
    pub stanza: String,
    /// The `archive_command` PostgreSQL runs.
    pub archive_command: String,
    pub full_backups: u32,
    pub full_backup_interval: Duration,
    pub wal_days: Option<u32>,
    pub max_wal_age: Duration,
    pub max_base_backup_age: Duration,
    pub restore_test_max_age: Option<Duration>,
    pub files: Vec<DesiredFile>,
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
    pub fn wal_prefix(&self) -> String {
        match self.tool {
            BackupTool::WalG => self.join("wal_005/"),
            BackupTool::PgBackRest => self.join(&format!("archive/{}/", self.stanza)),
        }
    }

    /// Where base (full) backups live.
    pub fn base_prefix(&self) -> String {
        match self.tool {
            BackupTool::WalG => self.join("basebackups_005/"),
            BackupTool::PgBackRest => self.join(&format!("backup/{}/", self.stanza)),
        }
    }

    pub fn restore_tests_prefix(&self) -> String {
        self.join("restore-tests/")
    }

    /// How old the oldest kept full backup gets, in whole days (rounded up).
    pub fn oldest_full_backup_days(&self) -> u64 {
        let seconds = self.full_backup_interval.as_secs() * u64::from(self.full_backups);
        seconds.div_ceil(86_400)
    }
}

#[cfg(test)]
impl DesiredBackup {
    /// WAL-G into `prod/`, 7 daily full backups: for unit tests.
    pub fn example() -> Self {
        DesiredBackup {
            tool: BackupTool::WalG,
            rpo: Duration::from_secs(300),
            bucket: Some("b".into()),
            prefix: "prod".into(),
            stanza: "main".into(),
            archive_command: "wal-g wal-push %p".into(),
            full_backups: 7,
            full_backup_interval: Duration::from_secs(86_400),
            wal_days: None,
            max_wal_age: Duration::from_secs(600),
            max_base_backup_age: Duration::from_secs(26 * 3600),
            restore_test_max_age: None,
            files: vec![],
        }
    }
}
