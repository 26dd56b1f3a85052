//! Archive settings derived from `[backup]`, published for the settings
//! domain (which also checks that the file's own settings do not defeat
//! them). Pure: no I/O.
//!
//! From `tool` and `rpo` dbops derives `wal_level = replica`, `archive_mode =
//! on`, the tool's `archive_command`, and `archive_timeout = min(rpo, 60s)`:
//! a quiet server switches WAL segments at least every minute, so the newest WAL
//! in the bucket is never older than the RPO allows. Settings written in
//! `[server.settings]` always win over derived ones.

use std::time::Duration;

use super::desired::{BackupTool, DesiredBackup};
use crate::util::shell::shell_quote;

/// The longest `archive_timeout` dbops derives, whatever the RPO.
const MAX_DERIVED_ARCHIVE_TIMEOUT: Duration = Duration::from_secs(60);

/// The tool's `archive-push`, on the configuration dbops renders when the
/// file declares where it goes (`config_file` for pgBackRest, `env_file` for
/// WAL-G), so the server never archives on a default file that is not
/// dbops's (or on another stanza's repository).
pub(crate) fn default_archive_command(
    tool: BackupTool,
    stanza: &str,
    config: Option<&str>,
) -> String {
    match (tool, config) {
        (BackupTool::WalG, None) => "wal-g wal-push %p".to_string(),
        (BackupTool::WalG, Some(env_file)) => format!(
            "sh -c {} {} %p",
            shell_quote("set -a; . \"$0\"; set +a; exec wal-g wal-push \"$1\""),
            shell_quote(env_file)
        ),
        (BackupTool::PgBackRest, None) => {
            format!(
                "pgbackrest --stanza={} archive-push %p",
                shell_quote(stanza)
            )
        }
        (BackupTool::PgBackRest, Some(config_file)) => format!(
            "pgbackrest --config={} --stanza={} archive-push %p",
            shell_quote(config_file),
            shell_quote(stanza)
        ),
    }
}

/// The settings archiving needs, as (name, value) pairs.
pub(crate) fn derive(backup: &DesiredBackup) -> Vec<(String, String)> {
    let timeout = backup.rpo.min(MAX_DERIVED_ARCHIVE_TIMEOUT).as_secs().max(1);
    vec![
        ("wal_level".into(), "replica".into()),
        ("archive_mode".into(), "on".into()),
        ("archive_command".into(), backup.archive_command.clone()),
        ("archive_timeout".into(), format!("{timeout}s")),
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn backup(tool: BackupTool, rpo: u64) -> DesiredBackup {
        DesiredBackup {
            tool,
            rpo: Duration::from_secs(rpo),
            archive_command: default_archive_command(tool, "main", None),
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
    fn the_archive_command_uses_the_rendered_configuration() {
        assert_eq!(
            default_archive_command(
                BackupTool::PgBackRest,
                "main",
                Some("/etc/dbops/pgbackrest.conf")
            ),
            "pgbackrest --config=/etc/dbops/pgbackrest.conf --stanza=main archive-push %p"
        );
        assert_eq!(
            default_archive_command(
                BackupTool::PgBackRest,
                "main",
                Some("/etc/my conf/p'b.conf")
            ),
            "pgbackrest --config='/etc/my conf/p'\\''b.conf' --stanza=main archive-push %p"
        );
        assert_eq!(
            default_archive_command(BackupTool::WalG, "main", Some("/run/walg.env")),
            "sh -c 'set -a; . \"$0\"; set +a; exec wal-g wal-push \"$1\"' /run/walg.env %p"
        );
    }
}
