//! `[server]` settings, and the archive settings and lints `[backup]` implies.

use super::*;

pub(super) fn resolve_settings(
    raw: &RawConfig,
    source: &SourceFile,
    warnings: &mut Vec<String>,
) -> Result<DesiredSettings> {
    let mut desired = DesiredSettings::default();
    if let Some(server) = &raw.server {
        desired.prune = server.prune;
        desired.restart_command = server.restart_command.clone();
        for (name, value) in &server.settings {
            let at = source.locate(&["server", "settings", name]);
            let lower = name.to_ascii_lowercase();
            if lower.is_empty()
                || !lower
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            {
                return Err(Error::new(format!("`{name}` is not a setting name")).at(at));
            }
            if desired.settings.contains_key(&lower) {
                return Err(Error::new(format!(
                    "setting `{lower}` is written twice (names are case-insensitive)"
                ))
                .at(at));
            }
            desired.settings.insert(
                lower.clone(),
                DesiredSetting {
                    name: lower,
                    value: value.to_config_text(),
                    origin: Origin::File,
                },
            );
        }
    }
    if let Some(backup) = &raw.backup {
        let rpo = humantime::parse_duration(&backup.rpo).map_err(|e| {
            Error::new(format!(
                "key `backup.rpo`: `{}` is not a duration ({e})",
                backup.rpo
            ))
            .at(source.locate(&["backup", "rpo"]))
            .hint("write e.g. `5m` or `1h`")
        })?;
        for (name, value) in archive::derive(backup, rpo) {
            desired
                .settings
                .entry(name.clone())
                .or_insert(DesiredSetting {
                    name,
                    value,
                    origin: Origin::Backup,
                });
        }
        let effective: BTreeMap<String, String> = desired
            .settings
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect();
        for lint in archive::lint(&backup.rpo, rpo, &effective) {
            let at = match desired.settings.get(lint.setting).map(|s| s.origin) {
                Some(Origin::File) => source.locate(&["server", "settings", lint.setting]),
                _ => source.locate(&["backup"]),
            };
            if lint.error {
                return Err(Error::new(lint.message).at(at).hint(
                    "fix the setting, or remove `[backup]` if this server is not backed up",
                ));
            }
            let prefix = at.map(|l| format!("{l}: ")).unwrap_or_default();
            warnings.push(format!("{prefix}{}", lint.message));
        }
    }
    Ok(desired)
}
