//! Which sets the policy keeps, as age windows: every set younger than
//! `daily` days; the first complete set of each ISO week younger than
//! `weekly` x 7 days; the first complete set of each month younger than
//! `monthly` x 30 days; and always the newest complete set. Incomplete sets
//! (no manifest) are never anyone's "first", so they leave with the daily
//! window. Pure: the directory pruner deletes what this drops, and drift
//! reports sets the policy would have dropped.

use super::desired::Retention;
use super::layout::{month, week};

/// One set as retention sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dated {
    /// Seconds since the epoch (the set's name).
    pub(crate) at: i64,
    pub(crate) complete: bool,
}

/// For each set (any order), whether the policy keeps it at `now`.
pub(crate) fn keep(sets: &[Dated], retention: Retention, now: i64) -> Vec<bool> {
    let mut order: Vec<usize> = (0..sets.len()).collect();
    order.sort_by_key(|i| sets[*i].at);
    let newest_complete = order.iter().rev().find(|i| sets[**i].complete).copied();
    let mut seen_weeks = std::collections::BTreeSet::new();
    let mut seen_months = std::collections::BTreeSet::new();
    let mut first_of_week = vec![false; sets.len()];
    let mut first_of_month = vec![false; sets.len()];
    for &i in &order {
        if !sets[i].complete {
            continue;
        }
        first_of_week[i] = seen_weeks.insert(week(sets[i].at));
        first_of_month[i] = seen_months.insert(month(sets[i].at));
    }
    let within = |i: usize, days: u64| {
        let age = now - sets[i].at;
        age < 0 || (age as u64) < days * 86_400
    };
    (0..sets.len())
        .map(|i| {
            Some(i) == newest_complete
                || within(i, retention.daily_days())
                || (first_of_week[i] && within(i, retention.weekly_days()))
                || (first_of_month[i] && within(i, retention.monthly_days()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domains::dumps::layout::{civil, days_from_civil};

    const DAY: i64 = 86_400;
    const POLICY: Retention = Retention {
        daily: 7,
        weekly: 4,
        monthly: 3,
    };

    /// The policy stated independently: which of the sets written once a
    /// day at 02:00 from `start` to `today` (inclusive) are kept on `today`.
    fn expected(start: i64, today: i64, now: i64) -> Vec<i64> {
        let mut out = Vec::new();
        for day in start..=today {
            let at = day * DAY + 2 * 3600;
            let age_days = (now - at) as f64 / DAY as f64;
            let (_, _, d) = civil(day);
            // Monday-based: 1970-01-01 (day 0) was a Thursday.
            let weekday = (day + 3).rem_euclid(7); // 0 = Monday
            let first_of_week = weekday == 0 || day == start;
            let first_of_month = d == 1 || day == start;
            let kept = day == today
                || age_days < 7.0
                || (first_of_week && age_days < 28.0)
                || (first_of_month && age_days < 90.0);
            if kept {
                out.push(at);
            }
        }
        out
    }

    #[test]
    fn a_hundred_simulated_days_keep_exactly_what_the_policy_says() {
        let start = days_from_civil(2025, 10, 15);
        let mut present: Vec<i64> = Vec::new();
        for today in start..start + 100 {
            present.push(today * DAY + 2 * 3600);
            let now = today * DAY + 2 * 3600 + 600;
            let sets: Vec<Dated> = present
                .iter()
                .map(|at| Dated {
                    at: *at,
                    complete: true,
                })
                .collect();
            let keep = keep(&sets, POLICY, now);
            present = present
                .iter()
                .zip(keep)
                .filter(|(_, k)| *k)
                .map(|(at, _)| *at)
                .collect();
            assert_eq!(
                present,
                expected(start, today, now),
                "day {}",
                today - start
            );
        }
        // 7 daily, the Mondays of 4 weeks, the firsts of 3 months, overlapping.
        assert!(
            present.len() >= 10 && present.len() <= 14,
            "{}",
            present.len()
        );
    }

    #[test]
    fn the_newest_complete_set_stays_and_incomplete_sets_are_nobody_s_first() {
        let now = 400 * DAY;
        let sets = [
            Dated {
                at: 100 * DAY,
                complete: true,
            },
            Dated {
                at: 399 * DAY,
                complete: false,
            },
        ];
        assert_eq!(keep(&sets, POLICY, now), [true, true]);
        let old_incomplete = [
            Dated {
                at: 10 * DAY,
                complete: false,
            },
            Dated {
                at: 11 * DAY,
                complete: true,
            },
        ];
        assert_eq!(keep(&old_incomplete, POLICY, now), [false, true]);
    }
}
