//! Health of the repositories after the first (`[[backup.repositories]]`,
//! pgBackRest's `repo2`...): each must hold a recent full backup, its WAL
//! chain (when the chain is checked), and a passing drill of its own within
//! `restore_test_max_age`. A copy is read like repository 1 (its bucket,
//! or its directory laid out the same way); one that cannot be read is a
//! finding of its own, never an error that hides the others. Observing
//! reads; [`check`] is pure.

use std::time::{Duration, SystemTime};

use super::desired::{DesiredBackup, Place, Repository};
use super::health::{self, Archiver, Chain, Observed};
use super::listing::Lister;
use crate::plan::{Finding, FindingClass};
use crate::s3::client::client;
use crate::util::durations::short;

/// What drift saw of one repository after the first.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Copy {
    pub(crate) number: u32,
    /// `s3://BUCKET/PREFIX` or the directory.
    pub(crate) place: String,
    /// Why it could not be read; then nothing else is known.
    pub(crate) unreadable: Option<String>,
    /// Every complete backup it lists: the catalogue its drills are judged by.
    pub(crate) known: Vec<String>,
    pub(crate) full_backups: Vec<(String, SystemTime)>,
    pub(crate) incomplete_backups: Vec<(String, SystemTime)>,
    pub(crate) chain: Option<Chain>,
    pub(crate) requests: usize,
}

/// The watermark file of repository `n`: the declared one, `.repoN` added.
pub(crate) fn state_path(backup: &DesiredBackup, n: u32) -> Option<std::path::PathBuf> {
    let path = backup.wal_chain_state.as_ref()?;
    let mut name = path.file_name()?.to_os_string();
    name.push(format!(".repo{n}"));
    Some(path.with_file_name(name))
}

pub(crate) async fn observe(
    backup: &DesiredBackup,
    repository: &Repository,
    archiver: Option<&Archiver>,
    timeout: Duration,
    deep: bool,
) -> Copy {
    let view = repository.view(backup);
    let mut copy = Copy {
        number: repository.number,
        place: repository.describe(),
        ..Copy::default()
    };
    let mut lister = match &repository.place {
        Place::Directory(dir) => Lister::directory(dir),
        Place::Bucket { bucket, .. } => Lister::new(client(bucket, timeout).await, bucket),
    };
    let read = async {
        let backups = lister.backups(&view).await?;
        copy.known = backups.known.clone();
        copy.full_backups = backups.complete.clone();
        copy.incomplete_backups = backups.incomplete.clone();
        if let (true, Some(archiver)) = (deep || backup.wal_chain_state.is_some(), archiver) {
            let name = format!("repo{}:{}{}", copy.number, copy.place, view.wal_prefix());
            let state = state_path(backup, copy.number);
            copy.chain = Some(
                health::observe_chain(
                    &mut lister,
                    &view,
                    (&backups, archiver),
                    (&name, state.as_deref()),
                    deep,
                )
                .await?,
            );
        }
        Ok::<(), crate::error::Error>(())
    };
    if let Err(error) = read.await {
        copy.unreadable = Some(error.message().to_string());
    }
    copy.requests = lister.requests;
    copy
}

/// Each copy's findings, addressed `backup.health.repository.N.CHECK`.
pub(crate) fn check(backup: &DesiredBackup, observed: &Observed, now: SystemTime) -> Vec<Finding> {
    let mut out = Vec::new();
    for copy in &observed.copies {
        let Some(repository) = backup.repositories.iter().find(|r| r.number == copy.number) else {
            continue;
        };
        let view = repository.view(backup);
        let mut found = Vec::new();
        if let Some(why) = &copy.unreadable {
            found.push(Finding::new(
                "backup.health.repository",
                FindingClass::Health,
                super::ID.address().word("health").word("repository"),
                format!("cannot be read: {why}"),
            ));
        } else {
            found.extend(health::check_full_backups(&view, &copy.full_backups, now));
            found.extend(health::check_incomplete_backups(
                &view,
                &copy.incomplete_backups,
                now,
            ));
            if let Some(chain) = &copy.chain {
                found.extend(health::check_chain(chain));
            }
            if let Some(threshold) = backup.restore_test_max_age {
                found.extend(check_drill(backup, observed, copy, threshold, now));
            }
        }
        out.extend(found.into_iter().map(|f| in_copy(f, copy)));
    }
    // Repository 1 needs a drill of its own too once there are copies:
    // passes from the copies alone leave the first unproven.
    if let (Some(threshold), false) = (backup.restore_test_max_age, backup.repositories.is_empty())
    {
        let fresh = |ran: &SystemTime| now.duration_since(*ran).unwrap_or_default() <= threshold;
        let any_fresh = observed
            .newest_passing_evidence
            .as_ref()
            .is_some_and(|(_, ran)| fresh(ran));
        let first_fresh = observed
            .evidence_by_repository
            .get(&1)
            .is_some_and(|(_, ran)| fresh(ran));
        if any_fresh && !first_fresh {
            out.push(
                Finding::new(
                    "backup.health.restore_test",
                    FindingClass::Health,
                    super::ID
                        .address()
                        .word("health")
                        .word("repository")
                        .name("1")
                        .word("restore_test"),
                    format!(
                        "repository 1 has no passing drill within {}: only the copies were restored",
                        short(threshold)
                    ),
                )
                .detail("repository", 1)
                .detail("hint", "run `dbops restore-test --repository 1`"),
            );
        }
    }
    out
}

/// No passing drill from this repository within `threshold`, once its
/// first full backup is past the grace.
fn check_drill(
    backup: &DesiredBackup,
    observed: &Observed,
    copy: &Copy,
    threshold: Duration,
    now: SystemTime,
) -> Option<Finding> {
    let (_, first) = copy.full_backups.first()?;
    if now.duration_since(*first).unwrap_or_default() < backup.restore_test_grace {
        return None;
    }
    let age = observed
        .evidence_by_repository
        .get(&copy.number)
        .map(|(_, ran)| now.duration_since(*ran).unwrap_or_default());
    if age.is_some_and(|age| age <= threshold) {
        return None;
    }
    let said = match age {
        Some(age) => format!(
            "its newest passing drill is {} old, older than the threshold of {}",
            short(age),
            short(threshold)
        ),
        None => format!("it has no passing drill within {}", short(threshold)),
    };
    Some(
        Finding::new(
            "backup.health.restore_test",
            FindingClass::Health,
            super::ID.address(),
            format!("{said}: a restore from this copy is unproven"),
        )
        .detail("threshold_seconds", threshold.as_secs())
        .detail(
            "hint",
            format!("run `dbops restore-test --repository {}`", copy.number),
        ),
    )
}

/// A finding of one copy: its address under `repository.N`, its message
/// naming the copy.
fn in_copy(mut finding: Finding, copy: &Copy) -> Finding {
    let check = finding
        .id
        .strip_prefix("backup.health.")
        .unwrap_or("health");
    let check = if check == "repository" { "read" } else { check };
    finding.address = super::ID
        .address()
        .word("health")
        .word("repository")
        .name(copy.number.to_string())
        .word(check);
    finding.message = format!(
        "repository {} (`{}`): {}",
        copy.number, copy.place, finding.message
    );
    finding
        .detail("repository", copy.number)
        .detail("place", copy.place.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> SystemTime {
        humantime::parse_rfc3339("2026-12-02T12:00:00Z").unwrap()
    }

    fn ago(hours: u64) -> SystemTime {
        now() - Duration::from_secs(hours * 3600)
    }

    fn backup_with_a_copy() -> DesiredBackup {
        let mut backup = DesiredBackup::example();
        backup.tool = super::super::desired::BackupTool::PgBackRest;
        backup.restore_test_max_age = Some(Duration::from_secs(35 * 86_400));
        backup.repositories = vec![Repository {
            number: 2,
            place: Place::Directory("/srv/pgbackrest".into()),
        }];
        backup
    }

    fn addresses(findings: &[Finding]) -> Vec<String> {
        findings
            .iter()
            .map(|f| format!("{} {}", f.address, f.message))
            .collect()
    }

    #[test]
    fn each_copy_is_judged_on_its_own_and_named() {
        let backup = backup_with_a_copy();
        let mut observed = Observed {
            newest_passing_evidence: Some(("e1".into(), ago(24))),
            ..Observed::default()
        };
        observed
            .evidence_by_repository
            .insert(1, ("e1".into(), ago(24)));
        // An empty copy: no full backup, and (past the grace) no drill.
        observed.copies = vec![Copy {
            number: 2,
            place: "/srv/pgbackrest".into(),
            ..Copy::default()
        }];
        let found = addresses(&check(&backup, &observed, now()));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("backup.health.repository.2.base_backup repository 2 (`/srv/pgbackrest`): no full backup found"), "{found:?}");

        // A healthy copy without a drill of its own, past the grace.
        observed.copies[0].full_backups = (0..8)
            .rev()
            .map(|d| (format!("b{d}"), ago(24 * d + 2)))
            .collect();
        let found = addresses(&check(&backup, &observed, now()));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("restore_test repository 2"), "{found:?}");
        assert!(found[0].contains("it has no passing drill"), "{found:?}");

        // Its drill passed: nothing; then only the copy was drilled.
        observed
            .evidence_by_repository
            .insert(2, ("e2".into(), ago(1)));
        assert!(check(&backup, &observed, now()).is_empty());
        observed.evidence_by_repository.remove(&1);
        let found = addresses(&check(&backup, &observed, now()));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("repository 1 has no passing drill"),
            "{found:?}"
        );

        // Unreadable: one finding that says why, nothing guessed.
        observed.copies[0].unreadable = Some("permission denied".into());
        let found = addresses(&check(&backup, &observed, now()));
        assert!(found.iter().any(|f| f.starts_with("backup.health.repository.2.read repository 2 (`/srv/pgbackrest`): cannot be read: permission denied")), "{found:?}");
    }

    #[test]
    fn each_copy_keeps_its_own_watermark_file() {
        let mut backup = backup_with_a_copy();
        assert_eq!(state_path(&backup, 2), None);
        backup.wal_chain_state = Some("/var/lib/dbops/wal-chain.json".into());
        assert_eq!(
            state_path(&backup, 2).unwrap(),
            std::path::Path::new("/var/lib/dbops/wal-chain.json.repo2")
        );
    }
}
