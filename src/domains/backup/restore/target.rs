//! The recovery target of a restore test: everything archived, a point in
//! time, or the backup's own end (consistency only). Pure.

use std::time::SystemTime;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// Replay every archived segment (`--type=default`).
    Latest,
    /// Stop as soon as the backup is consistent (`--type=immediate`).
    Immediate,
    /// Stop just before the first commit after this time (`--type=time`).
    Time(SystemTime),
}

impl Target {
    /// From `--target-time` and `--target`; refuses a time that cannot be
    /// parsed or lies in the future (as of `now`).
    pub(crate) fn parse(time: Option<&str>, target: Option<&str>, now: SystemTime) -> Result<Self> {
        match (time, target) {
            (Some(_), Some(_)) => Err(Error::new(
                "`--target-time` and `--target` cannot be combined",
            )
            .hint("give a point in time, or `--target immediate`")),
            (None, None) => Ok(Target::Latest),
            (None, Some("immediate")) => Ok(Target::Immediate),
            (None, Some("latest")) => Ok(Target::Latest),
            (None, Some(other)) => Err(Error::new(format!(
                "`--target {other}` is not a recovery target"
            ))
            .hint("write `--target immediate` or `--target latest`, or give `--target-time`")),
            (Some(text), None) => {
                let at = parse_time(text.trim()).ok_or_else(|| {
                    Error::new(format!(
                        "`--target-time {text}` is not an RFC 3339 time with a UTC offset"
                    ))
                    .hint("write e.g. `2026-11-23T10:41:00Z` or `2026-11-23 10:41:00+00:00`")
                })?;
                if at > now {
                    return Err(Error::new(format!(
                        "`--target-time {text}` is in the future"
                    ))
                    .hint("a restore can only reach what has been archived; leave the target out to replay everything"));
                }
                Ok(Target::Time(at))
            }
        }
    }

    /// `latest`, `immediate` or the RFC 3339 time, for events and evidence.
    pub(crate) fn describe(&self) -> String {
        match self {
            Target::Latest => "latest".into(),
            Target::Immediate => "immediate".into(),
            Target::Time(at) => humantime::format_rfc3339_seconds(*at).to_string(),
        }
    }
}

/// `2026-11-23T10:41:00Z`, `2026-11-23 11:41:00.5+01:00`, `...-05`.
fn parse_time(text: &str) -> Option<SystemTime> {
    let (wall, offset) = if let Some(wall) = text.strip_suffix(['Z', 'z']) {
        (wall, 0)
    } else {
        let offset = offset_of(text)?;
        (&text[..text.rfind(['+', '-'])?], offset)
    };
    let wall = humantime::parse_rfc3339_weak(wall).ok()?;
    let shift = std::time::Duration::from_secs(offset.unsigned_abs());
    Some(if offset >= 0 {
        wall - shift
    } else {
        wall + shift
    })
}

/// `+HH:MM` / `-HH:MM` / `+HH` at the end of the text, in seconds.
fn offset_of(text: &str) -> Option<i64> {
    let at = text.rfind(['+', '-'])?;
    if at < 19 {
        return None;
    }
    let sign = if text.as_bytes()[at] == b'-' { -1 } else { 1 };
    let rest = &text[at + 1..];
    let (hours, minutes) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 => (&rest[..2], &rest[2..]),
        None => (rest, "0"),
    };
    let hours: i64 = hours.parse().ok()?;
    let minutes: i64 = minutes.parse().ok()?;
    (hours < 24 && minutes < 60).then_some(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(text: &str) -> SystemTime {
        humantime::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn parses_targets_and_refuses_bad_ones() {
        let now = at("2026-11-27T12:00:00Z");
        assert_eq!(Target::parse(None, None, now).unwrap(), Target::Latest);
        assert_eq!(
            Target::parse(None, Some("immediate"), now).unwrap(),
            Target::Immediate
        );
        assert_eq!(
            Target::parse(Some("2026-11-23T10:41:00Z"), None, now).unwrap(),
            Target::Time(at("2026-11-23T10:41:00Z"))
        );
        assert_eq!(
            Target::parse(Some("2026-11-23 11:41:00+01:00"), None, now).unwrap(),
            Target::Time(at("2026-11-23T10:41:00Z"))
        );
        assert_eq!(
            Target::parse(Some("2026-11-23T05:41:00-05"), None, now).unwrap(),
            Target::Time(at("2026-11-23T10:41:00Z"))
        );
        let future = Target::parse(Some("2026-11-27T12:00:01Z"), None, now).unwrap_err();
        assert!(future.message().contains("is in the future"));
        for bad in ["yesterday", "2026-11-23 10:41:00", "2026-13-01T00:00:00Z"] {
            let error = Target::parse(Some(bad), None, now).unwrap_err();
            assert!(error.message().contains("is not an RFC 3339 time"), "{bad}");
        }
        assert!(Target::parse(None, Some("soon"), now).is_err());
        assert_eq!(
            Target::Time(now - Duration::from_secs(1)).describe(),
            "2026-11-27T11:59:59Z"
        );
    }
}
