//! How every drill ends: its verdict written into the evidence (the first
//! error, failed checks, the RTO, the RPO, in that order), the times, the
//! signature, and the `restore_test.completed` or `restore_test.failed`
//! event with the figures. Pure but for the clock.

use std::time::{Duration, Instant, SystemTime};

use super::cluster::RestoreLog;
use super::evidence::Evidence;
use super::settings::EvidenceKey;
use crate::error::Result;
use crate::events::{Event, EventName, Level};

pub(crate) fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// Seconds to the millisecond, as evidence records them.
pub(crate) fn seconds(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// Fills in the verdict of a drill that began at `started`; `rpo_missed`
/// says, in the drill's own words, what an unmet RPO means.
pub(crate) fn conclude(
    evidence: &mut Evidence,
    result: Result<()>,
    started: Instant,
    key: Option<&EvidenceKey>,
    rpo_missed: &str,
    log: &mut RestoreLog,
) {
    let failed_checks = evidence.checks.iter().filter(|c| !c.passed).count();
    let failed_verify = evidence.verify.iter().find(|v| !v.passed).map(|v| {
        format!(
            "verification `{}` failed: {}",
            v.check,
            v.first_failure.as_deref().unwrap_or("no reason given")
        )
    });
    evidence.failure = match result {
        Err(error) => Some(error.message().to_string()),
        Ok(()) if failed_checks > 0 => Some(format!("{failed_checks} check(s) failed")),
        Ok(()) if failed_verify.is_some() => failed_verify,
        Ok(()) if evidence.rto_met == Some(false) => Some(format!(
            "the restore took {}s, more than the RTO of {}s",
            evidence.durations.restore_seconds.unwrap_or_default(),
            evidence.rto_seconds
        )),
        Ok(()) if evidence.rpo_met == Some(false) => Some(format!(
            "{rpo_missed} {}s, more than the RPO of {}s",
            evidence.data_loss_window_seconds.unwrap_or_default(),
            evidence.rpo_seconds
        )),
        Ok(()) => None,
    };
    evidence.passed = evidence.failure.is_none();
    evidence.durations.total_seconds = seconds(started.elapsed());
    evidence.finished_at = rfc3339(SystemTime::now());
    if let Some(key) = key {
        evidence.sign(key.expose_secret().as_bytes());
    }
    log.line(&match &evidence.failure {
        None => "restore test passed".to_string(),
        Some(why) => format!("restore test failed: {why}"),
    });
}

/// `restore_test.completed` or `restore_test.failed`, with the figures;
/// `restored` names what was restored (a backup, or dump sets).
pub(crate) fn finished(evidence: &Evidence, uri: &str, restored: serde_json::Value) -> Event {
    let details = serde_json::json!({
        "source": evidence.source,
        "evidence": uri,
        "backup": restored,
        "target": evidence.target,
        "restore_seconds": evidence.durations.restore_seconds,
        "total_seconds": evidence.durations.total_seconds,
        "rto_met": evidence.rto_met,
        "rpo_met": evidence.rpo_met,
        "data_loss_window_seconds": evidence.data_loss_window_seconds,
        "checks_passed": evidence.checks.iter().filter(|c| c.passed).count(),
        "checks_failed": evidence.checks.iter().filter(|c| !c.passed).count(),
    });
    match &evidence.failure {
        None => {
            Event::message(EventName::RestoreTestCompleted, "restore test passed").details(details)
        }
        Some(why) => Event::message(
            EventName::RestoreTestFailed,
            format!("restore test failed: {why}"),
        )
        .level(Level::Error)
        .details(details),
    }
}

/// `restore_test.failed` for a drill whose evidence could not be recorded.
pub(crate) fn not_recorded(error: &crate::error::Error) -> Event {
    Event::message(
        EventName::RestoreTestFailed,
        format!("restore test not recorded: {}", error.message()),
    )
    .level(Level::Error)
}
