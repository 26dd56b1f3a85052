//! The evidence a restore test leaves in the bucket (`evidence.json`, format
//! 1), and how drift reads it back. Times are RFC 3339 UTC. The data-loss
//! window is defined in docs/backup.md and in [`DATA_LOSS_DEFINITION`].

use serde::{Deserialize, Serialize};

/// The evidence format this dbops writes and reads.
pub const FORMAT: u32 = 1;

/// Written into every evidence file, so a reader needs no manual.
pub const DATA_LOSS_DEFINITION: &str = "committed work the archive held that the restore did not bring back: 0 when replay reached the newest archived WAL segment (latest) or the target time (PostgreSQL does not promote short of a time target); otherwise from the newest recovered commit (or the backup's end, if later) to the time the newest archived segment was written; null for `immediate`, which restores the backup alone";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BackupUsed {
    pub name: String,
    pub start_time: String,
    pub stop_time: String,
    pub start_lsn: String,
    pub stop_lsn: String,
    pub size_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ArchiveEnd {
    /// The newest WAL segment the archive held when the test began.
    pub newest_segment: Option<String>,
    /// When it was written to the bucket.
    pub archived_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Durations {
    pub fetch_seconds: Option<f64>,
    pub replay_seconds: Option<f64>,
    /// Fetch plus replay: what the RTO promises.
    pub restore_seconds: Option<f64>,
    pub checks_seconds: Option<f64>,
    pub total_seconds: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CheckResult {
    pub name: String,
    pub database: String,
    pub sql: String,
    /// `{"min_rows": N}` or `{"equals": "VALUE"}`.
    #[schemars(with = "std::collections::BTreeMap<String, serde_json::Value>")]
    pub expect: serde_json::Value,
    pub rows: Option<u64>,
    /// The first column of the first row, as text, for `equals` checks only.
    pub value: Option<String>,
    pub passed: bool,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Evidence {
    pub format: u32,
    pub dbops_version: String,
    pub tool: String,
    pub tool_version: Option<String>,
    pub postgres_version: Option<String>,
    pub started_at: String,
    pub finished_at: String,
    /// `latest`, `immediate` or the target time.
    pub target: String,
    pub backup: Option<BackupUsed>,
    pub archive: Option<ArchiveEnd>,
    /// `pg_last_xact_replay_timestamp()`: the newest commit recovered.
    pub recovered_to: Option<String>,
    /// `pg_last_wal_replay_lsn()` and its segment.
    pub replayed_lsn: Option<String>,
    pub replayed_segment: Option<String>,
    pub data_loss_window_seconds: Option<f64>,
    pub data_loss_definition: String,
    pub durations: Durations,
    pub rto_seconds: u64,
    pub rpo_seconds: u64,
    pub rto_met: Option<bool>,
    pub rpo_met: Option<bool>,
    pub checks: Vec<CheckResult>,
    pub passed: bool,
    /// Why the test failed, when it did.
    pub failure: Option<String>,
}

/// The JSON Schema of `evidence.json`, committed as schemas/evidence.schema.json.
pub fn schema_text() -> String {
    let schema = schemars::schema_for!(Evidence);
    let mut text = serde_json::to_string_pretty(&schema).expect("schemas serialize");
    text.push('\n');
    text
}

impl Evidence {
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("evidence serializes");
        text.push('\n');
        text
    }

    /// Reads an `evidence.json`; `None` for anything that is not evidence
    /// this dbops understands (drift then ignores it).
    pub fn parse(bytes: &[u8]) -> Option<Evidence> {
        let evidence: Evidence = serde_json::from_slice(bytes).ok()?;
        (evidence.format == FORMAT).then_some(evidence)
    }
}
