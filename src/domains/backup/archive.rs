//! Archive settings derived from `[backup]`, and the lints that catch a backup
//! declaration the server settings would defeat. Pure: no I/O.
//!
//! From `tool` and `rpo` dbops derives `wal_level = replica`, `archive_mode =
//! on`, the tool's `archive_command`, and `archive_timeout = min(rpo, 60s)`:
//! a quiet server switches WAL segments at least every minute, so the newest WAL
//! in the bucket is never older than the RPO allows. Settings written in
//! `[server.settings]` always win over derived ones.

use std::collections::BTreeMap;
use std::time::Duration;

use super::desired::{BackupTool, DesiredBackup};
use crate::pg::setting_value::{duration_ms, parse_bool};

/// The longest `archive_timeout` dbops derives, whatever the RPO.
const MAX_DERIVED_ARCHIVE_TIMEOUT: Duration = Duration::from_secs(60);

pub fn default_archive_command(tool: BackupTool, stanza: &str) -> String {
    match tool {
        BackupTool::WalG => "wal-g wal-push %p".to_string(),
        BackupTool::PgBackRest => format!("pgbackrest --stanza={stanza} archive-push %p"),
    }
}

/// The settings archiving needs, as (name, value) pairs.
pub fn derive(backup: &DesiredBackup) -> Vec<(String, String)> {
    let timeout = backup.rpo.min(MAX_DERIVED_ARCHIVE_TIMEOUT).as_secs().max(1);
    vec![
        ("wal_level".into(), "replica".into()),
        ("archive_mode".into(), "on".into()),
        ("archive_command".into(), backup.archive_command.clone()),
        ("archive_timeout".into(), format!("{timeout}s")),
    ]
}

/// A finding about archiving: an error stops validate and plan; a warning is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lint {
    pub error: bool,
    /// The setting the finding is about, for its location.
    pub setting: &'static str,
    pub message: String,
}

/// Checks the effective settings (explicit and derived) against the backup.
pub fn lint(rpo_text: &str, rpo: Duration, effective: &BTreeMap<String, String>) -> Vec<Lint> {
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

    fn backup(tool: BackupTool, rpo: u64) -> DesiredBackup {
        DesiredBackup {
            tool,
            rpo: Duration::from_secs(rpo),
            archive_command: default_archive_command(tool, "main"),
            ..DesiredBackup::example()
        }
    }

    #[test]
    fn derives_archiving_for_each_tool() {
        let walg: BTreeMap<_, _> = derive(&backup(BackupTool::WalG, 300)).into_iter().collect();
        assert_eq!(walg["archive_command"], "wal-g wal-push %p");
        assert_eq!(walg["archive_timeout"], "60s");
        assert_eq!(walg["wal_level"], "replica");
        assert_eq!(walg["archive_mode"], "on");
        let pgbr: BTreeMap<_, _> = derive(&backup(BackupTool::PgBackRest, 30))
            .into_iter()
            .collect();
        assert_eq!(
            pgbr["archive_command"],
            "pgbackrest --stanza=main archive-push %p"
        );
        assert_eq!(pgbr["archive_timeout"], "30s");
    }

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
