//! `dbops validate`: parse, resolve references, lint; connects to nothing.
//! Reports every problem of the file at once. `--list-secrets` lists what
//! the file references (environment variables and files), for a CI job to
//! export, and fails when one is missing.

use super::ExitStatus;
use crate::cli::Settings;
use crate::config;
use crate::engine::registry;
use crate::engine::session::resolve_loaded;
use crate::error::{Error, Errors};
use crate::printer::Printer;
use crate::render::Format;
use crate::secret::{SecretError, SecretRef};
use crate::util::words::counted;

pub(crate) fn run(settings: &Settings, printer: &Printer) -> Result<ExitStatus, Errors> {
    let file = config::read(&settings.file)?;
    if settings.environment.is_none() && !file.environments.is_empty() {
        return every_environment(settings, printer, &file);
    }
    let started = std::time::Instant::now();
    let resolved = resolve_loaded(file.select(settings.environment.as_deref())?, started)?;
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
                .map(|(what, count)| counted(*count, what))
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

/// `validate --all-environments` (or `validate` of a file with environments).
pub(crate) fn run_all(settings: &Settings, printer: &Printer) -> Result<ExitStatus, Errors> {
    let file = config::read(&settings.file)?;
    if file.environments.is_empty() {
        return Err(Error::config(format!(
            "`--all-environments`: `{}` declares no `[environments.NAME]` table",
            file.source.name
        ))
        .hint(
            "drop `--all-environments`, or declare environments in the file (docs/environments.md)",
        )
        .into());
    }
    every_environment(settings, printer, &file)
}

/// Resolves every environment; reports each one's problems (a problem of
/// the shared declarations once, not once per environment), then refuses
/// two environments that would manage the same database of one server.
fn every_environment(
    settings: &Settings,
    printer: &Printer,
    file: &config::File,
) -> Result<ExitStatus, Errors> {
    let mut resolved = Vec::new();
    let mut failures: Vec<(String, Errors)> = Vec::new();
    for name in &file.environments.names {
        let started = std::time::Instant::now();
        match file
            .select(Some(name))
            .and_then(|loaded| resolve_loaded(loaded, started))
        {
            Ok(one) => resolved.push((name.clone(), one)),
            Err(errors) => failures.push((name.clone(), errors)),
        }
    }
    let mut errors = shared_once(&failures, file.environments.names.len());
    let places: Vec<(String, &crate::engine::session::Resolved)> =
        resolved.iter().map(|(n, r)| (n.clone(), r)).collect();
    errors.extend(super::environments::conflicts(&places));
    if !errors.is_empty() {
        return Err(Errors::new(errors));
    }
    for (_, one) in &resolved {
        printer.warnings(&one.warnings);
    }
    let text = match settings.format {
        Format::Json => {
            let environments: Vec<serde_json::Value> = resolved
                .iter()
                .map(|(name, one)| {
                    let mut entry = serde_json::json!({ "name": name });
                    for (what, count) in registry::summary(&one.desired) {
                        entry[what.replace(' ', "_")] = serde_json::json!(count);
                    }
                    entry
                })
                .collect();
            let document = serde_json::json!({
                "format_version": "1.0",
                "valid": true,
                "file": file.source.name,
                "environments": environments,
            });
            format!(
                "{}\n",
                serde_json::to_string_pretty(&document).expect("json")
            )
        }
        Format::Text | Format::Markdown => {
            let mut text = format!(
                "The configuration is valid: `{}` declares {}.\n",
                file.source.name,
                counted(resolved.len(), "environments")
            );
            for (name, one) in &resolved {
                let parts: Vec<String> = registry::summary(&one.desired)
                    .iter()
                    .map(|(what, count)| counted(*count, what))
                    .collect();
                text.push_str(&format!("  {name}: {}\n", parts.join(", ")));
            }
            text
        }
    };
    printer.out(&text);
    Ok(ExitStatus::Success)
}

/// Each environment's errors; one that every environment has (a problem of
/// the shared declarations) is reported once, without a name.
fn shared_once(failures: &[(String, Errors)], environments: usize) -> Vec<Error> {
    let same = |e: &Error| {
        (
            e.message().to_string(),
            e.location().cloned(),
            e.key_path().map(str::to_string),
        )
    };
    let mut out: Vec<Error> = Vec::new();
    for (_, errors) in failures {
        for error in errors.list() {
            let everywhere = failures.len() == environments
                && failures
                    .iter()
                    .all(|(_, other)| other.list().iter().any(|o| same(o) == same(error)));
            let error = if everywhere {
                error.clone().without_environment()
            } else {
                error.clone()
            };
            if !out.iter().any(|o| o.to_string() == error.to_string()) {
                out.push(error);
            }
        }
    }
    out
}

/// Every secret reference of the file (of `--environment NAME` only, when
/// given): what it names, the key that holds it, and whether it resolves.
/// Values are never printed.
pub(crate) fn list_secrets(settings: &Settings, printer: &Printer) -> Result<ExitStatus, Errors> {
    let file = config::read(&settings.file)?;
    let selected = match settings.environment.as_deref() {
        Some(name) => Some(file.select(Some(name))?),
        None => None,
    };
    let root = match &selected {
        Some(loaded) => loaded.source.root(),
        None => file.source.document().map(toml_edit::Document::as_table),
    }
    .ok_or_else(|| Error::config(format!("`{}` is not valid TOML", file.source.name)))?;
    let mut rows = Vec::new();
    let mut missing = 0;
    for found in config::references::references(root) {
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
                "file": file.source.name,
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
                file.source.name
            ))
            .hint(
                "export each `missing` variable and make each file readable before running dbops",
            ),
        ));
        return Ok(ExitStatus::Error);
    }
    Ok(ExitStatus::Success)
}
