//! `[dumps]`, resolved.

use std::path::PathBuf;
use std::time::Duration;

pub(crate) use super::raw::DumpFormat;
use crate::drill::settings::RestoreTest;
use crate::s3::BucketSpec;

#[derive(Debug, Clone)]
pub(crate) struct DesiredDumps {
    pub(crate) databases: Vec<String>,
    pub(crate) destination: Destination,
    pub(crate) format: DumpFormat,
    pub(crate) jobs: Option<u32>,
    pub(crate) interval: Duration,
    pub(crate) max_age: Duration,
    pub(crate) rpo: Duration,
    pub(crate) rto: Duration,
    pub(crate) restore_test_max_age: Option<Duration>,
    /// `[restore_test]`: how a drill from dumps runs; its defaults when
    /// it is not declared.
    pub(crate) restore_test: RestoreTest,
    /// `(schema, table)` counted exactly.
    pub(crate) count_rows: Vec<(String, String)>,
    pub(crate) bindir: Option<PathBuf>,
    pub(crate) retention: Retention,
}

/// Where sets go.
#[derive(Debug, Clone)]
pub(crate) enum Destination {
    Directory(PathBuf),
    Bucket { bucket: BucketSpec, prefix: String },
}

impl Destination {
    /// For messages: the directory, or `s3://bucket/prefix/`.
    pub(crate) fn describe(&self) -> String {
        match self {
            Destination::Directory(path) => path.display().to_string(),
            Destination::Bucket { bucket, prefix } => format!("s3://{}/{prefix}/", bucket.name),
        }
    }
}

/// Age windows in days: every set `daily` days, the first of each ISO week
/// `weekly` x 7 days, the first of each month `monthly` x 30 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Retention {
    pub(crate) daily: u32,
    pub(crate) weekly: u32,
    pub(crate) monthly: u32,
}

impl Retention {
    pub(crate) fn daily_days(&self) -> u64 {
        u64::from(self.daily)
    }
    pub(crate) fn weekly_days(&self) -> u64 {
        u64::from(self.weekly) * 7
    }
    pub(crate) fn monthly_days(&self) -> u64 {
        u64::from(self.monthly) * 30
    }
}
