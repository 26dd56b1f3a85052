//! `dbops validate`: parse, resolve references, lint; connects to nothing.
//! Reports every problem of the file at once.

use super::ExitStatus;
use crate::cli::Settings;
use crate::engine::registry;
use crate::engine::session::resolve;
use crate::error::Errors;
use crate::printer::Printer;
use crate::render::Format;

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
