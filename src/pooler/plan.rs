//! The pooler's part of a plan: its files (rendered from the desired state and
//! the live SCRAM verifiers) compared with disk, and its running configuration
//! (from `SHOW CONFIG`) compared with what the files say. Pure.

use std::collections::{BTreeMap, BTreeSet};

use secrecy::ExposeSecret;
use serde::Serialize;

use super::admin::{same, Running};
use super::desired::{AdminConsole, DesiredPooler};
use super::known::RESTART_ONLY;
use super::render;
use crate::managed_file::{self, DesiredFile, LiveFile, Redaction};
use crate::plan::{Action, AttributeChange, Change, Operation as PlanOperation, Pending, Value};
use crate::postgres::scram::{new_verifier, Verifier};

/// The pooler's running configuration, when its admin console answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LivePooler {
    pub running: Option<BTreeMap<String, Running>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    Reload,
}

pub fn file_address(path: &std::path::Path) -> String {
    format!(
        "pooler.file.{}",
        crate::config::resolve::file_segment(&path.display().to_string())
    )
}

/// The verifier the auth file lists for the admin console user: the one on
/// disk when it still matches the password (never re-salted), else a new one.
fn admin_verifier(user: &str, password: &str, live_auth: Option<&LiveFile>) -> String {
    let existing = live_auth
        .and_then(|f| f.content.as_deref())
        .map(render::parse_auth_file)
        .unwrap_or_default();
    existing
        .into_iter()
        .find(|(name, _)| name == user)
        .map(|(_, secret)| secret)
        .filter(|secret| Verifier::parse(secret).is_some_and(|v| v.matches(password)))
        .unwrap_or_else(|| new_verifier(password))
}

/// Stands in, in plans only, for a verifier this apply will create; never written.
pub const PLACEHOLDER: &str = "SCRAM-SHA-256$(set by this apply)";

/// Every file of the pooler, by path.
pub fn paths(pooler: &DesiredPooler) -> Vec<&std::path::Path> {
    let mut paths = vec![pooler.config_path.as_path(), pooler.auth_path.as_path()];
    if matches!(pooler.admin, AdminConsole::Localhost { .. }) {
        paths.push(pooler.hba_path.as_path());
    }
    paths
}

/// The files to write, given each user's current verifier (`None`: unknown yet).
pub fn files(
    pooler: &DesiredPooler,
    verifiers: &BTreeMap<String, Option<String>>,
    live_auth: Option<&LiveFile>,
) -> Vec<DesiredFile> {
    let mut entries: Vec<(String, String)> = verifiers
        .iter()
        .filter_map(|(user, verifier)| verifier.clone().map(|v| (user.clone(), v)))
        .collect();
    if let AdminConsole::Localhost { user, password } = &pooler.admin {
        entries.push((
            user.clone(),
            admin_verifier(user, password.expose_secret(), live_auth),
        ));
    }
    let file =
        |path: &std::path::Path, content: String, mode: u32, redaction: Redaction| DesiredFile {
            address: file_address(path),
            path: path.to_path_buf(),
            content,
            mode,
            owner: pooler.owner.clone(),
            redaction,
        };
    let mut out = vec![file(
        &pooler.config_path,
        render::ini(pooler),
        pooler.mode,
        Redaction::Keys(vec![]),
    )];
    if let Some(hba) = render::hba(pooler) {
        out.push(file(
            &pooler.hba_path,
            hba,
            pooler.mode,
            Redaction::Keys(vec![]),
        ));
    }
    out.push(file(
        &pooler.auth_path,
        render::auth_file(&entries),
        0o600,
        Redaction::AuthFile,
    ));
    out
}

/// `[pgbouncer]` settings of an ini file on disk.
fn ini_settings(content: &str) -> BTreeMap<String, String> {
    let mut section = String::new();
    let mut out = BTreeMap::new();
    for line in content.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line.trim_matches(|c| c == '[' || c == ']').to_string();
        } else if section == "pgbouncer" && !line.starts_with(';') && !line.starts_with('#') {
            if let Some((key, value)) = line.split_once('=') {
                out.insert(key.trim().to_string(), value.trim().to_string());
            }
        }
    }
    out
}

pub struct PoolerDiff {
    pub changes: Vec<Change>,
    pub pending: Vec<Pending>,
}

/// `rotating`: users whose verifier this apply changes (new role or new password).
pub fn diff(
    pooler: &DesiredPooler,
    files: &[DesiredFile],
    live_files: &BTreeMap<String, LiveFile>,
    live: &LivePooler,
    rotating: &BTreeSet<String>,
) -> PoolerDiff {
    let mut changes = Vec::new();
    let mut pending = Vec::new();
    let wanted = pooler.effective_settings();
    for file in files {
        let missing = LiveFile::missing();
        let on_disk = live_files.get(&file.address).unwrap_or(&missing);
        let mut change = managed_file::diff(file, on_disk);
        if file.path == pooler.auth_path && !rotating.is_empty() {
            let change = change.get_or_insert_with(|| {
                Change::new(
                    file.address.clone(),
                    Action::Update,
                    PlanOperation::File(managed_file::Operation {
                        address: file.address.clone(),
                    }),
                )
            });
            if !change.attributes.iter().any(|a| a.sensitive) {
                change
                    .attributes
                    .push(AttributeChange::sensitive("secrets"));
            }
            let users: Vec<String> = rotating.iter().map(|u| format!("`{u}`")).collect();
            change.reason = Some(format!("new SCRAM verifier for {}", users.join(", ")));
        }
        if let Some(mut change) = change {
            if file.path == pooler.config_path {
                let old = on_disk
                    .content
                    .as_deref()
                    .map(ini_settings)
                    .unwrap_or_default();
                change.requires_restart = on_disk.exists
                    && RESTART_ONLY
                        .iter()
                        .any(|key| old.get(*key) != wanted.get(*key));
            }
            changes.push(change);
        }
    }
    if let Some(running) = &live.running {
        let files_change = changes
            .iter()
            .any(|c| c.address == file_address(&pooler.config_path));
        let mut stale = Vec::new();
        for (key, value) in &wanted {
            let Some(now) = running.get(key) else {
                continue;
            };
            if same(&now.value, value) {
                continue;
            }
            if now.changeable && !RESTART_ONLY.contains(&key.as_str()) {
                stale.push(AttributeChange::new(
                    key,
                    Some(Value::Text(now.value.clone())),
                    Some(Value::Text(value.clone())),
                ));
            } else if !files_change {
                pending.push(Pending {
                    address: format!("pooler.setting.{key}"),
                    current: Value::Text(now.value.clone()),
                    pending: Value::Text(value.clone()),
                });
            }
        }
        if !stale.is_empty() && !files_change {
            let mut change = Change::new(
                "pooler.running_config".into(),
                Action::Update,
                PlanOperation::Pooler(Operation::Reload),
            )
            .reason("pgbouncer.ini says otherwise but was not reloaded");
            change.attributes = stale;
            changes.push(change);
        }
    }
    PoolerDiff { changes, pending }
}
