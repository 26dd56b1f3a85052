//! `dbops schema`: the JSON Schema of `dbops.toml`, generated from the parser's types.

use super::ExitStatus;
use crate::error::Errors;
use crate::printer::Printer;

pub(crate) fn schema_text() -> String {
    let schema = crate::config::schema::schema();
    let mut text = serde_json::to_string_pretty(&schema).expect("schemas serialize");
    text.push('\n');
    text
}

pub(crate) fn run(printer: &Printer) -> Result<ExitStatus, Errors> {
    printer.out(&schema_text());
    Ok(ExitStatus::Success)
}
