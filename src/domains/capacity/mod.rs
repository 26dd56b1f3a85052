//! The capacity domain: will the server run out of room? Health only, for
//! `drift`: the size of `pg_wal` (read through SQL, so it works from any
//! runner, with `pg_monitor` or superuser) against a declared limit, and,
//! when dbops runs on the database host, how full the data directory's
//! filesystem is against a percentage (80 by default). Findings
//! `capacity.wal_size` and `capacity.disk_usage`; both figures go to the
//! metrics file. Whether dbops runs on the host is proven, never assumed:
//! the data directory's `postmaster.pid` must name the server dbops is
//! connected to (its directory, port and start time). It changes nothing.

pub(crate) mod check;
pub(crate) mod domain;
pub(crate) mod observe;
pub(crate) mod raw;

use crate::contract::DomainId;

/// Capacity: addresses under `postgres`.
pub(crate) const ID: DomainId = DomainId::new("capacity", "postgres");

/// Nothing to apply: every finding says how to make room.
#[derive(Debug, Clone)]
pub(crate) enum Operation {}

/// `[capacity]`, resolved.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DesiredCapacity {
    /// A finding when `pg_wal` holds more bytes than this.
    pub(crate) wal_size_limit: Option<u64>,
    /// A finding when the data directory's filesystem is fuller than this (percent).
    pub(crate) disk_usage_percent: u8,
}

/// What the health check read.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub(crate) struct LiveCapacity {
    /// `pg_wal`'s size; `None` without `pg_monitor`.
    pub(crate) wal_bytes: Option<u64>,
    /// The data directory's filesystem, when on this host.
    pub(crate) filesystem: Option<Filesystem>,
    /// Why the filesystem was not read, when it was not.
    pub(crate) filesystem_skipped: Option<String>,
    pub(crate) data_directory: Option<String>,
}

/// `statvfs` of the data directory, as `df` reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Filesystem {
    pub(crate) size_bytes: u64,
    /// Free for unprivileged users (`f_bavail`).
    pub(crate) available_bytes: u64,
    pub(crate) used_bytes: u64,
}

impl Filesystem {
    /// `df`'s Use%: used / (used + available), rounded up.
    pub(crate) fn used_percent(&self) -> u64 {
        let total = self.used_bytes + self.available_bytes;
        if total == 0 {
            return 0;
        }
        (self.used_bytes * 100).div_ceil(total)
    }
}
