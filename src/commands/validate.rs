//! `dbops validate`: parse, resolve references, lint; connects to nothing.
//! Reports every problem of the file at once. `--list-secrets` lists what
//! the file references (environment variables and files), for a CI job to
//! export, and fails when one is missing.

use super::ExitStatus;
use crate::cli::Settings;
use crate::config;
use crate::engine::registry;
use crate::engine::session::resolve;
use crate::error::{Error, Errors};
use crate::printer::Printer;
use crate::render::Format;
use crate::secret::{SecretError, SecretRef};

pub(crate) fn run(settings: &Settings, printer: &Printer) -> Result<ExitStatus, Errors> {
    let resolved = resolve(&settings.file)?;
    printer.warnings(&resolved.warnings);
    let counts = registry::summary(&resolved.desired);
    let text = match settings.format {
        Format::Json => {
            let mut document = serde_json::json!({
                "format_version": "1.0",
                "valid": true,
                "file": resolved.loaded.source.name,
                "warnings": resolved.warnings,
            });
            for (what, count) in &counts {
                document[what.replace(' ', "_")] = serde_json::json!(count);
            }
            format!(
                "{}\n",
                serde_json::to_string_pretty(&document).expect("json")
            )
        }
        Format::Text | Format::Markdown => {
            let parts: Vec<String> = counts
                .iter()
                .map(|(what, count)| format!("{count} {what}"))
                .collect();
            format!(
                "The configuration is valid: `{}` declares {}.\n",
                resolved.loaded.source.name,
                parts.join(", ")
            )
        }
    };
    printer.out(&text);
    Ok(ExitStatus::Success)
}

/// Every secret reference of the file: what it names, the key that holds
/// it, and whether it resolves. Values are never printed.
pub(crate) fn list_secrets(settings: &Settings, printer: &Printer) -> Result<ExitStatus, Errors> {
    let loaded = config::load(&settings.file)?;
    let document = loaded
        .source
        .document()
        .ok_or_else(|| Error::config(format!("`{}` is not valid TOML", loaded.source.name)))?;
    let mut rows = Vec::new();
    let mut missing = 0;
    for found in config::references::references(document) {
        let (kind, name) = match &found.reference {
            SecretRef::Env(name) => ("env", name.clone()),
            SecretRef::File(path) => ("file", path.display().to_string()),
        };
        let status = match found.reference.resolve() {
            Ok(_) => "set",
            Err(SecretError::EnvMissing(_)) => "missing",
            Err(SecretError::Empty(_)) => "empty",
            Err(_) => "unreadable",
        };
        if status != "set" {
            missing += 1;
        }
        let key = crate::diagnostics::display_path(
            &found.path.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        rows.push((kind, name, key, status));
    }
    let text = match settings.format {
        Format::Json => {
            let list: Vec<serde_json::Value> = rows
                .iter()
                .map(|(kind, name, key, status)| {
                    serde_json::json!({"kind": kind, "name": name, "key": key, "status": status})
                })
                .collect();
            let document = serde_json::json!({
                "format_version": "1.0",
                "file": loaded.source.name,
                "secrets": list,
                "missing": missing,
            });
            format!(
                "{}\n",
                serde_json::to_string_pretty(&document).expect("json")
            )
        }
        Format::Text | Format::Markdown => {
            let width = rows
                .iter()
                .map(|(_, name, _, _)| name.len())
                .max()
                .unwrap_or(0);
            let mut text = String::new();
            for (kind, name, key, status) in &rows {
                text.push_str(&format!("{kind:<4} {name:<width$}  {status:<10} {key}\n"));
            }
            text
        }
    };
    printer.out(&text);
    if missing > 0 {
        printer.errors(&Errors::from(
            Error::config(format!(
                "{missing} of the {} secret(s) `{}` references are missing or unreadable",
                rows.len(),
                loaded.source.name
            ))
            .hint(
                "export each `missing` variable and make each file readable before running dbops",
            ),
        ));
        return Ok(ExitStatus::Error);
    }
    Ok(ExitStatus::Success)
}
