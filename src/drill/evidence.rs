//! The evidence a restore test leaves in the bucket (`evidence.json`, format
//! 2), and how drift judges it: it counts only when it is consistent, names
//! a backup the tool's catalogue holds (or expired by policy since), and,
//! with `[restore_test] evidence_key`, carries a valid HMAC-SHA256 over its
//! content. Format 1 (before signatures) is still read. Times are RFC 3339
//! UTC. The data-loss window is defined in docs/backup.md and in
//! [`DATA_LOSS_DEFINITION`].

use std::time::SystemTime;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The evidence format this dbops writes.
pub(crate) const FORMAT: u32 = 2;

/// The formats drift reads.
const READABLE: [u32; 2] = [1, 2];

/// The largest evidence object drift reads; a larger one is refused unread.
pub(crate) const MAX_EVIDENCE_BYTES: u64 = 1024 * 1024;

/// How a signature starts: the algorithm, so another can follow.
const SIGNATURE_PREFIX: &str = "hmac-sha256:";

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

/// One dump set a drill from dumps restored (`source = "dumps"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct DumpSetUsed {
    pub(crate) database: String,
    /// The set's directory, or its key prefix in the bucket.
    pub(crate) location: String,
    /// When its pg_dump started and ended (its manifest's times).
    pub(crate) started_at: String,
    pub(crate) finished_at: String,
    pub(crate) bytes: u64,
    pub(crate) sha256: String,
    /// The cluster the dump was taken from.
    pub(crate) system_identifier: String,
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
    /// What was restored: `physical` (a base backup and WAL) or `dumps`
    /// (logical dump sets, named in `sets`).
    #[serde(default = "physical")]
    pub(crate) source: String,
    pub(crate) dbops_version: String,
    pub(crate) tool: String,
    pub(crate) tool_version: Option<String>,
    pub(crate) postgres_version: Option<String>,
    pub(crate) started_at: String,
    pub(crate) finished_at: String,
    /// `latest`, `immediate` or the target time.
    pub(crate) target: String,
    pub(crate) backup: Option<BackupUsed>,
    /// The dump sets restored, for `source = "dumps"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) sets: Vec<DumpSetUsed>,
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
    /// `[restore_test] verify`: each check of the restored data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) verify: Vec<super::verify::VerifyResult>,
    pub(crate) passed: bool,
    /// Why the test failed, when it did.
    pub(crate) failure: Option<String>,
    /// How the drill chose what it restored, when it chose (later work).
    #[serde(default)]
    pub(crate) pick: Option<String>,
    /// The seed of that choice, so it can be repeated.
    #[serde(default)]
    pub(crate) seed: Option<u64>,
    /// The pgBackRest repository restored from (`--repository N`); none
    /// means repository 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) repository: Option<u32>,
    /// `--target-time random`: the window the target was drawn from (the
    /// restored backup's end to the newest commit archived).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) target_window: Option<TargetWindow>,
    /// Page-level checks of the restored data (later work), as recorded.
    #[serde(default)]
    #[schemars(with = "Vec<std::collections::BTreeMap<String, serde_json::Value>>")]
    pub(crate) page_checks: Vec<serde_json::Value>,
    /// `hmac-sha256:<hex>` over the evidence with this field null, keyed by
    /// `[restore_test] evidence_key`; null when no key is set.
    #[serde(default)]
    pub(crate) signature: Option<String>,
}

/// Where a random recovery target could fall: RFC 3339 times, both ends in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct TargetWindow {
    pub(crate) from: String,
    pub(crate) to: String,
}

fn physical() -> String {
    "physical".into()
}

/// Why drift does not count a piece of evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// Not JSON evidence of a format this dbops reads.
    Unreadable,
    /// A key is set and the evidence carries no signature, or a wrong one.
    Unsigned,
    BadSignature,
    /// It says it passed, but its own content says otherwise: why.
    Inconsistent(String),
    /// It names a backup the tool's catalogue does not hold, younger than
    /// the oldest one kept (so not expired by policy).
    UnknownBackup(String),
    /// It was restored from a repository `[backup]` does not declare.
    UnknownRepository(u32),
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejected::Unreadable => write!(f, "it is not evidence this dbops reads"),
            Rejected::Unsigned => write!(f, "it is not signed, and `[restore_test] evidence_key` is set"),
            Rejected::BadSignature => write!(f, "its signature does not match `[restore_test] evidence_key`"),
            Rejected::Inconsistent(why) => write!(f, "it says it passed, but {why}"),
            Rejected::UnknownBackup(name) => write!(
                f,
                "it names backup `{name}`, which the backup tool's catalogue does not hold (and it is not older than the oldest backup kept)"
            ),
            Rejected::UnknownRepository(n) => write!(
                f,
                "it was restored from repository {n}, which `[[backup.repositories]]` does not declare"
            ),
        }
    }
}

/// What drift knows to judge evidence with.
pub(crate) struct Judge<'a> {
    /// `[restore_test] evidence_key`.
    pub(crate) key: Option<&'a [u8]>,
    /// Every complete backup the tool lists.
    pub(crate) catalogue: &'a [String],
    /// When the oldest full backup kept completed: a backup before it may
    /// have been expired by policy after the drill.
    pub(crate) oldest_kept: Option<SystemTime>,
    /// The same for each repository after the first, by number: evidence
    /// naming a repository is judged by that repository's catalogue.
    pub(crate) copies: &'a [CopyCatalogue],
}

/// One repository's catalogue (`[[backup.repositories]]`), for [`Judge`].
#[derive(Debug, Clone, Default)]
pub(crate) struct CopyCatalogue {
    pub(crate) number: u32,
    pub(crate) catalogue: Vec<String>,
    pub(crate) oldest_kept: Option<SystemTime>,
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
    /// of a format this dbops reads.
    pub(crate) fn parse(bytes: &[u8]) -> Option<Evidence> {
        let evidence: Evidence = serde_json::from_slice(bytes).ok()?;
        READABLE.contains(&evidence.format).then_some(evidence)
    }

    /// The HMAC over this evidence with `signature` null, as hex.
    fn mac(&self, key: &[u8]) -> Hmac<Sha256> {
        let mut unsigned = self.clone();
        unsigned.signature = None;
        let bytes = serde_json::to_vec(&unsigned).expect("evidence serializes");
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(&bytes);
        mac
    }

    /// Signs this evidence with `key`.
    pub(crate) fn sign(&mut self, key: &[u8]) {
        self.signature = None;
        let tag = self.mac(key).finalize().into_bytes();
        self.signature = Some(format!("{SIGNATURE_PREFIX}{}", hex(&tag)));
    }

    /// Whether this evidence counts, as drift judges it. Passing evidence
    /// must be consistent and name a backup that exists (or was expired by
    /// policy); with a key, any evidence must carry its valid signature.
    pub(crate) fn judge(&self, judge: &Judge<'_>) -> Result<(), Rejected> {
        if let Some(key) = judge.key {
            let Some(signature) = &self.signature else {
                return Err(Rejected::Unsigned);
            };
            let tag = signature
                .strip_prefix(SIGNATURE_PREFIX)
                .and_then(unhex)
                .ok_or(Rejected::BadSignature)?;
            // Constant time.
            self.mac(key)
                .verify_slice(&tag)
                .map_err(|_| Rejected::BadSignature)?;
        }
        if !self.passed {
            return Ok(());
        }
        let inconsistent = |why: &str| Err(Rejected::Inconsistent(why.to_string()));
        if self.failure.is_some() {
            return inconsistent("it records a failure");
        }
        if let Some(check) = self.checks.iter().find(|c| !c.passed) {
            return Err(Rejected::Inconsistent(format!(
                "its check `{}` did not pass",
                check.name
            )));
        }
        if let Some(check) = self.verify.iter().find(|v| !v.passed) {
            return Err(Rejected::Inconsistent(format!(
                "its verification `{}` did not pass",
                check.check
            )));
        }
        if self.rto_met != Some(true) {
            return inconsistent("it does not record that the restore met the RTO");
        }
        if self.rpo_met == Some(false) {
            return inconsistent("it records that the RPO was not met");
        }
        // What it restored: a backup, or (from dumps) every set it names.
        let restored: Vec<(&str, &str)> = match (self.source.as_str(), &self.backup) {
            ("dumps", _) => self
                .sets
                .iter()
                .map(|s| (s.location.as_str(), s.finished_at.as_str()))
                .collect(),
            (_, Some(backup)) => vec![(backup.name.as_str(), backup.stop_time.as_str())],
            (_, None) => Vec::new(),
        };
        if restored.is_empty() {
            return inconsistent("it names no backup");
        }
        let (catalogue, oldest_kept) = match self.repository.filter(|n| *n != 1) {
            None => (judge.catalogue, judge.oldest_kept),
            Some(n) => match judge.copies.iter().find(|c| c.number == n) {
                Some(copy) => (copy.catalogue.as_slice(), copy.oldest_kept),
                None => return Err(Rejected::UnknownRepository(n)),
            },
        };
        for (name, ended) in restored {
            if catalogue.iter().any(|known| known == name) {
                continue;
            }
            let expired = humantime::parse_rfc3339_weak(ended.trim_end_matches('Z'))
                .ok()
                .zip(oldest_kept)
                .is_some_and(|(stopped, oldest)| stopped < oldest);
            if !expired {
                return Err(Rejected::UnknownBackup(name.to_string()));
            }
        }
        Ok(())
    }
}

/// One evidence file read back from where drills of `source` leave it,
/// in the folder of `date` (`YYYY-MM-DD`): `Ok(None)` when it is not dated
/// in that day or lies in the future (not evidence), `Err(why)` when it
/// does not count (unreadable, another source's, or refused by `judge`).
pub(crate) fn read_back(
    bytes: &[u8],
    source: &str,
    judge: &Judge<'_>,
    date: &str,
    now: SystemTime,
) -> Result<Option<(SystemTime, Evidence)>, String> {
    let evidence = Evidence::parse(bytes).ok_or_else(|| Rejected::Unreadable.to_string())?;
    // A drill of one kind proves nothing about the other.
    if evidence.source != source {
        return Err(format!(
            "it is the evidence of a drill from `{}`, not from `{source}`",
            evidence.source
        ));
    }
    let Ok(ran) = humantime::parse_rfc3339_weak(evidence.started_at.trim_end_matches('Z')) else {
        return Err(Rejected::Unreadable.to_string());
    };
    if ran > now || !evidence.started_at.starts_with(date) {
        return Ok(None);
    }
    evidence.judge(judge).map_err(|why| why.to_string())?;
    Ok(Some((ran, evidence)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn passing() -> Evidence {
        Evidence {
            format: FORMAT,
            source: "physical".into(),
            dbops_version: "1.0.0".into(),
            tool: "pgbackrest".into(),
            tool_version: None,
            postgres_version: None,
            started_at: "2026-12-01T02:00:00Z".into(),
            finished_at: "2026-12-01T02:05:00Z".into(),
            target: "latest".into(),
            backup: Some(BackupUsed {
                name: "20261130-020000F".into(),
                start_time: "2026-11-30T02:00:00Z".into(),
                stop_time: "2026-11-30T02:10:00Z".into(),
                start_lsn: "0/2000028".into(),
                stop_lsn: "0/2000100".into(),
                size_bytes: 1,
            }),
            sets: Vec::new(),
            archive: None,
            recovered_to: None,
            replayed_lsn: None,
            replayed_segment: None,
            data_loss_window_seconds: Some(0.0),
            data_loss_definition: DATA_LOSS_DEFINITION.into(),
            durations: Durations::default(),
            rto_seconds: 3600,
            rpo_seconds: 300,
            rto_met: Some(true),
            rpo_met: Some(true),
            checks: vec![CheckResult {
                name: "migrations".into(),
                database: "app".into(),
                sql: "SELECT 1".into(),
                expect: serde_json::json!({"min_rows": 1}),
                rows: Some(1),
                value: None,
                passed: true,
                error: None,
            }],
            verify: Vec::new(),
            passed: true,
            failure: None,
            pick: None,
            seed: None,
            repository: None,
            target_window: None,
            page_checks: Vec::new(),
            signature: None,
        }
    }

    fn judge<'a>(key: Option<&'a [u8]>, catalogue: &'a [String]) -> Judge<'a> {
        Judge {
            key,
            catalogue,
            oldest_kept: humantime::parse_rfc3339("2026-11-23T02:10:00Z").ok(),
            copies: &[],
        }
    }

    #[test]
    fn evidence_from_dumps_counts_only_when_every_set_it_names_is_kept_or_expired() {
        let set = |location: &str, finished: &str| DumpSetUsed {
            database: "app".into(),
            location: location.into(),
            started_at: finished.into(),
            finished_at: finished.into(),
            bytes: 1,
            sha256: "00".into(),
            system_identifier: "7".into(),
        };
        let mut evidence = passing();
        evidence.source = "dumps".into();
        evidence.backup = None;
        evidence.sets = vec![set("/d/app/2026/11/30/020000Z", "2026-11-30T02:01:00Z")];
        let catalogue = vec!["/d/app/2026/11/30/020000Z".to_string()];
        assert_eq!(evidence.judge(&judge(None, &catalogue)), Ok(()));
        // A set nobody kept, younger than the oldest kept: made up.
        evidence
            .sets
            .push(set("/d/other/2026/11/30/020000Z", "2026-11-30T02:01:00Z"));
        assert_eq!(
            evidence.judge(&judge(None, &catalogue)),
            Err(Rejected::UnknownBackup(
                "/d/other/2026/11/30/020000Z".into()
            ))
        );
        // Older than the oldest kept: expired by the retention since.
        evidence.sets[1] = set("/d/other/2026/11/01/020000Z", "2026-11-01T02:01:00Z");
        assert_eq!(evidence.judge(&judge(None, &catalogue)), Ok(()));
        // A drill from dumps that names no set proves nothing, whatever
        // backup it names.
        evidence.sets.clear();
        evidence.backup = passing().backup;
        assert_eq!(
            evidence.judge(&judge(None, &catalogue)),
            Err(Rejected::Inconsistent("it names no backup".into()))
        );
    }

    #[test]
    fn signed_evidence_counts_and_any_change_breaks_it() {
        let catalogue = vec!["20261130-020000F".to_string()];
        let mut evidence = passing();
        evidence.sign(KEY);
        // Through the bucket and back: the signature survives the round trip.
        let read = Evidence::parse(evidence.to_json().as_bytes()).unwrap();
        assert_eq!(read.judge(&judge(Some(KEY), &catalogue)), Ok(()));
        let mut forged = read.clone();
        forged.durations.total_seconds = 1.0;
        assert_eq!(
            forged.judge(&judge(Some(KEY), &catalogue)),
            Err(Rejected::BadSignature)
        );
        assert_eq!(
            read.judge(&judge(Some(b"another key, just as long..."), &catalogue)),
            Err(Rejected::BadSignature)
        );
        assert_eq!(
            passing().judge(&judge(Some(KEY), &catalogue)),
            Err(Rejected::Unsigned)
        );
        // Without a key, a signature is not needed (drift notes it).
        assert_eq!(passing().judge(&judge(None, &catalogue)), Ok(()));
    }

    #[test]
    fn passing_evidence_must_be_consistent() {
        let catalogue = vec!["20261130-020000F".to_string()];
        type Break = fn(&mut Evidence);
        let cases: Vec<(&str, Break)> = vec![
            ("its check `migrations` did not pass", |e| {
                e.checks[0].passed = false
            }),
            ("it does not record that the restore met the RTO", |e| {
                e.rto_met = Some(false)
            }),
            ("it does not record that the restore met the RTO", |e| {
                e.rto_met = None
            }),
            ("it records that the RPO was not met", |e| {
                e.rpo_met = Some(false)
            }),
            ("it records a failure", |e| e.failure = Some("x".into())),
            ("it names no backup", |e| e.backup = None),
        ];
        for (why, break_it) in cases {
            let mut evidence = passing();
            break_it(&mut evidence);
            assert_eq!(
                evidence.judge(&judge(None, &catalogue)),
                Err(Rejected::Inconsistent(why.into())),
                "{why}"
            );
        }
        // A failed drill is what it says: it counts as a failure.
        let mut failed = passing();
        failed.passed = false;
        failed.rto_met = Some(false);
        assert_eq!(failed.judge(&judge(None, &catalogue)), Ok(()));
    }

    #[test]
    fn the_backup_must_exist_or_have_been_expired_by_policy() {
        let evidence = passing();
        assert_eq!(
            evidence.judge(&judge(None, &[])),
            Err(Rejected::UnknownBackup("20261130-020000F".into()))
        );
        // Older than the oldest backup kept: expired after the drill.
        let mut old = passing();
        old.backup.as_mut().unwrap().stop_time = "2026-11-16T02:10:00Z".into();
        assert_eq!(old.judge(&judge(None, &[])), Ok(()));
    }

    #[test]
    fn format_one_is_read_and_unknown_formats_are_not() {
        let mut value = serde_json::to_value(passing()).unwrap();
        let object = value.as_object_mut().unwrap();
        for field in ["source", "pick", "seed", "page_checks", "signature"] {
            object.remove(field);
        }
        object.insert("format".into(), 1.into());
        let one = Evidence::parse(value.to_string().as_bytes()).unwrap();
        assert_eq!(one.source, "physical");
        object_format(&mut value, 3);
        assert!(Evidence::parse(value.to_string().as_bytes()).is_none());
    }

    fn object_format(value: &mut serde_json::Value, format: u32) {
        value["format"] = format.into();
    }
}
