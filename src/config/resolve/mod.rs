//! From the raw document to the desired state: secret references resolved, DSNs
//! parsed and cross-checked, defaults filled in. Every error names the key and
//! where it is written; none quotes a secret or a DSN. One file per section of
//! `dbops.toml`; shared helpers live here.

mod backup;
mod bucket;
mod grants;
mod pooler;
mod roles;
mod settings;

use backup::resolve_backup;
use bucket::resolve_bucket;
use grants::resolve_grants;
use pooler::resolve_pooler;
pub use roles::normalize_valid_until;
use roles::resolve_role;
use settings::resolve_settings;

use std::collections::{BTreeMap, BTreeSet};

use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::raw::{
    BackupTool, GrantOn, PlainOrSecret, RawBackup, RawBucket, RawConfig, RawPooler, RawReload,
    RawRole,
};
use super::secret_ref::SecretRef;
use super::source::SourceFile;
use crate::backup::desired::DesiredBackup;
use crate::backup::lint::lint as backup_lint;
use crate::backup::render::{self, SECRET_KEYS};
use crate::bucket::desired::DesiredBucket;
use crate::bucket::rule::{Rule, STORAGE_CLASSES};
use crate::dsn::Dsn;
use crate::error::{Error, Result};
use crate::grants::desired::{DesiredGrant, DesiredGrants, Scope};
use crate::grants::diff::address as grants_address;
use crate::grants::privilege::{self, noun};
use crate::managed_file::{resolve_owner, DesiredFile, Redaction};
use crate::plan::address_segment;
use crate::pooler::desired::{AdminConsole, DesiredPooler, Reload};
use crate::pooler::known as pooler_known;
use crate::pooler::lint as pooler_lint;
use crate::postgres::desired::{DesiredDatabase, DesiredPostgres, DesiredRole, RoleAttributes};
use crate::settings::archive;
use crate::settings::desired::{DesiredSetting, DesiredSettings, Origin};

/// Everything the file declares, resolved.
#[derive(Debug, Clone)]
pub struct DesiredState {
    pub admin: Dsn,
    pub postgres: DesiredPostgres,
    pub grants: DesiredGrants,
    pub settings: DesiredSettings,
    pub buckets: Vec<DesiredBucket>,
    pub backup: Option<DesiredBackup>,
    pub pooler: Option<DesiredPooler>,
}

/// PostgreSQL's identifier limit (NAMEDATALEN - 1), in bytes.
const MAX_NAME_BYTES: usize = 63;

pub fn resolve(raw: &RawConfig, source: &SourceFile) -> Result<(DesiredState, Vec<String>)> {
    let mut warnings = Vec::new();
    let admin_ref = &raw.postgres.admin;
    let admin = resolve_dsn(admin_ref, source, &["postgres", "admin"])?;

    let mut roles = BTreeMap::new();
    let mut databases: BTreeMap<String, DesiredDatabase> = BTreeMap::new();
    for (name, role) in &raw.roles {
        let desired = resolve_role(name, role, source, &admin, admin_ref)?;
        if let Some(dsn) = &desired.dsn {
            databases
                .entry(dsn.database.clone())
                .or_insert_with(|| DesiredDatabase {
                    name: dsn.database.clone(),
                    ..Default::default()
                })
                .connect
                .insert(name.clone());
        }
        roles.insert(name.clone(), desired);
    }
    for (name, database) in &raw.databases {
        let at = source.locate(&["databases", name]);
        check_name(name, "database", at.clone())?;
        let entry = databases
            .entry(name.clone())
            .or_insert_with(|| DesiredDatabase {
                name: name.clone(),
                ..Default::default()
            });
        if let Some(owner) = &database.owner {
            let at = source.locate(&["databases", name, "owner"]);
            check_name(owner, "owner", at)?;
            entry.owner = Some(owner.clone());
        }
    }
    let grants = resolve_grants(raw, source, &roles, &mut databases)?;
    let settings = resolve_settings(raw, source, &mut warnings)?;
    let mut buckets = Vec::new();
    for (name, bucket) in &raw.bucket {
        buckets.push(resolve_bucket(name, bucket, source)?);
    }
    let backup = match &raw.backup {
        Some(backup) => Some(resolve_backup(backup, &buckets, source, &mut warnings)?),
        None => None,
    };
    let pooler = match &raw.pooler {
        Some(pooler) => Some(resolve_pooler(raw, pooler, source, &admin, &roles)?),
        None => None,
    };
    let desired = DesiredState {
        admin,
        postgres: DesiredPostgres { roles, databases },
        grants,
        settings,
        buckets,
        backup,
        pooler,
    };
    Ok((desired, warnings))
}

pub(super) fn secret(
    reference: &SecretRef,
    source: &SourceFile,
    path: &[&str],
) -> Result<SecretString> {
    reference.resolve().map_err(|e| {
        let error = Error::new(format!("key `{}`: {e}", path.join("."))).at(source.locate(path));
        match reference {
            SecretRef::Env(name) => error.hint(format!("export `{name}` before running dbops")),
            SecretRef::File(_) => error.hint("check the path and that dbops may read it"),
        }
    })
}

pub(super) fn duration(
    text: &Option<String>,
    default: Duration,
    key: &str,
    source: &SourceFile,
) -> Result<Duration> {
    match text {
        None => Ok(default),
        Some(text) => humantime::parse_duration(text).map_err(|e| {
            Error::new(format!(
                "key `backup.{key}`: `{text}` is not a duration ({e})"
            ))
            .at(source.locate(&["backup", key]))
            .hint("write e.g. `26h`, `35d` or `10m`")
        }),
    }
}

/// A file's name as an address segment: dots allowed (`pgbouncer.ini`).
pub fn file_segment(path: &str) -> String {
    let name = std::path::Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string());
    if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        name
    } else {
        address_segment(&name)
    }
}

pub(super) fn resolve_dsn(
    reference: &SecretRef,
    source: &SourceFile,
    path: &[&str],
) -> Result<Dsn> {
    let at = source.locate(path);
    let key = path.join(".");
    let secret = reference.resolve().map_err(|e| {
        let error = Error::new(format!("key `{key}`: {e}")).at(at.clone());
        match reference {
            SecretRef::Env(name) => error.hint(format!("export `{name}` before running dbops")),
            SecretRef::File(_) => error.hint("check the path and that dbops may read it"),
        }
    })?;
    use secrecy::ExposeSecret;
    Dsn::parse(secret.expose_secret()).map_err(|e| {
        Error::new(format!(
            "key `{key}`: the DSN in `{}` is {}",
            reference.source_name(),
            e.to_string().trim_start_matches("the URL ")
        ))
        .at(at)
        .hint("expected `postgres://USER:PASSWORD@HOST:PORT/DATABASE`, with reserved characters in the user and password percent-encoded")
    })
}

pub(super) fn check_name(name: &str, what: &str, at: Option<crate::error::Location>) -> Result<()> {
    if name.is_empty() {
        return Err(Error::new(format!("a {what} name cannot be empty")).at(at));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(Error::new(format!(
            "{what} name `{name}` is {} bytes long; PostgreSQL allows at most {MAX_NAME_BYTES}",
            name.len()
        ))
        .at(at));
    }
    if name.contains('\0') {
        return Err(Error::new(format!("{what} name contains a NUL byte")).at(at));
    }
    Ok(())
}
