//! `[restore_test] verify`: the restored data checked, not just started.
//! `amcheck` runs `pg_amcheck --heapallindexed` over every database of the
//! throwaway server; `read_all` reads every row of every table, TOAST
//! included, with sequential scans; `checksums` stops the server cleanly
//! and runs `pg_checksums --check` on its data directory (skipped, and said
//! so, when the cluster has no data checksums). Each records its duration
//! and the first failure, with the relation named; any failure fails the
//! drill. Everything here runs against the throwaway server only.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio_postgres::SimpleQueryMessage;

use super::cluster::{self, Cluster, RestoreLog};
use super::layout::Invocation;
use super::outcome::seconds;
use super::settings::Verify;
use crate::error::{Error, Result};

/// How long one verification may run.
const VERIFY_TIMEOUT: Duration = Duration::from_secs(6 * 3600);

/// One verification, as the evidence records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct VerifyResult {
    /// `amcheck`, `checksums` or `read_all`.
    pub(crate) check: String,
    pub(crate) passed: bool,
    /// Why it did not run (and so proves nothing), when it did not.
    pub(crate) skipped: Option<String>,
    pub(crate) seconds: f64,
    /// Relations read (`read_all`).
    pub(crate) relations: Option<u64>,
    /// The first failure, naming the relation where one is known.
    pub(crate) first_failure: Option<String>,
}

impl VerifyResult {
    fn new(check: Verify) -> Self {
        VerifyResult {
            check: check.word().into(),
            passed: false,
            skipped: None,
            seconds: 0.0,
            relations: None,
            first_failure: None,
        }
    }
}

/// Runs the verifications asked for, in the order `amcheck`, `read_all`,
/// `checksums` (the last stops the server).
pub(crate) async fn run(
    cluster: &mut Cluster,
    user: &str,
    asked: &[Verify],
    log: &mut RestoreLog,
) -> Vec<VerifyResult> {
    let mut out = Vec::new();
    #[cfg(debug_assertions)]
    if let Ok(target) = std::env::var("DBOPS_TEST_DRILL_CORRUPT") {
        test_hook::corrupt(cluster, user, &target, log).await;
    }
    for check in [Verify::Amcheck, Verify::ReadAll, Verify::Checksums] {
        if !asked.contains(&check) {
            continue;
        }
        let started = Instant::now();
        let mut result = VerifyResult::new(check);
        let outcome = match check {
            Verify::Amcheck => amcheck(cluster, user, log).await,
            Verify::ReadAll => read_all(cluster, user, &mut result).await,
            Verify::Checksums => checksums(cluster, user, &mut result, log).await,
        };
        match outcome {
            Ok(None) => result.passed = true,
            Ok(Some(failure)) => result.first_failure = Some(failure),
            Err(error) => result.first_failure = Some(error.message().to_string()),
        }
        if result.skipped.is_some() {
            result.passed = true;
        }
        result.seconds = seconds(started.elapsed());
        log.line(&format!(
            "verify {}: {}",
            check.word(),
            match (&result.skipped, &result.first_failure) {
                (Some(why), _) => format!("skipped: {why}"),
                (None, Some(failure)) => format!("FAILED: {failure}"),
                (None, None) => "ok".into(),
            }
        ));
        out.push(result);
    }
    out
}

/// `pg_amcheck --all --heapallindexed`: `Ok(Some(first failure))` when it
/// reports corruption.
async fn amcheck(cluster: &Cluster, user: &str, log: &mut RestoreLog) -> Result<Option<String>> {
    let invocation = Invocation::new(&cluster.bindir.join("pg_amcheck").display().to_string())
        .arg("--all")
        .arg("--heapallindexed")
        .arg("--install-missing")
        .arg("--no-password")
        .arg("--host")
        .arg(cluster.layout.socket().display().to_string())
        .arg("--port")
        .arg(cluster.port.to_string())
        .arg("--username")
        .arg(user);
    let deadline = Instant::now() + VERIFY_TIMEOUT;
    match cluster::run_both(&cluster.run_as, &invocation, "`pg_amcheck`", deadline, log).await {
        Ok((stdout, _)) if stdout.trim().is_empty() => Ok(None),
        Ok((stdout, _)) => Ok(Some(first_corruption(&stdout))),
        // It exits non-zero on corruption; what it printed names it.
        Err(error) => Ok(Some(error.message().to_string())),
    }
}

/// The first line pg_amcheck prints about a relation, with the line that
/// says what is wrong with it.
fn first_corruption(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    match lines.iter().position(|l| !l.starts_with(' ')) {
        Some(at) => lines[at..]
            .iter()
            .take(2)
            .map(|l| l.trim())
            .collect::<Vec<_>>()
            .join(" "),
        None => lines
            .first()
            .map(|l| l.trim().to_string())
            .unwrap_or_default(),
    }
}

/// Every row of every table, TOAST included, by sequential scans.
async fn read_all(
    cluster: &Cluster,
    user: &str,
    result: &mut VerifyResult,
) -> Result<Option<String>> {
    let pg = cluster.connect(user, "postgres").await?;
    let databases: Vec<String> = pg
        .query(
            "SELECT datname FROM pg_database WHERE datallowconn ORDER BY datname",
            &[],
        )
        .await
        .map_err(|e| Error::new(crate::pg::connect::describe(&e)))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut relations = 0u64;
    for database in databases {
        let db = cluster.connect(user, &database).await?;
        db.batch_execute(
            "SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off; SET statement_timeout = 0",
        )
        .await
        .map_err(|e| Error::new(crate::pg::connect::describe(&e)))?;
        let tables: Vec<(String, String)> = db
            .query(
                "SELECT format('%I.%I', n.nspname, c.relname), n.nspname || '.' || c.relname \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind IN ('r', 'm') ORDER BY 1",
                &[],
            )
            .await
            .map_err(|e| Error::new(crate::pg::connect::describe(&e)))?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        for (target, display) in tables {
            relations += 1;
            let sql = format!("SELECT count(*) FROM ONLY {target} AS t WHERE length(t::text) >= 0");
            let read = tokio::time::timeout(VERIFY_TIMEOUT, db.simple_query(&sql)).await;
            let failure = match read {
                Err(_) => Some("did not finish in time".to_string()),
                Ok(Err(e)) => Some(crate::pg::connect::describe(&e)),
                Ok(Ok(messages)) => {
                    if messages
                        .iter()
                        .any(|m| matches!(m, SimpleQueryMessage::Row(_)))
                    {
                        None
                    } else {
                        Some("returned nothing".into())
                    }
                }
            };
            if let Some(why) = failure {
                result.relations = Some(relations);
                return Ok(Some(format!("`{display}` in `{database}`: {why}")));
            }
        }
    }
    result.relations = Some(relations);
    Ok(None)
}

/// A clean stop, then `pg_checksums --check` on the data directory.
async fn checksums(
    cluster: &mut Cluster,
    user: &str,
    result: &mut VerifyResult,
    log: &mut RestoreLog,
) -> Result<Option<String>> {
    let deadline = Instant::now() + VERIFY_TIMEOUT;
    let control = cluster::run(
        &cluster.run_as,
        &cluster.controldata_invocation(),
        "`pg_controldata`",
        deadline,
        log,
    )
    .await?;
    if !has_checksums(&control) {
        result.skipped = Some(NO_CHECKSUMS.into());
        return Ok(None);
    }
    cluster.stop_clean(deadline, log).await?;
    let check = Invocation::new(&cluster.bindir.join("pg_checksums").display().to_string())
        .arg("--check")
        .arg("--pgdata")
        .arg(cluster.layout.data().display().to_string());
    match cluster::run_both(&cluster.run_as, &check, "`pg_checksums`", deadline, log).await {
        Ok(_) => Ok(None),
        Err(error) => {
            // Name the relation: the server again, for the file's owner.
            let failure = error.message().to_string();
            let named = match bad_file(&failure) {
                Some((database, filenode)) => {
                    relation_of(cluster, user, database, filenode, deadline, log).await
                }
                None => None,
            };
            Ok(Some(match named {
                Some(relation) => format!("{relation}: {failure}"),
                None => failure,
            }))
        }
    }
}

/// Said when `checksums` is asked of a cluster without data checksums.
pub(crate) const NO_CHECKSUMS: &str = "the cluster has no data checksums, so `pg_checksums` has nothing to check; turn them on with `pg_checksums --enable` on the stopped server (or `initdb --data-checksums` for a new cluster), or leave `checksums` out of `[restore_test] verify`";

/// `Data page checksum version: 1` in `pg_controldata`'s output.
pub(crate) fn has_checksums(controldata: &str) -> bool {
    controldata.lines().any(|line| {
        line.split_once(':').is_some_and(|(label, value)| {
            label.trim() == "Data page checksum version" && value.trim() != "0"
        })
    })
}

/// `... in file "/.../base/16384/16385", block 0 ...`: (16384, 16385).
fn bad_file(message: &str) -> Option<(u32, u32)> {
    let at = message.find("base/")?;
    let mut parts = message[at + 5..].split('/');
    let database = parts.next()?.parse().ok()?;
    let file: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((database, file.parse().ok()?))
}

/// `database.schema.table` of a file, asked of the restarted server.
async fn relation_of(
    cluster: &mut Cluster,
    user: &str,
    database: u32,
    filenode: u32,
    deadline: Instant,
    log: &mut RestoreLog,
) -> Option<String> {
    cluster.start(deadline, log).await.ok()?;
    let pg = cluster.wait_promoted(user, deadline).await.ok()?;
    let name: String = pg
        .query_one(
            "SELECT datname::text FROM pg_database WHERE oid = $1::text::oid",
            &[&database.to_string()],
        )
        .await
        .ok()?
        .get(0);
    let db = cluster.connect(user, &name).await.ok()?;
    let relation: Option<String> = db
        .query_one(
            "SELECT pg_filenode_relation(0, $1::text::oid)::regclass::text",
            &[&filenode.to_string()],
        )
        .await
        .ok()?
        .get(0);
    Some(format!("relation `{}` in `{name}`", relation?))
}

/// Debug builds only: damage a restored relation after promotion, so the
/// tests can prove the verifications find it (a physical backup of a page
/// with a bad checksum is flagged by pgBackRest and never restored).
#[cfg(debug_assertions)]
mod test_hook {
    use super::*;

    /// `DBOPS_TEST_DRILL_CORRUPT=DATABASE:TABLE`: 16 bytes of the table's
    /// first page flipped on the stopped copy.
    pub(super) async fn corrupt(
        cluster: &mut Cluster,
        user: &str,
        target: &str,
        log: &mut RestoreLog,
    ) {
        let Some((database, table)) = target.split_once(':') else {
            return;
        };
        let deadline = Instant::now() + VERIFY_TIMEOUT;
        let Ok(db) = cluster.connect(user, database).await else {
            return;
        };
        let Ok(row) = db
            .query_one("SELECT pg_relation_filepath($1::text::regclass)", &[&table])
            .await
        else {
            return;
        };
        let path: String = row.get(0);
        let _ = db.batch_execute("CHECKPOINT").await;
        drop(db);
        if cluster.stop_clean(deadline, log).await.is_err() {
            return;
        }
        let file = cluster.layout.data().join(path);
        if let Ok(mut bytes) = std::fs::read(&file) {
            for b in bytes.iter_mut().skip(4000).take(16) {
                *b ^= 0x5a;
            }
            let _ = std::fs::write(&file, bytes);
            log.line(&format!("test hook: damaged `{}`", file.display()));
        }
        if cluster.start(deadline, log).await.is_ok() {
            let _ = cluster.wait_promoted(user, deadline).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_corruption_and_the_bad_file_are_read_from_the_tools() {
        let amcheck = "heap table \"shop.public.orders\", block 0, offset 1:\n    xmin 4294967295 equals or exceeds next valid transaction ID 0:1001\nbtree index \"shop.public.orders_pkey\":\n    ...\n";
        assert_eq!(
            first_corruption(amcheck),
            "heap table \"shop.public.orders\", block 0, offset 1: xmin 4294967295 equals or exceeds next valid transaction ID 0:1001"
        );
        assert_eq!(
            bad_file("`pg_checksums` failed (exit status: 1): pg_checksums: error: checksum verification failed in file \"/w/data/base/16384/16385\", block 0: calculated checksum 9D2E but block contains 1F17"),
            Some((16384, 16385))
        );
        assert_eq!(bad_file("no file"), None);
        assert!(has_checksums("Data page checksum version:           1\n"));
        assert!(!has_checksums("Data page checksum version:           0\n"));
        assert!(!has_checksums(""));
    }
}
