//! The evidence a restore test leaves in the bucket (`evidence.json`, format
//! 1), and how drift reads it back. Times are RFC 3339 UTC. The data-loss
//! window is defined in docs/backup.md and in [`DATA_LOSS_DEFINITION`].

use serde::{Deserialize, Serialize};

/// The evidence format this dbops writes and reads.
pub(crate) const FORMAT: u32 = 1;

/// Written into every evidence file, so a reader needs no manual.
pub(crate) const DATA_LOSS_DEFINITION: &str = "committed work the archive held that the restore did not bring back: 0 when replay reached the newest archived WAL segment (latest) or the target time (PostgreSQL does not promote short of a time target); otherwise from the newest recovered commit (or the backup's end, if later) to the time the newest archived segment was written; null for `immediate`, which restores the backup alone";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct BackupUsed {
    pub(crate) name: String,
    pub(crate) start_time: String,
    pub(crate) stop_time: String,
    pub(crate) start_lsn: String,
    pub(crate) stop_lsn: String,
    pub(crate) size_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct ArchiveEnd {
    /// The newest WAL segment the archive held when the test began.
    pub(crate) newest_segment: Option<String>,
    /// When it was written to the bucket.
    pub(crate) archived_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct Durations {
    pub(crate) fetch_seconds: Option<f64>,
    pub(crate) replay_seconds: Option<f64>,
    /// Fetch plus replay: what the RTO promises.
    pub(crate) restore_seconds: Option<f64>,
    pub(crate) checks_seconds: Option<f64>,
    pub(crate) total_seconds: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct CheckResult {
    pub(crate) name: String,
    pub(crate) database: String,
    pub(crate) sql: String,
    /// `{"min_rows": N}` or `{"equals": "VALUE"}`.
    #[schemars(with = "std::collections::BTreeMap<String, serde_json::Value>")]
    pub(crate) expect: serde_json::Value,
    pub(crate) rows: Option<u64>,
    /// The first column of the first row, as text, for `equals` checks only.
    pub(crate) value: Option<String>,
    pub(crate) passed: bool,
    pub(crate) error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct Evidence {
    pub(crate) format: u32,
    pub(crate) dbops_version: String,
    pub(crate) tool: String,
    pub(crate) tool_version: Option<String>,
    pub(crate) postgres_version: Option<String>,
    pub(crate) started_at: String,
    pub(crate) finished_at: String,
    /// `latest`, `immediate` or the target time.
    pub(crate) target: String,
    pub(crate) backup: Option<BackupUsed>,
    pub(crate) archive: Option<ArchiveEnd>,
    /// `pg_last_xact_replay_timestamp()`: the newest commit recovered.
    pub(crate) recovered_to: Option<String>,
    /// `pg_last_wal_replay_lsn()` and its segment.
    pub(crate) replayed_lsn: Option<String>,
    pub(crate) replayed_segment: Option<String>,
    pub(crate) data_loss_window_seconds: Option<f64>,
    pub(crate) data_loss_definition: String,
    pub(crate) durations: Durations,
    pub(crate) rto_seconds: u64,
    pub(crate) rpo_seconds: u64,
    pub(crate) rto_met: Option<bool>,
    pub(crate) rpo_met: Option<bool>,
    pub(crate) checks: Vec<CheckResult>,
    pub(crate) passed: bool,
    /// Why the test failed, when it did.
    pub(crate) failure: Option<String>,
}

/// The JSON Schema of `evidence.json`, committed as schemas/evidence.schema.json.
pub fn schema_text() -> String {
    let schema = schemars::schema_for!(Evidence);
    let mut text = serde_json::to_string_pretty(&schema).expect("schemas serialize");
    text.push('\n');
    text
}

impl Evidence {
    pub(crate) fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("evidence serializes");
        text.push('\n');
        text
    }

    /// Reads an `evidence.json`; `None` for anything that is not evidence
    /// this dbops understands (drift then ignores it).
    pub(crate) fn parse(bytes: &[u8]) -> Option<Evidence> {
        let evidence: Evidence = serde_json::from_slice(bytes).ok()?;
        (evidence.format == FORMAT).then_some(evidence)
    }
}
