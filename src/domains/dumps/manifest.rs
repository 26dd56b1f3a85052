//! `manifest.json`: what a dump set holds, written last, so a set without
//! one is incomplete whatever else it holds. Versioned; its JSON Schema is
//! schemas/dump-manifest.schema.json.

use serde::{Deserialize, Serialize};

/// The largest manifest dbops reads back (a table count per table).
pub(crate) const MAX_MANIFEST_BYTES: u64 = 16 << 20;

/// One dump set's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct Manifest {
    /// `1.0`; a new field keeps the major version.
    pub(crate) format_version: String,
    pub(crate) database: String,
    /// `daily`, `weekly` or `monthly` in a bucket; absent in a directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) class: Option<String>,
    /// `custom` or `directory`.
    pub(crate) format: String,
    /// The dump's size in bytes (the sum of its files for `directory`).
    pub(crate) bytes: u64,
    /// The dump's SHA-256 (hex). For `directory`, of the `files` list as
    /// `sha256sum` prints it (`HASH  NAME\n`, names sorted).
    pub(crate) sha256: String,
    /// The dump's files, relative to the set.
    pub(crate) files: Vec<ManifestFile>,
    /// `pg_dumpall --roles-only --no-role-passwords`: owners and grants
    /// recreate on restore.
    pub(crate) roles: ManifestFile,
    pub(crate) pg_dump_version: String,
    /// `server_version` of the server dumped.
    pub(crate) server_version: String,
    /// `pg_control_system()`'s system identifier: which cluster.
    pub(crate) system_identifier: String,
    /// RFC 3339, UTC.
    pub(crate) started_at: String,
    pub(crate) finished_at: String,
    pub(crate) dbops_version: String,
    /// Rows per table, read in pg_dump's own snapshot.
    pub(crate) tables: Vec<TableRows>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct ManifestFile {
    pub(crate) name: String,
    pub(crate) bytes: u64,
    pub(crate) sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct TableRows {
    pub(crate) schema: String,
    pub(crate) table: String,
    pub(crate) rows: i64,
    /// `true`: `count(*)`; `false`: the planner's estimate (`reltuples`, -1
    /// for a table never analysed).
    pub(crate) exact: bool,
}

/// The JSON Schema of `manifest.json`, committed as schemas/dump-manifest.schema.json.
pub fn schema_text() -> String {
    let schema = schemars::schema_for!(Manifest);
    let mut text = serde_json::to_string_pretty(&schema).expect("schemas serialize");
    text.push('\n');
    text
}

/// `HASH  NAME\n` per file, names sorted: what a directory-format dump's
/// digest is taken over (and what `sha256sum -c` reads).
pub(crate) fn listing(files: &[ManifestFile]) -> String {
    let mut sorted: Vec<&ManifestFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    sorted
        .iter()
        .map(|f| format!("{}  {}\n", f.sha256, f.name))
        .collect()
}
