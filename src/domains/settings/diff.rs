//! The settings diff: pure, from desired and live settings to changes, pending
//! restarts and notes.
//!
//! For each declared setting, the value that will be in force after the next
//! restart is postgresql.auto.conf's entry (what `ALTER SYSTEM` wrote), else the
//! current value. If that differs from the file: a change (marked
//! `requires_restart` for `postmaster` settings). If it matches but
//! `pg_file_settings` says the entry is not applied yet: for a `postmaster`
//! setting a pending restart, not a change to repeat; for others, a reload.

use super::desired::{DesiredSetting, DesiredSettings, Origin};
use super::live::{LiveSetting, LiveSettings};
use super::operation::{is_list, normalize_list, Operation};
use super::SERVICE;
use crate::error::{Error, Errors};
use crate::pg::setting_value::Context;
use crate::pg::setting_value::{normalize, Normalized};
use crate::plan::{Action, Address, AttributeChange, Change, DomainDiff, Pending, Value};
use crate::util::credential::carries_credential;
use crate::util::suggest::did_you_mean;

pub(crate) fn address(name: &str) -> Address {
    super::ID.address().word("setting").name(name)
}

/// Settings `ALTER SYSTEM` refuses to write, whatever their context.
const NOT_IN_AUTO_CONF: &[&str] = &["data_directory", "config_file", "hba_file", "ident_file"];

fn comparable(live: &LiveSetting, text: &str) -> std::result::Result<Normalized, String> {
    if is_list(&live.name) {
        return Ok(Normalized::Text(normalize_list(text)));
    }
    normalize(&live.spec(), text)
}

pub(crate) fn diff(
    desired: &DesiredSettings,
    live: &LiveSettings,
) -> Result<DomainDiff<Operation>, Errors> {
    let mut out = DomainDiff::default();
    let mut errors = Vec::new();
    // The HBA file first: apply writes and checks it before any setting.
    if let (Some(hba), Some(live_hba)) = (&desired.hba, &live.hba) {
        match super::hba::diff::diff(hba, live_hba, desired.admin_certificate, &mut out.notes) {
            Ok(Some(planned)) => out.push(planned.map(Operation::Hba)),
            Ok(None) => {}
            Err(error) => errors.push(error),
        }
    }
    for (name, wanted) in &desired.settings {
        if let Err(error) = declared(name, wanted, live, &mut out) {
            errors.push(error);
        }
    }
    if !errors.is_empty() {
        return Err(Errors::new(errors));
    }
    undeclared_pending(desired, live, &mut out);
    auto_conf_extras(desired, live, &mut out);
    Ok(out)
}

/// One declared setting: a change, a pending restart, or nothing; an error
/// when the server cannot take it.
fn declared(
    name: &String,
    wanted: &DesiredSetting,
    live: &LiveSettings,
    out: &mut DomainDiff<Operation>,
) -> Result<(), Error> {
    let Some(setting) = live.settings.get(name) else {
        return Err(unknown(name, live, wanted.origin));
    };
    let (want, current) = comparable_values(name, wanted, setting)?;
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
    // A credential on either side is never printed: the value shows as changed.
    let sensitive = wanted.sensitive
        || carries_credential(&setting.display)
        || entry.is_some_and(|e| carries_credential(&e.value));
    let set = || {
        let attribute = if sensitive {
            AttributeChange::sensitive("value")
        } else {
            AttributeChange::new(
                "value",
                Some(Value::Text(setting.display.clone())),
                Some(Value::Text(wanted.value.clone())),
            )
        };
        Change::new(address(name), Action::Update).attribute(attribute)
    };
    let operation = || Operation::Set {
        name: name.clone(),
        value: wanted.value.clone(),
        sensitive,
    };
    if !target.same_as(&want) {
        let mut change = set();
        if setting.requires_restart() {
            change = change.requires_restart_of(SERVICE);
        }
        if let Origin::Derived(section) = wanted.origin {
            change = change.reason(format!("derived from `{section}`"));
        }
        out.push(change.with(operation()));
    } else if !in_force && setting.requires_restart() {
        out.pending.push(Pending {
            address: address(name),
            current: shown(&setting.display, sensitive),
            pending: shown(&wanted.value, sensitive),
            service: SERVICE,
            declared: true,
        });
    } else if !in_force {
        // Written but never loaded: set again and reload.
        out.push(
            set()
                .reason("written to postgresql.auto.conf but not loaded; apply reloads the configuration")
                .with(operation()),
        );
    }
    Ok(())
}

/// The wanted and current values, comparable; an error when `ALTER SYSTEM`
/// cannot write the setting, the value does not fit it, or the server's
/// command line overrides it.
fn comparable_values(
    name: &str,
    wanted: &DesiredSetting,
    setting: &LiveSetting,
) -> Result<(Normalized, Normalized), Error> {
    let internal = setting.context == Context::Internal;
    if internal || NOT_IN_AUTO_CONF.contains(&name) {
        return Err(Error::config(format!(
            "setting `{name}` cannot be changed with `ALTER SYSTEM`{}",
            if internal {
                " (PostgreSQL fixes it when the cluster is created or built)"
            } else {
                ""
            }
        ))
        .hint("remove it from `[server.settings]`"));
    }
    let want = comparable(setting, &wanted.value).map_err(|why| {
        let why = if wanted.sensitive {
            "its value (not shown: it carries a credential) does not fit the setting".to_string()
        } else {
            why
        };
        Error::config(format!("setting `{name}`: {why}"))
            .hint("the value is checked against the server's `pg_settings` before anything changes")
    })?;
    let current =
        comparable(setting, &setting.setting).unwrap_or(Normalized::Text(setting.setting.clone()));
    let overridden = matches!(
        setting.source.as_str(),
        "command line" | "environment variable"
    );
    if overridden && !current.same_as(&want) {
        let shown = if wanted.sensitive || carries_credential(&setting.display) {
            "(sensitive)".to_string()
        } else {
            format!("`{}`", setting.display)
        };
        return Err(Error::config(format!(
            "setting `{name}` is set on the server's {} ({shown}), which `ALTER SYSTEM` cannot override",
            setting.source
        ))
        .hint("remove it from the server's start command (for example `command:` in docker-compose), or from the file"));
    }
    Ok((want, current))
}

/// Settings changed outside the file that wait for a restart: a restart
/// dbops runs puts them in force too, so the plan says so.
fn undeclared_pending(
    desired: &DesiredSettings,
    live: &LiveSettings,
    out: &mut DomainDiff<Operation>,
) {
    for (name, setting) in &live.settings {
        let pruned = desired.prune && live.auto_conf.contains_key(name);
        // Written but not in force: pg_settings says so once the files were
        // re-read; pg_file_settings says so before.
        let unapplied = live.auto_conf.get(name).is_some_and(|e| !e.applied);
        let waits = setting.pending_restart || (unapplied && setting.requires_restart());
        if desired.settings.contains_key(name) || !waits || pruned {
            continue;
        }
        let after = live
            .auto_conf
            .get(name)
            .map(|e| e.value.clone())
            .or_else(|| setting.pending_value.clone())
            .unwrap_or_else(|| "(set in a configuration file)".to_string());
        let sensitive = carries_credential(&setting.display) || carries_credential(&after);
        out.pending.push(Pending {
            address: address(name),
            current: shown(&setting.display, sensitive),
            pending: shown(&after, sensitive),
            service: SERVICE,
            declared: false,
        });
    }
}

/// postgresql.auto.conf entries the file does not name: reset with
/// `prune = true`, else a note.
fn auto_conf_extras(
    desired: &DesiredSettings,
    live: &LiveSettings,
    out: &mut DomainDiff<Operation>,
) {
    for (name, entry) in &live.auto_conf {
        let value = &entry.value;
        if desired.settings.contains_key(name) {
            continue;
        }
        let pending_restart = live
            .settings
            .get(name)
            .is_some_and(|s| s.pending_restart || (!entry.applied && s.requires_restart()));
        if desired.prune {
            let attribute = if carries_credential(value) {
                AttributeChange::sensitive("value")
            } else {
                AttributeChange::new("value", Some(Value::Text(value.clone())), None)
            };
            let mut change = Change::new(address(name), Action::Delete)
                .attribute(attribute)
                .reason("not in the file, and `[server] prune = true`");
            if live
                .settings
                .get(name)
                .is_some_and(LiveSetting::requires_restart)
            {
                change = change.requires_restart_of(SERVICE);
            }
            out.push(change.with(Operation::Reset { name: name.clone() }));
        } else if !pending_restart && !entry.applied {
            out.notes.push(format!(
                "`{name}` is written in postgresql.auto.conf but not loaded, and not in the file: the configuration reload an apply runs puts it in force too (`[server] prune = true` resets it)"
            ));
        } else if !pending_restart {
            out.notes.push(format!(
                "`{name}` is set in postgresql.auto.conf but not in the file; left alone (`[server] prune = true` resets it)"
            ));
        }
    }
}

/// A value as plans show it; `(sensitive)` when it carries a credential.
fn shown(text: &str, sensitive: bool) -> Value {
    if sensitive {
        Value::text("(sensitive)")
    } else {
        Value::Text(text.to_string())
    }
}

fn unknown(name: &str, live: &LiveSettings, origin: Origin) -> Error {
    let mut error = Error::config(format!(
        "unknown setting `{name}`: the server has no setting of that name"
    ));
    if let Origin::Derived(section) = origin {
        error = error.cause(format!("it is derived from `{section}`"));
    }
    match did_you_mean(name, live.known.iter().map(String::as_str)) {
        Some(suggestion) => error.hint(suggestion),
        None => error.hint("`SELECT name FROM pg_settings` lists every setting"),
    }
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
