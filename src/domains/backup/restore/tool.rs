//! The backup tool's command lines for a restore test, and the settings the
//! throwaway server gets. Pure: `run` executes what this returns, and the
//! snapshot tests show every command line and file exactly. No secret is on
//! a command line: credentials stay in the rendered configuration file,
//! written 0600 into the work directory.

use std::path::{Path, PathBuf};

use super::catalog::Backup;
use super::target::Target;
use crate::domains::backup::desired::BackupTool;
pub(crate) use crate::drill::layout::{auto_conf, Invocation, Layout, HBA};
use crate::util::shell::shell_quote;

/// The tool's configuration as dbops renders it (pgbackrest.conf or the WAL-G env file).
pub(crate) fn tool_config(layout: &Layout, tool: BackupTool) -> PathBuf {
    layout.work.join(match tool {
        BackupTool::PgBackRest => "pgbackrest.conf",
        BackupTool::WalG => "walg.env",
    })
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// `sh -c '<load the env file>; exec wal-g ...' ENVFILE ARGS...`: WAL-G reads
/// its settings from the environment only.
const WALG_WRAPPER: &str = "set -a; . \"$0\"; set +a; exec wal-g \"$@\"";

fn walg(layout: &Layout) -> Invocation {
    Invocation::new("sh")
        .arg("-c")
        .arg(WALG_WRAPPER)
        .arg(path(&tool_config(layout, BackupTool::WalG)))
}

fn pgbackrest(layout: &Layout, stanza: &str) -> Invocation {
    Invocation::new("pgbackrest")
        .arg(format!(
            "--config={}",
            path(&tool_config(layout, BackupTool::PgBackRest))
        ))
        .arg(format!("--stanza={stanza}"))
        .arg(format!("--lock-path={}", path(&layout.lock())))
        .arg("--log-level-file=off")
}

/// The tool's version, for the evidence.
pub(crate) fn version(tool: BackupTool) -> Invocation {
    match tool {
        BackupTool::PgBackRest => Invocation::new("pgbackrest").arg("version"),
        BackupTool::WalG => Invocation::new("wal-g").arg("--version"),
    }
}

/// `--repo=N` for a repository after the first (`restore-test --repository N`).
fn repo(invocation: Invocation, repository: Option<u32>) -> Invocation {
    match repository {
        Some(n) => invocation.arg(format!("--repo={n}")),
        None => invocation,
    }
}

/// The catalogue of backups, as JSON on stdout.
pub(crate) fn list(
    tool: BackupTool,
    layout: &Layout,
    stanza: &str,
    repository: Option<u32>,
) -> Invocation {
    match tool {
        BackupTool::PgBackRest => repo(pgbackrest(layout, stanza), repository)
            .arg("--log-level-console=warn")
            .arg("--output=json")
            .arg("info"),
        BackupTool::WalG => walg(layout)
            .arg("backup-list")
            .arg("--json")
            .arg("--detail"),
    }
}

/// PostgreSQL's timestamp form, which both tools pass to `recovery_target_time`.
pub(crate) fn postgres_time(at: std::time::SystemTime) -> String {
    let text = humantime::format_rfc3339_micros(at).to_string();
    format!("{} {}+00", &text[..10], &text[11..26])
}

/// Fetches `backup` into the data directory. pgBackRest also writes the
/// recovery settings (and `archive_mode = off`); WAL-G's are [`recovery`].
pub(crate) fn fetch(
    tool: BackupTool,
    layout: &Layout,
    stanza: &str,
    (backup, repository): (&Backup, Option<u32>),
    target: &Target,
) -> Invocation {
    match tool {
        BackupTool::PgBackRest => {
            let restore = repo(pgbackrest(layout, stanza), repository)
                .arg("--log-level-console=detail")
                .arg(format!("--pg1-path={}", path(&layout.data())))
                .arg(format!("--set={}", backup.name))
                .arg("--archive-mode=off");
            let restore = match target {
                Target::Latest => restore.arg("--type=default"),
                Target::Immediate => restore
                    .arg("--type=immediate")
                    .arg("--target-action=promote"),
                Target::Time(at) => restore
                    .arg("--type=time")
                    .arg(format!("--target={}", postgres_time(*at)))
                    .arg("--target-action=promote"),
            };
            restore.arg("restore")
        }
        BackupTool::WalG => walg(layout)
            .arg("backup-fetch")
            .arg(path(&layout.data()))
            .arg(&backup.name),
    }
}

/// Fetches one archived WAL segment to `dest` (after the backup was
/// fetched: pgBackRest checks the segment against the data directory's
/// `pg_control`).
pub(crate) fn fetch_segment(
    tool: BackupTool,
    layout: &Layout,
    stanza: &str,
    repository: Option<u32>,
    segment: &str,
    dest: &Path,
) -> Invocation {
    match tool {
        BackupTool::PgBackRest => repo(pgbackrest(layout, stanza), repository)
            .arg("--log-level-console=warn")
            .arg(format!("--pg1-path={}", path(&layout.data())))
            .arg("archive-get")
            .arg(segment)
            .arg(path(dest)),
        BackupTool::WalG => walg(layout).arg("wal-fetch").arg(segment).arg(path(dest)),
    }
}

/// `pgbackrest annotate`: key/value marks on one backup set.
pub(crate) fn annotate(
    layout: &Layout,
    stanza: &str,
    repository: Option<u32>,
    set: &str,
    marks: &[(&str, String)],
) -> Invocation {
    let mut invocation = repo(pgbackrest(layout, stanza), repository)
        .arg("--log-level-console=warn")
        .arg(format!("--set={set}"));
    for (key, value) in marks {
        invocation = invocation.arg(format!("--annotation={key}={value}"));
    }
    invocation.arg("annotate")
}

/// `pg_waldump` of one segment's transaction records, times in UTC.
pub(crate) fn waldump(bindir: &Path, segment: &Path) -> Invocation {
    Invocation::new("env")
        .arg("TZ=UTC")
        .arg(path(&bindir.join("pg_waldump")))
        .arg("--rmgr=Transaction")
        .arg(path(segment))
        .arg(path(segment))
}

/// The recovery target a random drill drew after the fetch: pgBackRest
/// restored for `latest`, and a later line of `postgresql.auto.conf` wins.
pub(crate) fn late_target(at: std::time::SystemTime) -> Vec<(String, String)> {
    vec![
        ("recovery_target_time".into(), postgres_time(at)),
        ("recovery_target_action".into(), "promote".into()),
    ]
}

/// Recovery settings dbops writes itself (WAL-G; pgBackRest writes its own).
pub(crate) fn recovery(
    tool: BackupTool,
    layout: &Layout,
    target: &Target,
) -> Vec<(String, String)> {
    match tool {
        BackupTool::PgBackRest => Vec::new(),
        BackupTool::WalG => {
            let fetch = format!(
                "sh -c {} {} %f %p",
                shell_quote("set -a; . \"$0\"; set +a; exec wal-g wal-fetch \"$1\" \"$2\""),
                shell_quote(&path(&tool_config(layout, BackupTool::WalG)))
            );
            let mut settings = vec![("restore_command".to_string(), fetch)];
            match target {
                Target::Latest => {}
                Target::Immediate => {
                    settings.push(("recovery_target".into(), "immediate".into()));
                    settings.push(("recovery_target_action".into(), "promote".into()));
                }
                Target::Time(at) => {
                    settings.push(("recovery_target_time".into(), postgres_time(*at)));
                    settings.push(("recovery_target_action".into(), "promote".into()));
                }
            }
            settings
        }
    }
}

/// What makes the restored server a throwaway: its own port and socket,
/// loopback only, trust on its own socket only, no archiving (it never
/// pushes WAL or a timeline into the production repository), and none of
/// production's commands: every setting that runs one is reset but the
/// tool's own `restore_command` (a standby's `archive_cleanup_command` would
/// delete production's archive), and no logical replication worker starts
/// (a subscription would consume production's slot). `major`: PostgreSQL's
/// major version of the data directory.
pub(crate) fn throwaway(layout: &Layout, port: u16, major: u32) -> Vec<(String, String)> {
    let mut settings: Vec<(String, String)> = [
        ("archive_cleanup_command", String::new()),
        ("recovery_end_command", String::new()),
        ("ssl_passphrase_command", String::new()),
        ("max_logical_replication_workers", "0".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    if major >= 15 {
        settings.push(("archive_library".into(), String::new()));
    }
    settings.extend(crate::drill::layout::base_settings(layout, port));
    settings
}

/// Preloaded libraries that run jobs or connect elsewhere on their own,
/// removed from the copy's `shared_preload_libraries` unless
/// `[restore_test] keep_preload_libraries` names them. Others stay: an
/// extension such as timescaledb is needed to read its own objects.
pub(crate) const JOB_LIBRARIES: &[&str] = &[
    "pg_cron",
    "pg_partman_bgw",
    "pglogical",
    "pg_squeeze",
    "pg_timetable",
    "pgagent",
];

/// `shared_preload_libraries` without the job-running libraries not kept:
/// the new value and what was removed, or `None` when nothing is.
pub(crate) fn without_job_libraries(value: &str, keep: &[String]) -> Option<(String, Vec<String>)> {
    let libraries: Vec<String> = value
        .split(',')
        .map(|l| l.trim().trim_matches('"').to_string())
        .filter(|l| !l.is_empty())
        .collect();
    let job = |l: &String| {
        let base = l.rsplit('/').next().unwrap_or(l).trim_end_matches(".so");
        JOB_LIBRARIES.contains(&base) && !keep.iter().any(|k| k == base || k == l)
    };
    let removed: Vec<String> = libraries.iter().filter(|l| job(l)).cloned().collect();
    if removed.is_empty() {
        return None;
    }
    let kept: Vec<String> = libraries.into_iter().filter(|l| !job(l)).collect();
    Some((kept.join(","), removed))
}

/// The parameters `pg_controldata` reports that replay needs at least as
/// high as the primary had them, as settings: `max_prepared_xacts setting: 5`
/// becomes `max_prepared_transactions = 5`.
pub(crate) fn control_parameters(controldata: &str) -> Vec<(String, String)> {
    const PARAMETERS: &[(&str, &str)] = &[
        ("max_connections setting", "max_connections"),
        ("max_worker_processes setting", "max_worker_processes"),
        ("max_wal_senders setting", "max_wal_senders"),
        ("max_prepared_xacts setting", "max_prepared_transactions"),
        ("max_locks_per_xact setting", "max_locks_per_transaction"),
    ];
    controldata
        .lines()
        .filter_map(|line| {
            let (label, value) = line.split_once(':')?;
            let (_, name) = PARAMETERS.iter().find(|(l, _)| *l == label.trim())?;
            let value = value.trim();
            value
                .parse::<u32>()
                .ok()
                .map(|_| (name.to_string(), value.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    fn backup() -> Backup {
        Backup {
            name: "base_000000010000000000000002".into(),
            start: SystemTime::UNIX_EPOCH,
            stop: SystemTime::UNIX_EPOCH,
            start_lsn: "0/2000028".into(),
            stop_lsn: "0/2000100".into(),
            size_bytes: 1,
        }
    }

    fn every_command(tool: BackupTool) -> String {
        let layout = Layout {
            work: PathBuf::from("/var/tmp/dbops restore-test-x"),
        };
        let at = Target::Time(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_300_000) + Duration::from_micros(5),
        );
        let mut out = String::new();
        out.push_str(&format!("version: {}\n", version(tool).display()));
        out.push_str(&format!(
            "list: {}\n",
            list(tool, &layout, "main", None).display()
        ));
        for target in [Target::Latest, Target::Immediate, at] {
            out.push_str(&format!(
                "\n## {}\nfetch: {}\n",
                target.describe(),
                fetch(tool, &layout, "main", (&backup(), None), &target).display()
            ));
            let mut settings = recovery(tool, &layout, &target);
            settings.extend(throwaway(&layout, 54321, 15));
            out.push_str(&auto_conf(&settings));
        }
        let segment = "000000010000000000000007";
        let probe = layout.work.join("wal-probe").join(segment);
        out.push_str(&format!(
            "\n## repository 2, a random target\nlist: {}\nfetch: {}\nsegment: {}\nwaldump: {}\n{}",
            list(tool, &layout, "main", Some(2)).display(),
            fetch(tool, &layout, "main", (&backup(), Some(2)), &Target::Latest).display(),
            fetch_segment(tool, &layout, "main", Some(2), segment, &probe).display(),
            waldump(std::path::Path::new("/usr/lib/postgresql/15/bin"), &probe).display(),
            auto_conf(&late_target(
                SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_300_000)
            )),
        ));
        if tool == BackupTool::PgBackRest {
            out.push_str(&format!(
                "annotate: {}\n",
                annotate(
                    &layout,
                    "main",
                    Some(2),
                    "20261130-020000F",
                    &[("dbops-restore-test", "passed 2026-11-30T03:00:00Z".into())]
                )
                .display()
            ));
        }
        out
    }

    #[test]
    fn pgbackrest_commands() {
        insta::assert_snapshot!(every_command(BackupTool::PgBackRest));
    }

    #[test]
    fn walg_commands() {
        insta::assert_snapshot!(every_command(BackupTool::WalG));
    }

    #[test]
    fn shell_quoting_reads_back() {
        for word in ["plain", "with space", "it's", "$HOME", "a\"b", ""] {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {}", shell_quote(word)))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8(out.stdout).unwrap(), word);
        }
    }

    #[test]
    fn control_data_parameters_become_settings() {
        let controldata = "pg_control version number:            1300\nwal_level setting:                    replica\nmax_connections setting:              100\nmax_worker_processes setting:         8\nmax_wal_senders setting:              10\nmax_prepared_xacts setting:           5\nmax_locks_per_xact setting:           64\n";
        assert_eq!(
            control_parameters(controldata),
            [
                ("max_connections", "100"),
                ("max_worker_processes", "8"),
                ("max_wal_senders", "10"),
                ("max_prepared_transactions", "5"),
                ("max_locks_per_transaction", "64"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
    }

    #[test]
    fn job_libraries_are_not_preloaded_unless_kept() {
        assert_eq!(
            without_job_libraries("pg_stat_statements, pg_cron,timescaledb", &[]),
            Some((
                "pg_stat_statements,timescaledb".into(),
                vec!["pg_cron".to_string()]
            ))
        );
        assert_eq!(
            without_job_libraries("\"$libdir/pg_partman_bgw.so\"", &[]),
            Some((String::new(), vec!["$libdir/pg_partman_bgw.so".to_string()]))
        );
        assert_eq!(without_job_libraries("pg_stat_statements", &[]), None);
        assert_eq!(without_job_libraries("pg_cron", &["pg_cron".into()]), None);
        assert_eq!(without_job_libraries("", &[]), None);
    }
}
