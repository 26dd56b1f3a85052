//! The state file: per command, the last verdict and what each webhook was
//! last told. A webhook's entry moves only when it was told (or had nothing
//! to hear), so a failure that could not be delivered is sent again by the
//! next failing run instead of being lost. Written atomically, mode 0600.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Verdict, When};
use crate::error::{Error, Result};

/// The file's whole content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct State {
    pub(crate) format_version: u32,
    /// By command (`drift`, `apply`, `restore-test`).
    #[serde(default)]
    pub(crate) commands: BTreeMap<String, CommandState>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CommandState {
    pub(crate) verdict: Verdict,
    /// When the last run ended (RFC 3339).
    pub(crate) at: String,
    /// What each webhook was last told (or would have been, had it asked).
    #[serde(default)]
    pub(crate) webhooks: BTreeMap<String, Verdict>,
}

/// What to send a webhook now: a failure, a recovery, a plain report
/// (`always`), or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    Failure,
    Recovery,
    Report,
}

/// Pure: given what the webhook was last told (`None`: never, as if clean)
/// and this run's verdict.
pub(crate) fn decide(on: When, last: Option<Verdict>, now: Verdict) -> Option<Kind> {
    let last = last.unwrap_or(Verdict::Ok);
    match (last, now) {
        (Verdict::Ok, Verdict::Failing) if on.failure => Some(Kind::Failure),
        (Verdict::Failing, Verdict::Ok) if on.recovery => Some(Kind::Recovery),
        _ if on.always => Some(match now {
            Verdict::Failing => Kind::Failure,
            Verdict::Ok if last == Verdict::Failing => Kind::Recovery,
            Verdict::Ok => Kind::Report,
        }),
        _ => None,
    }
}

/// Reads the state; a missing file is a fresh start, a file that does not
/// parse is an error (never silently forgotten: it would resend everything).
pub(crate) fn load(path: &Path) -> Result<State> {
    let mut text = String::new();
    match std::fs::File::open(path) {
        Ok(file) => {
            file.take(4 << 20).read_to_string(&mut text).map_err(|e| {
                Error::new(format!(
                    "cannot read the notification state `{}`: {e}",
                    path.display()
                ))
            })?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::default()),
        Err(e) => {
            return Err(Error::new(format!(
                "cannot read the notification state `{}`: {e}",
                path.display()
            )))
        }
    }
    serde_json::from_str(&text).map_err(|e| {
        Error::new(format!(
            "the notification state `{}` does not parse: {e}",
            path.display()
        ))
        .hint("dbops writes it; if it was edited, delete it (the next failure is then sent again)")
    })
}

/// Replaces the state file atomically.
pub(crate) fn save(path: &Path, state: &State) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut state = state.clone();
    state.format_version = 1;
    let text = serde_json::to_string_pretty(&state).expect("state serialises");
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        Error::new(format!(
            "cannot write the notification state `{}`: {e}",
            path.display()
        ))
        .hint("make its directory writable for the user dbops runs as")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: When = When {
        failure: true,
        recovery: true,
        always: false,
    };
    const ALWAYS: When = When {
        failure: false,
        recovery: false,
        always: true,
    };

    #[test]
    fn failures_and_recoveries_are_sent_once_each() {
        use Verdict::{Failing, Ok};
        let cases = [
            (DEFAULT, None, Ok, None),
            (DEFAULT, None, Failing, Some(Kind::Failure)),
            (DEFAULT, Some(Failing), Failing, None),
            (DEFAULT, Some(Failing), Ok, Some(Kind::Recovery)),
            (DEFAULT, Some(Ok), Ok, None),
            (ALWAYS, Some(Ok), Ok, Some(Kind::Report)),
            (ALWAYS, Some(Failing), Failing, Some(Kind::Failure)),
            (ALWAYS, Some(Failing), Ok, Some(Kind::Recovery)),
            (
                When {
                    failure: true,
                    recovery: false,
                    always: false,
                },
                Some(Failing),
                Ok,
                None,
            ),
        ];
        for (on, last, now, want) in cases {
            assert_eq!(decide(on, last, now), want, "{on:?} {last:?} {now:?}");
        }
    }

    #[test]
    fn the_state_round_trips_and_a_broken_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert_eq!(load(&path).unwrap(), State::default());
        let mut state = State::default();
        state.commands.insert(
            "drift".into(),
            CommandState {
                verdict: Verdict::Failing,
                at: "2026-12-02T10:00:00Z".into(),
                webhooks: [("ops".to_string(), Verdict::Failing)].into(),
            },
        );
        save(&path, &state).unwrap();
        let back = load(&path).unwrap();
        assert_eq!(back.commands, state.commands);
        assert_eq!(back.format_version, 1);
        std::fs::write(&path, "{").unwrap();
        assert!(load(&path).is_err());
    }
}
