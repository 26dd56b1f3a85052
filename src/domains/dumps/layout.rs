//! Where a set lives and what its name says. A set is one database's dump
//! at one second: `DATABASE/YYYY/MM/DD/HHMMSSZ/` (UTC) in a directory, and
//! `PREFIX/CLASS/DATABASE/YYYY/MM/DD/HHMMSSZ/` in a bucket, where the class
//! (`daily`, `weekly`, `monthly`) is the key prefix the bucket's lifecycle
//! rules expire by. Calendar arithmetic on days since the epoch, pure.

/// The retention class of a set: the first of its month, else the first of
/// its ISO week, else an ordinary daily set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Class {
    Daily,
    Weekly,
    Monthly,
}

impl Class {
    pub(crate) const ALL: [Class; 3] = [Class::Daily, Class::Weekly, Class::Monthly];

    pub(crate) fn word(self) -> &'static str {
        match self {
            Class::Daily => "daily",
            Class::Weekly => "weekly",
            Class::Monthly => "monthly",
        }
    }
}

/// Names a database or prefix may not take: the physical backups' layout
/// in the same bucket and the classes.
pub(crate) const RESERVED: &[&str] = &[
    "restore-tests",
    "wal_005",
    "basebackups_005",
    "archive",
    "backup",
    "daily",
    "weekly",
    "monthly",
    "dump-tests",
];

/// `(year, month, day)` of a day number (days since 1970-01-01).
pub(crate) fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The day number of `(year, month, day)`.
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A number per ISO week (Monday to Sunday); 1970-01-01 was a Thursday.
pub(crate) fn week(seconds: i64) -> i64 {
    (seconds.div_euclid(86_400) + 3).div_euclid(7)
}

/// A number per calendar month.
pub(crate) fn month(seconds: i64) -> i64 {
    let (year, month, _) = civil(seconds.div_euclid(86_400));
    year * 12 + i64::from(month)
}

/// `YYYY/MM/DD/HHMMSSZ` of a second.
pub(crate) fn stamp(seconds: i64) -> String {
    let (year, month, day) = civil(seconds.div_euclid(86_400));
    let second = seconds.rem_euclid(86_400);
    format!(
        "{year:04}/{month:02}/{day:02}/{:02}{:02}{:02}Z",
        second / 3600,
        second % 3600 / 60,
        second % 60
    )
}

/// The second a `YYYY/MM/DD/HHMMSSZ` names, if it is one (and a real date).
pub(crate) fn parse_stamp(text: &str) -> Option<i64> {
    let parts: Vec<&str> = text.trim_end_matches('/').split('/').collect();
    let [year, month, day, time] = parts.as_slice() else {
        return None;
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let time = time.strip_suffix('Z')?;
    if !digits(year, 4) || !digits(month, 2) || !digits(day, 2) || !digits(time, 6) {
        return None;
    }
    let (year, month, day): (i64, u32, u32) =
        (year.parse().ok()?, month.parse().ok()?, day.parse().ok()?);
    let (h, m, s): (i64, i64, i64) = (
        time[0..2].parse().ok()?,
        time[2..4].parse().ok()?,
        time[4..6].parse().ok()?,
    );
    if !(1..=12).contains(&month) || day == 0 || h > 23 || m > 59 || s > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    // 31 February is refused: the day must come back as itself.
    if civil(days) != (year, month, day) {
        return None;
    }
    Some(days * 86_400 + h * 3600 + m * 60 + s)
}

/// The class a new set at `at` takes among the complete sets `existing`.
pub(crate) fn classify(existing: &[i64], at: i64) -> Class {
    let earlier = existing.iter().filter(|t| **t < at);
    let (mut same_month, mut same_week) = (false, false);
    for t in earlier {
        same_month |= month(*t) == month(at);
        same_week |= week(*t) == week(at);
    }
    if !same_month {
        Class::Monthly
    } else if !same_week {
        Class::Weekly
    } else {
        Class::Daily
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_round_trip_and_refuse_what_is_not_a_date() {
        for seconds in [
            0,
            951_782_400,
            1_764_676_800,
            1_764_676_800 + 86_399,
            4_102_444_800,
        ] {
            assert_eq!(
                parse_stamp(&stamp(seconds)),
                Some(seconds),
                "{}",
                stamp(seconds)
            );
        }
        assert_eq!(stamp(1_764_670_981), "2025/12/02/102301Z");
        for bad in [
            "2025/02/31/000000Z",
            "2025/13/01/000000Z",
            "2025/12/02/246000Z",
            "2025/12/02/000000",
            "x/12/02/000000Z",
            "2025/12/02",
        ] {
            assert_eq!(parse_stamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_first_set_of_a_month_is_monthly_of_a_week_weekly() {
        let day = 86_400;
        // 2025-12-01 was a Monday.
        let monday = days_from_civil(2025, 12, 1) * day;
        assert_eq!(classify(&[], monday), Class::Monthly);
        assert_eq!(classify(&[monday], monday + day), Class::Daily);
        assert_eq!(
            classify(&[monday, monday + day], monday + 7 * day),
            Class::Weekly
        );
        // Sunday 2025-11-30 and Monday 2025-12-01: a new month wins.
        assert_eq!(classify(&[monday - day], monday), Class::Monthly);
        assert_eq!(week(monday - day) + 1, week(monday));
    }
}
