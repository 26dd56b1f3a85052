//! The capacity domain under the contract: always on (the disk check has a
//! default), read by `health` only, so a plan sends no statement more.

use super::raw::RawCapacity;
use super::{check, observe, DesiredCapacity, LiveCapacity, Operation};
use crate::contract::{Apply, Domain, DomainId, Facts, Health, Observe};
use crate::diagnostics::Resolver;
use crate::error::{Errors, Result};
use crate::events::EventSink;
use crate::plan::{DomainDiff, Planned};

pub(crate) struct Capacity;

impl Domain for Capacity {
    const ID: DomainId = super::ID;
    type Raw<'a> = Option<&'a RawCapacity>;
    type Desired = DesiredCapacity;
    type Live = LiveCapacity;
    type Operation = Operation;
    type Inputs = ();
    type Outputs = ();

    fn resolve(
        raw: Option<&RawCapacity>,
        _facts: &mut Facts,
        r: &mut Resolver<'_>,
    ) -> Option<DesiredCapacity> {
        let mut desired = DesiredCapacity {
            wal_size_limit: None,
            disk_usage_percent: 80,
        };
        let Some(raw) = raw else {
            return Some(desired);
        };
        if let Some(text) = &raw.wal_size_limit {
            let key = r.key(&["capacity", "wal_size_limit"]);
            desired.wal_size_limit = r.check(parse_size(text).map_err(|why| {
                key.error(why)
                    .hint("write a size such as `512MB` or `8GB` (1024-based, as in PostgreSQL)")
            }));
        }
        if let Some(percent) = raw.disk_usage_percent {
            if (1..=99).contains(&percent) {
                desired.disk_usage_percent = percent;
            } else {
                let error = r.key(&["capacity", "disk_usage_percent"]).error(format!(
                    "`capacity.disk_usage_percent` is {percent}; give 1 to 99"
                ));
                r.error(error);
            }
        }
        (!r.has_errors()).then_some(desired)
    }

    fn summary(_desired: Option<&DesiredCapacity>) -> Vec<(&'static str, usize)> {
        Vec::new()
    }

    async fn observe(_desired: &DesiredCapacity, _context: &Observe<'_>) -> Result<LiveCapacity> {
        Ok(LiveCapacity::default())
    }

    fn inputs(_facts: &Facts) {}

    fn diff(
        _desired: &DesiredCapacity,
        _live: &LiveCapacity,
        (): &(),
    ) -> Result<DomainDiff<Operation>, Errors> {
        Ok(DomainDiff::default())
    }

    async fn health(
        desired: &DesiredCapacity,
        context: &Observe<'_>,
        _sink: &dyn EventSink,
    ) -> Result<Health> {
        let live = observe::observe(context.client).await?;
        Ok(check::check(desired, &live))
    }

    async fn apply(
        _desired: &DesiredCapacity,
        _changes: &[&Planned<Operation>],
        _context: &mut Apply<'_>,
        _sink: &dyn EventSink,
    ) -> Result<()> {
        Ok(())
    }
}

/// `512MB`, `8GB`, `1TB`, `4096B`, `64kB` (1024-based), without overflow.
pub(crate) fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size"))?;
    let factor: u64 = match unit.trim() {
        "B" => 1,
        "kB" => 1 << 10,
        "MB" => 1 << 20,
        "GB" => 1 << 30,
        "TB" => 1 << 40,
        "" => return Err(format!("`{text}` has no unit")),
        other => {
            return Err(format!(
                "`{text}`: unknown unit `{other}` (use `B`, `kB`, `MB`, `GB` or `TB`)"
            ))
        }
    };
    match number.checked_mul(factor) {
        Some(0) => Err(format!("`{text}` is zero")),
        Some(bytes) => Ok(bytes),
        None => Err(format!("`{text}` is too large")),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse_as_postgresql_spells_them() {
        assert_eq!(parse_size("512MB"), Ok(512 << 20));
        assert_eq!(parse_size("8GB"), Ok(8 << 30));
        assert_eq!(parse_size("64kB"), Ok(64 << 10));
        for bad in ["8", "8gb", "GB", "0MB", "99999999999999TB", "-1GB", "1.5GB"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
