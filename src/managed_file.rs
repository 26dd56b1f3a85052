//! Managed files: configuration dbops renders (the WAL-G environment,
//! pgbackrest.conf, pgbouncer.ini and its auth file) compared with what is on
//! disk, shown as a unified diff with secret values redacted, and written
//! atomically (temporary file, fsync, rename) with a restrictive mode and an
//! optional owner.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::bucket::diff::unified;
use crate::config::secret_ref::io_reason;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::files::write_atomic;
use crate::plan::{Action, AttributeChange, Change, Operation as PlanOperation, Value};

/// How secret values are found in a file, so no output shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redaction {
    /// `KEY=VALUE` or `KEY = VALUE` lines whose key is listed.
    Keys(Vec<String>),
    /// pgBouncer auth file: `"user" "secret"` lines; the second field is secret.
    AuthFile,
}

impl Redaction {
    /// The lines holding secrets, in full: to tell whether a secret changed.
    fn secret_lines(&self, content: &str) -> Vec<String> {
        let redacted = self.redact(content);
        content
            .lines()
            .zip(redacted.lines())
            .filter(|(a, b)| a != b)
            .map(|(a, _)| a.to_string())
            .collect()
    }

    pub fn redact(&self, content: &str) -> String {
        content
            .lines()
            .map(|line| match self {
                Redaction::Keys(keys) => match line.split_once('=') {
                    Some((key, _)) if keys.iter().any(|k| k == key.trim()) => {
                        format!("{}=(sensitive)", key.trim_end())
                    }
                    _ => line.to_string(),
                },
                Redaction::AuthFile => {
                    let trimmed = line.trim_start();
                    match trimmed.strip_prefix('"') {
                        Some(rest) => {
                            let user_end = rest.find('"').map(|i| i + 2).unwrap_or(trimmed.len());
                            format!("{} \"(sensitive)\"", &trimmed[..user_end])
                        }
                        None => line.to_string(),
                    }
                }
            })
            .map(|line| line + "\n")
            .collect()
    }
}

#[derive(Clone)]
pub struct DesiredFile {
    /// `backup.file.walg.env`, `pooler.file.pgbouncer.ini`.
    pub address: String,
    pub path: PathBuf,
    pub content: String,
    pub mode: u32,
    /// `(uid, gid, as written)`.
    pub owner: Option<(u32, u32, String)>,
    pub redaction: Redaction,
}

#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct LiveFile {
    pub exists: bool,
    /// Held for diffing; serialized only as a digest.
    #[serde(skip)]
    pub content: Option<String>,
    pub digest: Option<String>,
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

/// Redacted: a rendered file may hold secrets, and a debug print must not show them.
impl std::fmt::Debug for DesiredFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DesiredFile")
            .field("address", &self.address)
            .field("path", &self.path)
            .field("content", &self.redaction.redact(&self.content))
            .field("mode", &format_args!("{:04o}", self.mode))
            .field("owner", &self.owner)
            .finish()
    }
}

/// Without the content, which may hold secrets.
impl std::fmt::Debug for LiveFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveFile")
            .field("exists", &self.exists)
            .field("digest", &self.digest)
            .field("mode", &self.mode)
            .field("uid", &self.uid)
            .field("gid", &self.gid)
            .finish()
    }
}

impl LiveFile {
    pub fn missing() -> Self {
        Self {
            exists: false,
            content: None,
            digest: None,
            mode: None,
            uid: None,
            gid: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub address: String,
}

pub fn observe(path: &Path) -> Result<LiveFile> {
    let metadata = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(LiveFile::missing()),
        Err(e) => {
            return Err(Error::new(format!(
                "cannot read `{}`: {}",
                path.display(),
                io_reason(&e)
            )))
        }
    };
    let bytes = std::fs::read(path).map_err(|e| {
        Error::new(format!(
            "cannot read `{}`: {}",
            path.display(),
            io_reason(&e)
        ))
    })?;
    Ok(LiveFile {
        exists: true,
        digest: Some(crate::config::hex(&Sha256::digest(&bytes))),
        content: Some(String::from_utf8_lossy(&bytes).into_owned()),
        mode: Some(metadata.permissions().mode() & 0o7777),
        uid: Some(metadata.uid()),
        gid: Some(metadata.gid()),
    })
}

pub fn diff(desired: &DesiredFile, live: &LiveFile) -> Option<Change> {
    let operation = PlanOperation::File(Operation {
        address: desired.address.clone(),
    });
    let mode = |m: u32| Value::Text(format!("{m:04o}"));
    let redacted_after = desired.redaction.redact(&desired.content);
    if !live.exists {
        let mut change = Change::new(desired.address.clone(), Action::Create, operation)
            .attribute(AttributeChange::new(
                "path",
                None,
                Some(Value::Text(desired.path.display().to_string())),
            ))
            .attribute(AttributeChange::new("mode", None, Some(mode(desired.mode))));
        if let Some((_, _, owner)) = &desired.owner {
            change = change.attribute(AttributeChange::new(
                "owner",
                None,
                Some(Value::Text(owner.clone())),
            ));
        }
        change.diff = Some(unified("", &redacted_after));
        return Some(change);
    }
    let mut change = Change::new(desired.address.clone(), Action::Update, operation);
    let current = live.content.clone().unwrap_or_default();
    if current != desired.content {
        let redacted_before = desired.redaction.redact(&current);
        let secrets_differ = desired.redaction.secret_lines(&current)
            != desired.redaction.secret_lines(&desired.content);
        if secrets_differ {
            change = change.attribute(AttributeChange::sensitive("secrets"));
        }
        if redacted_before != redacted_after {
            change.diff = Some(unified(&redacted_before, &redacted_after));
            change = change.attribute(AttributeChange::new(
                "content",
                Some(Value::Text("(as on disk)".into())),
                Some(Value::Text("(rendered)".into())),
            ));
        } else if !secrets_differ {
            change = change.attribute(AttributeChange::new(
                "content",
                Some(Value::Text(
                    "(differs in line endings or whitespace)".into(),
                )),
                Some(Value::Text("(rendered)".into())),
            ));
        }
    }
    if live.mode != Some(desired.mode) {
        change = change.attribute(AttributeChange::new(
            "mode",
            live.mode.map(mode),
            Some(mode(desired.mode)),
        ));
    }
    if let Some((uid, gid, owner)) = &desired.owner {
        if live.uid != Some(*uid) || live.gid != Some(*gid) {
            change = change.attribute(AttributeChange::new(
                "owner",
                Some(Value::Text(format!(
                    "{}:{}",
                    live.uid.unwrap_or(0),
                    live.gid.unwrap_or(0)
                ))),
                Some(Value::Text(owner.clone())),
            ));
        }
    }
    (!change.attributes.is_empty()).then_some(change)
}

pub fn apply(files: &[DesiredFile], changes: &[Change]) -> Result<Vec<Event>> {
    let mut events = Vec::new();
    for change in changes {
        let PlanOperation::File(operation) = &change.operation else {
            continue;
        };
        // Each domain applies its own files.
        let Some(file) = files.iter().find(|f| f.address == operation.address) else {
            continue;
        };
        if let Some(parent) = file.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                Error::new(format!(
                    "cannot create directory `{}`: {}",
                    parent.display(),
                    io_reason(&e)
                ))
            })?;
        }
        write_atomic(&file.path, file.content.as_bytes(), file.mode)?;
        if let Some((uid, gid, owner)) = &file.owner {
            std::os::unix::fs::chown(&file.path, Some(*uid), Some(*gid)).map_err(|e| {
                Error::new(format!(
                    "cannot give `{}` to `{owner}`: {}",
                    file.path.display(),
                    io_reason(&e)
                ))
            })?;
        }
        events.push(Event::new("file.written", &change.address));
    }
    Ok(events)
}

/// `user` or `user:group` (names or numbers) to ids, from /etc/passwd and /etc/group.
pub fn resolve_owner(text: &str) -> std::result::Result<(u32, u32), String> {
    let (user, group) = match text.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (text, None),
    };
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let (uid, primary_gid) = match user.parse::<u32>() {
        Ok(uid) => (uid, None),
        Err(_) => passwd
            .lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.len() > 3 && f[0] == user)
            .and_then(|f| Some((f[2].parse().ok()?, f[3].parse().ok())))
            .ok_or_else(|| format!("no user `{user}` on this machine"))?,
    };
    let gid = match group {
        None => primary_gid.ok_or_else(|| format!("give the group too: `{user}:GROUP`"))?,
        Some(g) => match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => std::fs::read_to_string("/etc/group")
                .unwrap_or_default()
                .lines()
                .map(|l| l.split(':').collect::<Vec<_>>())
                .find(|f| f.len() > 2 && f[0] == g)
                .and_then(|f| f[2].parse().ok())
                .ok_or_else(|| format!("no group `{g}` on this machine"))?,
        },
    };
    Ok((uid, gid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_secret_keys_and_auth_file_verifiers() {
        let keys = Redaction::Keys(vec![
            "AWS_SECRET_ACCESS_KEY".into(),
            "repo1-s3-key-secret".into(),
        ]);
        assert_eq!(
            keys.redact("AWS_REGION=eu\nAWS_SECRET_ACCESS_KEY=hunter2\nrepo1-s3-key-secret = x\n"),
            "AWS_REGION=eu\nAWS_SECRET_ACCESS_KEY=(sensitive)\nrepo1-s3-key-secret=(sensitive)\n"
        );
        assert_eq!(
            Redaction::AuthFile.redact("\"app_user\" \"SCRAM-SHA-256$4096:abc$def:ghi\"\n"),
            "\"app_user\" \"(sensitive)\"\n"
        );
    }

    #[test]
    fn debug_output_redacts_content() {
        let file = DesiredFile {
            address: "backup.file.env".into(),
            path: "/tmp/env".into(),
            content: "AWS_SECRET_ACCESS_KEY=hunter2\n".into(),
            mode: 0o600,
            owner: None,
            redaction: Redaction::Keys(vec!["AWS_SECRET_ACCESS_KEY".into()]),
        };
        assert!(!format!("{file:?}").contains("hunter2"));
        let live = LiveFile {
            content: Some("hunter2".into()),
            ..LiveFile::missing()
        };
        assert!(!format!("{live:?}").contains("hunter2"));
    }

    #[test]
    fn resolves_owners() {
        assert_eq!(resolve_owner("0:0"), Ok((0, 0)));
        assert_eq!(resolve_owner("root"), Ok((0, 0)));
        assert!(resolve_owner("no-such-user-here").is_err());
    }
}
