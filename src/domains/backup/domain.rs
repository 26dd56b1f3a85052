//! The backup tool under the contract: `[backup]` (and `[restore_test]`)
//! resolved against the declared bucket the bucket domain publishes; it
//! publishes the settings continuous archiving needs; plans and writes the
//! tool's rendered files; and reports backup health for `drift`.

use std::collections::BTreeMap;
use std::time::SystemTime;

use super::desired::{BackupTool, DesiredBackup};
use super::raw::RawBackup;
use super::{archive, health, resolve};
use crate::contract::facts::{Archiving, DeclaredBuckets};
use crate::contract::{Apply, Domain, DomainId, Facts, Health, Observe};
use crate::diagnostics::Resolver;
use crate::drill::settings::{RawRestoreTest, Source};
use crate::error::{Errors, Result};
use crate::events::{Event, EventName, EventSink, Level};
use crate::managed_files::{self, Grammar, LiveFile, RenderedFile, Write};
use crate::plan::{DomainDiff, Planned};

pub(crate) struct Backup;

impl Domain for Backup {
    const ID: DomainId = super::ID;
    /// `[backup]`, `[restore_test]`, and whether another source of drills
    /// (`[dumps]`) is declared.
    type Raw<'a> = (Option<&'a RawBackup>, Option<&'a RawRestoreTest>, bool);
    type Desired = DesiredBackup;
    /// The tool's files, by path.
    type Live = BTreeMap<String, LiveFile>;
    type Operation = Write;
    type Inputs = ();
    type Outputs = ();

    fn resolve(
        (raw, raw_test, other_source): Self::Raw<'_>,
        facts: &mut Facts,
        r: &mut Resolver<'_>,
    ) -> Option<DesiredBackup> {
        let Some(raw) = raw else {
            let physical = raw_test.map(|t| t.source);
            match physical {
                Some(Some(Source::Physical)) => r.error(
                    r.key(&["restore_test", "source"])
                        .error("is `physical`, but no `[backup]` is declared")
                        .hint("declare `[backup]`, or write `source = \"dumps\"`"),
                ),
                Some(None) if !other_source => r.error(
                    r.key(&["restore_test"])
                        .error(
                            "restores a backup, but neither `[backup]` nor `[dumps]` is declared",
                        )
                        .hint("declare `[backup]` (WAL archiving) or `[dumps]` (pg_dump)"),
                ),
                _ => {}
            }
            return None;
        };
        let buckets = facts.cloned::<DeclaredBuckets>();
        let backup = resolve::resolve(raw, raw_test, &buckets, r)?;
        facts.publish(Archiving {
            settings: archive::derive(&backup),
            rpo: backup.rpo,
            section: "[backup]",
        });
        Some(backup)
    }

    fn summary(desired: Option<&DesiredBackup>) -> Vec<(&'static str, usize)> {
        vec![("backup tools", usize::from(desired.is_some()))]
    }

    async fn observe(desired: &DesiredBackup, _context: &Observe<'_>) -> Result<Self::Live> {
        let mut files = BTreeMap::new();
        for file in &desired.files {
            files.insert(
                file.path.display().to_string(),
                managed_files::observe(&file.path)?,
            );
        }
        Ok(files)
    }

    fn inputs(_facts: &Facts) {}

    fn diff(
        desired: &DesiredBackup,
        live: &Self::Live,
        (): &(),
    ) -> Result<DomainDiff<Write>, Errors> {
        let mut out = DomainDiff::default();
        let mut errors = Vec::new();
        for file in &desired.files {
            let missing = LiveFile::missing();
            let on_disk = live
                .get(&file.path.display().to_string())
                .unwrap_or(&missing);
            match managed_files::diff::diff(file, on_disk) {
                Ok(Some(planned)) => out.push(planned),
                Ok(None) => {}
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(Errors::new(errors))
        }
    }

    async fn apply(
        _desired: &DesiredBackup,
        changes: &[&Planned<Write>],
        _context: &mut Apply<'_>,
        sink: &dyn EventSink,
    ) -> Result<()> {
        for planned in changes {
            managed_files::apply::write(&planned.operation.file)?;
            sink.emit(Event::new(EventName::FileWritten, &planned.change.address));
        }
        Ok(())
    }

    /// The WAL-G environment file or pgbackrest.conf.
    fn rendered(desired: &DesiredBackup) -> Vec<RenderedFile> {
        let grammar = match desired.tool {
            BackupTool::WalG => Grammar::Env,
            BackupTool::PgBackRest => Grammar::PgBackRestConf,
        };
        desired
            .files
            .iter()
            .map(|file| RenderedFile {
                grammar,
                content: file.content.clone(),
                entries: file.carried.clone(),
            })
            .collect()
    }

    /// Is archiving working, are full backups taken and kept as the policy
    /// says, has a restore test passed lately; empty without a bucket.
    async fn health(
        desired: &DesiredBackup,
        context: &Observe<'_>,
        sink: &dyn EventSink,
    ) -> Result<Health> {
        let Some(bucket) = &desired.bucket else {
            return Ok(Health::default());
        };
        let mut archiver = health::observe_server(context.client).await?;
        if context.deep || desired.wal_chain_state.is_some() {
            health::observe_history(context.client, &mut archiver).await;
        }
        let now = SystemTime::now();
        let observed = health::observe(
            desired,
            bucket,
            Some(archiver),
            context.timeout,
            context.deep,
            now,
        )
        .await?;
        sink.emit(
            Event::message(EventName::BackupHealthRead, "backup health read")
                .level(Level::Debug)
                .details(serde_json::json!({
                    "s3_requests": observed.requests,
                    "wal_check_s3_requests": observed.wal_requests,
                    "wal_chain_s3_requests": observed.chain_requests,
                })),
        );
        Ok(Health {
            findings: health::check(desired, &observed, now),
            notes: health::notes(desired, &observed),
            samples: health::samples(&observed, now),
        })
    }
}

#[cfg(test)]
#[path = "domain_tests.rs"]
mod tests;
