//! The settings diff: pure, from desired and live settings to changes, pending
//! restarts and notes.
//!
//! For each declared setting, the value that will be in force after the next
//! restart is postgresql.auto.conf's entry (what `ALTER SYSTEM` wrote), else the
//! current value. If that differs from the file: a change (marked
//! `requires_restart` for `postmaster` settings). If it matches but
//! `pg_file_settings` says the entry is not applied yet: for a `postmaster`
//! setting a pending restart, not a change to repeat; for others, a reload.

use super::desired::{DesiredSettings, Origin};
use super::live::{LiveSetting, LiveSettings};
use super::operation::{is_list, normalize_list, Operation};
use super::value::{normalize, Normalized};
use crate::error::{Error, Result};
use crate::plan::{
    address_segment, Action, AttributeChange, Change, Operation as PlanOperation, Pending, Value,
};

pub fn address(name: &str) -> String {
    format!("postgres.setting.{}", address_segment(name))
}

/// Changes, pending restarts and notes for the settings domain.
#[derive(Debug, Default)]
pub struct SettingsDiff {
    pub changes: Vec<Change>,
    pub pending: Vec<Pending>,
    pub notes: Vec<String>,
}

fn comparable(live: &LiveSetting, text: &str) -> std::result::Result<Normalized, String> {
    if is_list(&live.name) {
        return Ok(Normalized::Text(normalize_list(text)));
    }
    normalize(&live.spec(), text)
}

pub fn diff(desired: &DesiredSettings, live: &LiveSettings) -> Result<SettingsDiff> {
    let mut out = SettingsDiff::default();
    for (name, wanted) in &desired.settings {
        let Some(setting) = live.settings.get(name) else {
            return Err(unknown(name, live, wanted.origin));
        };
        let want = comparable(setting, &wanted.value).map_err(|why| {
            Error::new(format!("setting `{name}`: {why}")).hint(
                "the value is checked against the server's `pg_settings` before anything changes",
            )
        })?;
        let current = comparable(setting, &setting.setting)
            .unwrap_or(Normalized::Text(setting.setting.clone()));
        let entry = live.auto_conf.get(name);
        let target = entry
            .and_then(|entry| comparable(setting, &entry.value).ok())
            .unwrap_or_else(|| current.clone());
        // In force: the auto.conf entry when it is applied (some settings, such as
        // `archive_command` without archiving, show a placeholder instead).
        let in_force = match entry {
            Some(entry) => entry.applied,
            None => current.same_as(&want),
        };

        let overridden = matches!(
            setting.source.as_str(),
            "command line" | "environment variable"
        );
        if overridden && !current.same_as(&want) {
            return Err(Error::new(format!(
                "setting `{name}` is set on the server's {} (`{}`), which `ALTER SYSTEM` cannot override",
                setting.source, setting.display
            ))
            .hint("remove it from the server's start command (for example `command:` in docker-compose), or from the file"));
        }

        let set = || {
            Change::new(
                address(name),
                Action::Update,
                PlanOperation::Settings(Operation::Set {
                    name: name.clone(),
                    value: wanted.value.clone(),
                }),
            )
            .attribute(AttributeChange::new(
                "value",
                Some(Value::Text(setting.display.clone())),
                Some(Value::Text(wanted.value.clone())),
            ))
        };
        if !target.same_as(&want) {
            let mut change = set();
            change.requires_restart = setting.requires_restart();
            if wanted.origin == Origin::Backup {
                change = change.reason("derived from `[backup]`");
            }
            out.changes.push(change);
        } else if !in_force && setting.requires_restart() {
            out.pending.push(Pending {
                address: address(name),
                current: Value::Text(setting.display.clone()),
                pending: Value::Text(wanted.value.clone()),
            });
        } else if !in_force {
            // Written but never loaded: set again and reload.
            out.changes.push(set().reason(
                "written to postgresql.auto.conf but not loaded; apply reloads the configuration",
            ));
        }
    }

    for (name, entry) in &live.auto_conf {
        let value = &entry.value;
        if desired.settings.contains_key(name) {
            continue;
        }
        if desired.prune {
            let mut change = Change::new(
                address(name),
                Action::Delete,
                PlanOperation::Settings(Operation::Reset { name: name.clone() }),
            )
            .attribute(AttributeChange::new(
                "value",
                Some(Value::Text(value.clone())),
                None,
            ))
            .reason("not in the file, and `[server] prune = true`");
            change.requires_restart = live
                .settings
                .get(name)
                .is_some_and(LiveSetting::requires_restart);
            out.changes.push(change);
        } else {
            out.notes.push(format!(
                "`{name}` is set in postgresql.auto.conf but not in the file; left alone (`[server] prune = true` resets it)"
            ));
        }
    }
    Ok(out)
}

fn unknown(name: &str, live: &LiveSettings, origin: Origin) -> Error {
    let mut close: Vec<(f64, &String)> = live
        .known
        .iter()
        .map(|known| (strsim::jaro_winkler(name, known), known))
        .filter(|(score, _)| *score > 0.85)
        .collect();
    close.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
    let mut error = Error::new(format!(
        "unknown setting `{name}`: the server has no setting of that name"
    ));
    if origin == Origin::Backup {
        error = error.cause("it is derived from `[backup]`");
    }
    if !close.is_empty() {
        let names: Vec<String> = close
            .iter()
            .take(3)
            .map(|(_, n)| format!("`{n}`"))
            .collect();
        error = error.hint(format!("did you mean {}?", names.join(" or ")));
    } else {
        error = error.hint("`SELECT name FROM pg_settings` lists every setting");
    }
    error
}
