//! `dbops schema`: the JSON Schema of `dbops.toml`, generated from the parser's types.

use super::{print, ExitStatus};
use crate::error::Result;

pub fn schema_text() -> String {
    let schema = schemars::schema_for!(crate::config::raw::RawConfig);
    let mut text = serde_json::to_string_pretty(&schema).expect("schemas serialize");
    text.push('\n');
    text
}

pub fn run() -> Result<ExitStatus> {
    print(&schema_text());
    Ok(ExitStatus::Success)
}
