//! `--target DOMAIN`: which domains a run reads, plans and applies, named by
//! the first word of their addresses, like Terraform's `-target`. The values
//! come from the registry's table. A domain left out is not read (its files,
//! its remote API) and gets no change. Targets bring what they depend on: a
//! domain declares the words targeting it brings along (the pooler's auth
//! file follows the roles' passwords, so `pooler` brings `postgres`).

use std::collections::BTreeSet;

use super::registry;
use crate::contract::DomainId;

/// What a run covers: everything (no `--target`), or the targeted words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Scope {
    targets: BTreeSet<&'static str>,
}

impl Scope {
    /// From `--target` values (checked against [`registry::targets`] by the
    /// command line); unknown words are ignored.
    pub(crate) fn new(targets: &[String]) -> Self {
        let mut words: BTreeSet<&'static str> = registry::targets()
            .into_iter()
            .filter(|word| targets.iter().any(|t| t == word))
            .collect();
        for (id, brings) in registry::domains() {
            if words.contains(id.word) {
                words.extend(brings.iter().copied());
            }
        }
        Self { targets: words }
    }

    pub(crate) fn everything(&self) -> bool {
        self.targets.is_empty()
    }

    pub(crate) fn includes(&self, domain: DomainId) -> bool {
        self.targets.is_empty() || self.targets.contains(domain.word)
    }

    /// The targeted words, in the table's order, for plan files and messages.
    pub(crate) fn targets(&self) -> Vec<String> {
        registry::targets()
            .into_iter()
            .filter(|word| self.targets.contains(word))
            .map(str::to_string)
            .collect()
    }

    /// `` `postgres`, `bucket` `` for messages.
    pub(crate) fn describe(&self) -> String {
        quoted(self.targets().iter().map(String::as_str))
    }

    /// Terraform's warning, for stderr.
    pub(crate) fn warning(&self, left_out: &[&str]) -> Option<String> {
        if self.everything() {
            return None;
        }
        let not_read = if left_out.is_empty() {
            "nothing the file declares was left out".to_string()
        } else {
            format!(
                "{} were not read and may have drifted",
                quoted(left_out.iter().copied())
            )
        };
        let pooler = if left_out.contains(&"pooler") {
            " A password rotated here reaches pgBouncer's auth file only when `pooler` is targeted too."
        } else {
            ""
        };
        Some(format!(
            "`--target` is in effect: planning {} only; {not_read}.{pooler} Run a full plan and apply where every file is visible (docs/ci.md).",
            self.describe(),
        ))
    }
}

fn quoted<'a>(words: impl Iterator<Item = &'a str>) -> String {
    words
        .map(|w| format!("`{w}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
