//! Settings that would defeat continuous archiving: the backup domain
//! publishes the settings archiving needs and the RPO, and these lints check
//! the effective settings (the file's own, then the derived ones) against
//! them. Pure: no I/O.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::pg::setting_value::{duration_ms, parse_bool};

/// A finding about archiving: an error stops validate and plan; a warning is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lint {
    pub(crate) error: bool,
    /// The setting the finding is about, for its location.
    pub(crate) setting: &'static str,
    pub(crate) message: String,
}

/// Checks the effective settings (explicit and derived) against the backup.
pub(crate) fn lint(
    rpo_text: &str,
    rpo: Duration,
    effective: &BTreeMap<String, String>,
) -> Vec<Lint> {
    let mut lints = Vec::new();
    let archive_mode = effective
        .get("archive_mode")
        .map(|v| v.to_ascii_lowercase());
    let archiving = match archive_mode.as_deref() {
        Some("always") => true,
        Some(mode) => parse_bool(mode).unwrap_or(false),
        None => false,
    };
    if !archiving {
        lints.push(Lint {
            error: true,
            setting: "archive_mode",
            message:
                "`archive_mode` is off while `[backup]` is declared: no WAL would reach the backup"
                    .into(),
        });
    }
    if archiving
        && effective
            .get("wal_level")
            .is_some_and(|v| v.eq_ignore_ascii_case("minimal"))
    {
        lints.push(Lint {
            error: true,
            setting: "wal_level",
            message: "`wal_level = minimal` cannot archive WAL; PostgreSQL refuses to start with archiving on".into(),
        });
    }
    if let Some(timeout) = effective.get("archive_timeout") {
        match duration_ms(timeout, "s") {
            Some(0.0) => lints.push(Lint {
                error: false,
                setting: "archive_timeout",
                message: format!(
                    "`archive_timeout = {timeout}` disables forced WAL switches: a quiet server can go past `backup.rpo` ({rpo_text}) without archiving"
                ),
            }),
            Some(ms) if ms > rpo.as_millis() as f64 => lints.push(Lint {
                error: false,
                setting: "archive_timeout",
                message: format!(
                    "`archive_timeout = {timeout}` is longer than `backup.rpo` ({rpo_text}): a quiet server can lose more than the RPO allows"
                ),
            }),
            _ => {}
        }
    }
    lints
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lints_catch_settings_that_defeat_the_backup() {
        let rpo = Duration::from_secs(300);
        let effective = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let ok = effective(&[
            ("archive_mode", "on"),
            ("wal_level", "replica"),
            ("archive_timeout", "60s"),
        ]);
        assert!(lint("5m", rpo, &ok).is_empty());
        let off = lint(
            "5m",
            rpo,
            &effective(&[("archive_mode", "off"), ("archive_timeout", "60s")]),
        );
        assert!(off[0].error && off[0].setting == "archive_mode");
        let minimal = lint(
            "5m",
            rpo,
            &effective(&[("archive_mode", "on"), ("wal_level", "minimal")]),
        );
        assert!(minimal[0].error && minimal[0].setting == "wal_level");
        let slow = lint(
            "5m",
            rpo,
            &effective(&[("archive_mode", "on"), ("archive_timeout", "10min")]),
        );
        assert!(!slow[0].error && slow[0].message.contains("longer than `backup.rpo` (5m)"));
        let disabled = lint(
            "5m",
            rpo,
            &effective(&[("archive_mode", "true"), ("archive_timeout", "0")]),
        );
        assert!(disabled[0].message.contains("disables forced WAL switches"));
    }
}
