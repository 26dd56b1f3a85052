//! Durations as people write and read them: `5m`, `26h`, `35d` parsed with a
//! range check (no overflow, ever), and `3h 5m` for messages.

use std::time::Duration;

/// The longest duration dbops accepts anywhere: 100 years.
pub(crate) const MAX: Duration = Duration::from_secs(100 * 365 * 86_400);

/// Parses `text` (`30s`, `5m`, `1h 30m`, `35d`), refusing zero when `allow_zero`
/// is false and anything longer than [`MAX`].
pub(crate) fn parse(text: &str, allow_zero: bool) -> Result<Duration, String> {
    let parsed = humantime::parse_duration(text.trim())
        .map_err(|e| format!("`{text}` is not a duration ({e})"))?;
    if parsed > MAX {
        return Err(format!(
            "`{text}` is longer than the 100 years dbops accepts"
        ));
    }
    if parsed.is_zero() && !allow_zero {
        return Err(format!("`{text}` is zero; give a positive duration"));
    }
    Ok(parsed)
}

/// `40d`, `1d 2h`, `3h 5m`, `10m`, `45s`: the two largest units, for people.
pub(crate) fn short(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let parts = [
        (seconds / 86_400, "d"),
        (seconds % 86_400 / 3_600, "h"),
        (seconds % 3_600 / 60, "m"),
        (seconds % 60, "s"),
    ];
    let Some(first) = parts.iter().position(|(n, _)| *n > 0) else {
        return "0s".to_string();
    };
    parts[first..]
        .iter()
        .take(2)
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_range_checks() {
        assert_eq!(parse("5m", false), Ok(Duration::from_secs(300)));
        assert!(parse("10000000000000000000s", false)
            .unwrap_err()
            .contains("100 years"));
        assert!(parse("99999999999999999999999s", false)
            .unwrap_err()
            .contains("not a duration"));
        assert!(parse("200years", false).unwrap_err().contains("100 years"));
        assert!(parse("0s", false).unwrap_err().contains("zero"));
        assert_eq!(parse("0s", true), Ok(Duration::ZERO));
    }

    #[test]
    fn short_forms() {
        assert_eq!(short(Duration::from_secs(3 * 3600 + 5 * 60 + 7)), "3h 5m");
        assert_eq!(short(Duration::ZERO), "0s");
        assert_eq!(short(Duration::from_secs(40 * 86_400)), "40d");
    }
}
