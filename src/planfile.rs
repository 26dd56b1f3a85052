//! Saved plans (`plan --out FILE`, `apply FILE`). A plan file pins the
//! desired-state file (SHA-256 of its bytes), the observed live state (a digest
//! that reveals no verifier) and the changes as rendered. It holds no secret:
//! passwords appear only as `sensitive: true`. Applying it re-observes and
//! refuses when any of the three no longer matches.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::plan::Plan;
use crate::util::files::{io_reason, write_atomic};

pub(crate) const KIND: &str = "dbops-plan";
pub(crate) const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PlanFile {
    pub(crate) kind: String,
    pub(crate) format_version: u32,
    pub(crate) dbops_version: String,
    pub(crate) created_at: String,
    pub(crate) config_file: String,
    pub(crate) config_digest: String,
    pub(crate) live_digest: String,
    pub(crate) changes: serde_json::Value,
    /// The domains `--target` named; none for a whole plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) targets: Vec<String>,
    /// The `[environments.NAME]` the plan was made for; applying it
    /// anywhere else is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) environment: Option<String>,
}

impl PlanFile {
    pub(crate) fn new<O>(
        config_file: &str,
        config_digest: String,
        live_digest: String,
        plan: &Plan<O>,
    ) -> Self {
        Self {
            kind: KIND.to_string(),
            format_version: FORMAT_VERSION,
            dbops_version: env!("CARGO_PKG_VERSION").to_string(),
            created_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            config_file: config_file.to_string(),
            config_digest,
            live_digest,
            changes: changes_value(plan),
            targets: Vec::new(),
            environment: None,
        }
    }

    /// Records the environment the plan was made for.
    pub(crate) fn with_environment(mut self, environment: Option<String>) -> Self {
        self.environment = environment;
        self
    }

    /// Refuses the plan for another environment than its own.
    pub(crate) fn check_environment(&self, path: &Path, chosen: Option<&str>) -> Result<()> {
        if self.environment.as_deref() == chosen {
            return Ok(());
        }
        let name = |e: Option<&str>| match e {
            Some(e) => format!("environment `{e}`"),
            None => "a file without environments".to_string(),
        };
        Err(Error::config(format!(
            "`{}` was planned for {}, not {}: refusing to apply it here",
            path.display(),
            name(self.environment.as_deref()),
            name(chosen)
        ))
        .hint("plan again for this environment: `dbops plan --environment NAME --out FILE`"))
    }

    /// Records the domains the plan was limited to.
    pub(crate) fn with_targets(mut self, targets: Vec<String>) -> Self {
        self.targets = targets;
        self
    }

    pub(crate) fn save(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_string_pretty(self).expect("plan files serialize");
        text.push('\n');
        write_atomic(path, text.as_bytes(), 0o600, None)
    }

    pub(crate) fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(format!(
                "cannot read the plan file `{}`: {}",
                path.display(),
                io_reason(&e)
            ))
        })?;
        let file: PlanFile = serde_json::from_str(&text).map_err(|e| {
            Error::config(format!(
                "`{}` is not a dbops plan file: {e}",
                path.display()
            ))
            .hint("save one with `dbops plan --out FILE`")
        })?;
        if file.kind != KIND || file.format_version != FORMAT_VERSION {
            return Err(Error::new(format!(
                "`{}` is a plan file of another format (kind `{}`, version {})",
                path.display(),
                file.kind,
                file.format_version
            ))
            .kind(ErrorKind::Config)
            .hint("save a new one with this dbops: `dbops plan --out FILE`"));
        }
        Ok(file)
    }
}

/// The changes as the plan file records them, for comparing plans.
pub(crate) fn changes_value<O>(plan: &Plan<O>) -> serde_json::Value {
    let changes: Vec<&crate::plan::Change> = plan.changes().collect();
    serde_json::to_value(&changes).expect("changes serialize")
}
