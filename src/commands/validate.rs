//! `dbops validate`: parse, resolve references, lint. Connects to nothing.

use super::{print, warn, ExitStatus};
use crate::cli::Settings;
use crate::config;
use crate::error::Result;
use crate::render::Format;

pub fn run(settings: &Settings) -> Result<ExitStatus> {
    let loaded = config::load(&settings.file)?;
    warn(settings, &loaded.warnings);
    let desired = &loaded.desired;
    let text = match settings.format {
        Format::Json => {
            let document = serde_json::json!({
                "format_version": "1.0",
                "valid": true,
                "file": loaded.source.name,
                "roles": desired.postgres.roles.len(),
                "databases": desired.postgres.databases.len(),
                "grants": desired.grants.grants.len(),
                "settings": desired.settings.settings.len(),
                "warnings": loaded.warnings,
            });
            format!(
                "{}\n",
                serde_json::to_string_pretty(&document).expect("json")
            )
        }
        Format::Text | Format::Markdown => format!(
            "The configuration is valid: `{}` declares {} role(s), {} database(s), {} grant(s) and {} setting(s).\n",
            loaded.source.name,
            desired.postgres.roles.len(),
            desired.postgres.databases.len(),
            desired.grants.grants.len(),
            desired.settings.settings.len()
        ),
    };
    print(&text);
    Ok(ExitStatus::Success)
}
