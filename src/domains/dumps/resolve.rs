//! `[dumps]` resolved and refused where it cannot work, each problem at its
//! key: no destination or two, a relative directory, a bucket not
//! declared, the directory format into a bucket, retention that keeps
//! nothing, an interval the RPO cannot meet, names that would collide with
//! the physical backups' layout in the same bucket.

use std::path::PathBuf;
use std::time::Duration;

use super::desired::{DesiredDumps, Destination, DumpFormat, Retention};
use super::layout::RESERVED;
use super::raw::RawDumps;
use crate::contract::facts::DeclaredBuckets;
use crate::diagnostics::{Key, Resolver};
use crate::drill::settings::{restore_test, RawRestoreTest};
use crate::error::{Error, Result};
use crate::util::durations;

fn duration(key: &Key<'_>, text: Option<&str>, default: Duration) -> Result<Duration> {
    match text {
        None => Ok(default),
        Some(text) => durations::parse(text, false)
            .map_err(|why| key.error(why).hint("write e.g. `24h`, `26h` or `35d`")),
    }
}

/// A database name or prefix segment as a path component: not empty, no
/// `/`, no control character, not `.` or `..`, not a reserved word.
fn check_component(key: &Key<'_>, text: &str, what: &str) -> Result<()> {
    let why = if text.is_empty() {
        Some("is empty".to_string())
    } else if text.contains('/') {
        Some("holds `/`".to_string())
    } else if text.chars().any(char::is_control) {
        Some("holds a control character".to_string())
    } else if text == "." || text == ".." {
        Some("is a relative path component".to_string())
    } else if RESERVED.contains(&text) {
        Some(format!(
            "is reserved: the physical backups and the dump classes use it ({})",
            RESERVED.join(", ")
        ))
    } else {
        None
    };
    match why {
        Some(why) => Err(key.error(format!("the {what} `{text}` {why}"))),
        None => Ok(()),
    }
}

/// Where the sets go: exactly one of `directory` and `bucket`.
fn destination(
    raw: &RawDumps,
    format: DumpFormat,
    buckets: &DeclaredBuckets,
    r: &Resolver<'_>,
    errors: &mut Vec<Error>,
) -> Option<Destination> {
    let key = |name: &str| r.key(&["dumps", name]);
    match (&raw.directory, &raw.bucket) {
        (Some(_), Some(_)) => {
            errors.push(
                key("bucket")
                    .error("`[dumps]` has both `directory` and `bucket`")
                    .hint(
                        "choose one destination; a second copy belongs to the bucket's replication",
                    ),
            );
            None
        }
        (None, None) => {
            errors.push(r.key(&["dumps"]).error("`[dumps]` has no destination").hint("write `directory = \"/var/backups/dbops\"`, or `bucket = \"NAME\"` with a `[bucket.NAME]` table"));
            None
        }
        (Some(directory), None) => {
            let path = PathBuf::from(directory);
            if directory.chars().any(char::is_control) {
                errors.push(key("directory").error("`dumps.directory` holds a control character"));
                None
            } else if !path.is_absolute() {
                errors.push(key("directory").error(format!("`dumps.directory` `{directory}` is not an absolute path")).hint("a scheduled dump starts in a directory of its scheduler's choosing; write e.g. `/var/backups/dbops`"));
                None
            } else {
                if raw.prefix.is_some() {
                    errors.push(
                        key("prefix")
                            .error("`prefix` is for a bucket destination")
                            .hint("delete it, or write `bucket` instead of `directory`"),
                    );
                }
                Some(Destination::Directory(path))
            }
        }
        (None, Some(name)) => {
            let prefix = raw.prefix.clone().unwrap_or_else(|| "dumps".to_string());
            for segment in prefix.split('/') {
                if let Err(e) = check_component(&key("prefix"), segment, "prefix segment") {
                    errors.push(e);
                }
            }
            if format == DumpFormat::Directory {
                errors.push(
                    key("format")
                        .error("the `directory` format cannot be streamed into a bucket")
                        .hint("use `format = \"custom\"` (the default) with a bucket"),
                );
            }
            if buckets.invalid.contains(name) {
                None
            } else if let Some(bucket) = buckets.valid.iter().find(|b| &b.name == name) {
                Some(Destination::Bucket {
                    bucket: bucket.clone(),
                    prefix,
                })
            } else {
                errors.push(
                    key("bucket")
                        .error(format!("`{name}` has no `[bucket.{name}]` table"))
                        .hint(format!(
                            "declare `[bucket.{name}]` with its endpoint and credentials"
                        )),
                );
                None
            }
        }
    }
}

type Times = (Duration, Duration, Duration, Duration, Option<Duration>);

/// `(interval, max_age, rpo, rto, restore_test_max_age)`, checked together.
fn times(raw: &RawDumps, interval: Duration, r: &Resolver<'_>) -> Result<Times> {
    let key = |name: &str| r.key(&["dumps", name]);

    let max_age = duration(
        &key("max_age"),
        raw.max_age.as_deref(),
        interval + interval / 12,
    )?;
    let rpo = duration(&key("rpo"), raw.rpo.as_deref(), interval)?;
    let rto = duration(&key("rto"), raw.rto.as_deref(), Duration::from_secs(3600))?;
    let test = match raw.restore_test_max_age.as_deref() {
        None => None,
        Some(text) => Some(duration(
            &key("restore_test_max_age"),
            Some(text),
            Duration::ZERO,
        )?),
    };
    if interval > rpo {
        return Err(key("interval").error(format!(
                "`dumps.interval` ({}) cannot meet `dumps.rpo` ({}): a dump every {} loses up to that much",
                durations::short(interval),
                durations::short(rpo),
                durations::short(interval)
            )).hint("dump more often, or raise `rpo` (it defaults to the interval)"));
    }
    if max_age < interval {
        return Err(key("max_age").error(format!(
            "`dumps.max_age` ({}) is shorter than `interval` ({}): every dump would be late",
            durations::short(max_age),
            durations::short(interval)
        )));
    }
    Ok((interval, max_age, rpo, rto, test))
}

pub(crate) fn resolve(
    raw: &RawDumps,
    raw_test: Option<&RawRestoreTest>,
    managed: Vec<String>,
    buckets: &DeclaredBuckets,
    r: &mut Resolver<'_>,
) -> Option<DesiredDumps> {
    let key = |name: &str| r.key(&["dumps", name]);
    let mut errors: Vec<Error> = Vec::new();
    let databases = raw.databases.clone().unwrap_or(managed);
    if databases.is_empty() {
        errors.push(
            r.key(&["dumps"])
                .error("`[dumps]` has no database to dump: the file manages none and `databases` lists none")
                .hint("write `databases = [\"app\"]`"),
        );
    }
    for name in &databases {
        if let Err(e) = check_component(&key("databases"), name, "database") {
            errors.push(e);
        }
    }
    let format = raw.format.unwrap_or(DumpFormat::Custom);
    let destination = destination(raw, format, buckets, r, &mut errors);
    if raw.jobs.is_some() && format != DumpFormat::Directory {
        errors.push(
            key("jobs")
                .error("`jobs` needs `format = \"directory\"`: the custom format is one stream"),
        );
    }
    let interval = duration(&key("interval"), Some(&raw.interval), Duration::ZERO);
    let retention = raw.retention.as_ref().map_or(
        Retention {
            daily: 7,
            weekly: 4,
            monthly: 3,
        },
        |r| Retention {
            daily: r.daily.unwrap_or(7),
            weekly: r.weekly.unwrap_or(4),
            monthly: r.monthly.unwrap_or(3),
        },
    );
    if retention.daily == 0 && retention.weekly == 0 && retention.monthly == 0 {
        errors.push(
            r.key(&["dumps", "retention"])
                .error("keeps no dump: `daily`, `weekly` and `monthly` are all 0")
                .hint("keep at least one series, e.g. `daily = 7`"),
        );
    }
    let mut count_rows = Vec::new();
    for table in &raw.count_rows {
        match table.split_once('.') {
            Some((schema, name))
                if !schema.is_empty()
                    && !name.is_empty()
                    && !table.chars().any(char::is_control) =>
            {
                count_rows.push((schema.to_string(), name.to_string()));
            }
            _ => errors.push(key("count_rows").error(format!("`{table}` is not `schema.table`"))),
        }
    }
    let bindir = raw.bindir.as_ref().map(PathBuf::from);
    if bindir.as_ref().is_some_and(|b| !b.is_absolute()) {
        errors.push(key("bindir").error("`dumps.bindir` is not an absolute path"));
    }
    let times = interval.and_then(|interval| times(raw, interval, r));
    let times = match times {
        Ok(times) => Some(times),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    // `[restore_test]` is shared with the physical backups; an error in
    // it is reported once (the resolver drops a repeat).
    let restore_test = restore_test(raw_test, r);
    if let Err(e) = &restore_test {
        errors.push(e.clone());
    }
    let failed = !errors.is_empty();
    for error in errors {
        r.error(error);
    }
    let (interval, max_age, rpo, rto, restore_test_max_age) = times?;
    if failed {
        return None;
    }
    Some(DesiredDumps {
        databases,
        destination: destination?,
        format,
        jobs: raw.jobs,
        interval,
        max_age,
        rpo,
        rto,
        restore_test_max_age,
        restore_test: restore_test.ok()?,
        count_rows,
        bindir,
        retention,
    })
}
