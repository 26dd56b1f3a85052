//! `[server]` resolved: setting names checked and lowercased, values as the
//! text PostgreSQL is given. Values are checked against the server's own
//! `pg_settings` at plan time, not here (that needs a connection).

use super::desired::{DesiredSetting, DesiredSettings, Origin};
use super::raw::RawServer;
use crate::diagnostics::Resolver;
use crate::pg::setting_value::SettingValue;
use crate::util::credential::carries_credential;
use secrecy::ExposeSecret;

pub(crate) fn resolve(raw: Option<&RawServer>, r: &mut Resolver<'_>) -> DesiredSettings {
    let mut desired = DesiredSettings::default();
    let Some(server) = raw else {
        return desired;
    };
    desired.prune = server.prune;
    desired.restart_command = server.restart_command.clone();
    if let Some(command) = &server.restart_command {
        if command.trim().is_empty() {
            r.error(r.key(&["server", "restart_command"]).error("is empty"));
        }
    }
    for (name, value) in &server.settings {
        let key = r.key(&["server", "settings", name]);
        let lower = name.to_ascii_lowercase();
        if lower.is_empty()
            || !lower
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        {
            r.error(key.error(format!("`{name}` is not a setting name")));
            continue;
        }
        if desired.settings.contains_key(&lower) {
            r.error(key.error(format!(
                "setting `{lower}` is written twice (names are case-insensitive)"
            )));
            continue;
        }
        let (text, secret) = match value {
            SettingValue::Secret(reference) => match key.secret(reference) {
                Ok(secret) => (secret.expose_secret().to_string(), true),
                Err(error) => {
                    r.error(error);
                    continue;
                }
            },
            plain => (plain.to_config_text().unwrap_or_default(), false),
        };
        if text.contains('\0') {
            r.error(key.error("the value contains a NUL byte, which PostgreSQL cannot store"));
            continue;
        }
        desired.settings.insert(
            lower.clone(),
            DesiredSetting {
                name: lower,
                sensitive: secret || carries_credential(&text),
                value: text,
                origin: Origin::File,
            },
        );
    }
    desired
}

/// Adds settings another section implies (archiving, from `[backup]`); a
/// setting the file writes itself always wins.
pub(crate) fn derive(
    desired: &mut DesiredSettings,
    derived: Vec<(String, String)>,
    origin: Origin,
) {
    for (name, value) in derived {
        desired
            .settings
            .entry(name.clone())
            .or_insert(DesiredSetting {
                name,
                sensitive: carries_credential(&value),
                value,
                origin,
            });
    }
}
