//! Verifying every desired password against its stored SCRAM verifier, with
//! the verifier's own salt and iteration count, all at once on every core and
//! off the async runtime. A stored verifier this run already sent or verified
//! (`known`) is compared byte for byte instead of being derived again: equal
//! bytes are the same salt, count and keys, so the same password.

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};

use super::desired::DesiredPostgres;
use super::live::{LivePostgres, StoredPassword};
use crate::error::{Error, Result};
use crate::pg::scram::verify_all;

/// Roles whose stored verifier is the desired password's, with that verifier.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Verified {
    pub(crate) matches: BTreeMap<String, String>,
}

impl Verified {
    /// Whether `stored` is the verifier of `role`'s desired password.
    pub(crate) fn matches(&self, role: &str, stored: &str) -> bool {
        self.matches.get(role).is_some_and(|v| v == stored)
    }
}

pub(crate) async fn verify(
    desired: &DesiredPostgres,
    live: &LivePostgres,
    known: &BTreeMap<String, String>,
) -> Result<Verified> {
    let mut verified = Verified::default();
    let mut work: Vec<(String, SecretString, String)> = Vec::new();
    for (name, role) in &desired.roles {
        let (Some(password), Some(live_role)) = (&role.password, live.roles.get(name)) else {
            continue;
        };
        let StoredPassword::Scram(stored) = &live_role.password else {
            continue;
        };
        if known.get(name) == Some(stored) {
            verified.matches.insert(name.clone(), stored.clone());
        } else {
            work.push((name.clone(), password.clone(), stored.clone()));
        }
    }
    if work.is_empty() {
        return Ok(verified);
    }
    let outcomes = tokio::task::spawn_blocking(move || {
        let pairs: Vec<(&str, &str)> = work
            .iter()
            .map(|(_, password, stored)| (password.expose_secret(), stored.as_str()))
            .collect();
        let outcomes = verify_all(&pairs);
        work.into_iter()
            .zip(outcomes)
            .filter(|(_, outcome)| *outcome == Some(true))
            .map(|((name, _, stored), _)| (name, stored))
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| Error::internal(format!("password verification stopped: {e}")))?;
    verified.matches.extend(outcomes);
    Ok(verified)
}
