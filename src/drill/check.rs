//! One declared check, run against a drill's server: the query, its rows
//! and first value, and whether the expectation held. A check that cannot
//! run (refused, timed out, a bad query) fails with the reason.

use std::time::Duration;

use super::cluster::Cluster;
use super::evidence::CheckResult;
use super::settings::{Check, Expectation};
use crate::error::Error;

/// How long one check may run.
const CHECK_TIMEOUT: Duration = Duration::from_secs(300);

pub(crate) async fn run(cluster: &Cluster, user: &str, check: &Check) -> CheckResult {
    let expect = match &check.expect {
        Expectation::MinRows(n) => serde_json::json!({ "min_rows": n }),
        Expectation::Equals(v) => serde_json::json!({ "equals": v }),
    };
    let mut result = CheckResult {
        name: check.name.clone(),
        database: check.database.clone(),
        sql: check.sql.clone(),
        expect,
        rows: None,
        value: None,
        passed: false,
        error: None,
    };
    let outcome = async {
        let pg = cluster.connect(user, &check.database).await?;
        let messages = tokio::time::timeout(CHECK_TIMEOUT, pg.simple_query(&check.sql))
            .await
            .map_err(|_| {
                Error::new(format!(
                    "did not finish within {}s",
                    CHECK_TIMEOUT.as_secs()
                ))
            })?
            .map_err(|e| Error::new(crate::pg::connect::describe(&e)))?;
        let rows: Vec<_> = messages
            .into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) => Some(row),
                _ => None,
            })
            .collect();
        Ok::<_, Error>(rows)
    }
    .await;
    match outcome {
        Err(error) => result.error = Some(error.message().to_string()),
        Ok(rows) => {
            result.rows = Some(rows.len() as u64);
            // Every check records the first column of its first row, so the
            // evidence shows what was restored (the newest migration id).
            result.value = rows.first().and_then(|r| r.get(0)).map(str::to_string);
            result.passed = match &check.expect {
                Expectation::MinRows(n) => rows.len() as u64 >= *n,
                Expectation::Equals(expected) => result.value.as_deref() == Some(expected.as_str()),
            };
        }
    }
    result
}
